/**
 * The Ray provisioner against a real Ray head (the venv's `ray`, dashboard on, so the Job
 * Submission API answers): `stratum serve --provisioner ray` launches its workers as Ray jobs,
 * they join over gRPC and train the penguins pipeline; a worker job stopped through Ray's API
 * mid-trial gives its trial back to the queue and the run still completes. The head is always
 * stopped afterwards (`ray stop --force`).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import {
  cli,
  cliJson,
  freePort,
  REPO,
  serve,
  stop,
  syntheticSpec,
  tempHome,
  waitFor,
  type Proc,
} from '../../cli/__tests__/harness';
import { RayJobsClient } from '../ray/jobs-client';

const RAY = join(REPO, '.venv', 'bin', 'ray');

interface TrialJson {
  id: string;
  state: string;
  attempt?: number;
  workerId?: string;
}
interface RunJson {
  id: string;
  state: string;
  trials: TrialJson[];
  best?: { metrics: Record<string, number> };
}
interface WorkerJson {
  id: string;
  name: string;
  labels?: Record<string, string>;
  runningTrialIds?: string[];
}

const terminal = (r: RunJson): boolean => ['STATE_SUCCEEDED', 'STATE_FAILED', 'STATE_CANCELLED'].includes(r.state);

function ray(args: string[]): { code: number; output: string } {
  const r = spawnSync(RAY, args, {
    encoding: 'utf8',
    timeout: 120000,
    env: { ...process.env, RAY_USAGE_STATS_ENABLED: '0' },
  });
  return { code: r.status ?? -1, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error?.message ?? ''}` };
}

describe('Ray provisioner on a real Ray head', () => {
  const tmp = mkdtempSync('/tmp/stratum-ray-');
  let dashboard = '';
  let home = '';
  let url = '';
  let server: Proc | undefined;

  beforeAll(async () => {
    const [gcs, dash, client, agent] = [await freePort(), await freePort(), await freePort(), await freePort()];
    // Fixed default ports (6379, 8265, 10001, 52365, workers 10002+) are all moved off, so the
    // head does not collide with anything else on the machine.
    const started = ray([
      'start',
      '--head',
      `--port=${gcs}`,
      `--dashboard-port=${dash}`,
      `--ray-client-server-port=${client}`,
      `--dashboard-agent-listen-port=${agent}`,
      '--min-worker-port=0',
      '--max-worker-port=0',
      '--num-cpus=2',
      '--resources={"stratum-tier-cloud": 4}',
      '--include-dashboard=true',
      // Less to start: no log monitor, a small object store (workers exchange nothing through it).
      '--include-log-monitor=false',
      '--object-store-memory=100000000',
      `--temp-dir=${join(tmp, 'ray')}`,
      '--disable-usage-stats',
    ]);
    if (started.code !== 0) throw new Error(`ray start failed:\n${started.output}`);
    dashboard = `http://127.0.0.1:${dash}`;
    const jobs = new RayJobsClient({ address: dashboard });
    await waitFor(
      'the Ray job API',
      () =>
        jobs.list().then(
          () => true,
          () => undefined,
        ),
      60000,
    );

    home = tempHome();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = await serve(home, port, [
      '--provisioner',
      'ray',
      '--ray-address',
      dashboard,
      '--ray-max-workers',
      '2',
      '--ray-worker-cpus',
      '1',
      '--ray-worker-memory',
      '1Gi',
      '--ray-tier',
      'cloud',
      '--lease-ttl',
      '2000',
    ]);
  }, 180000);

  afterAll(async () => {
    try {
      await stop(server);
    } finally {
      ray(['stop', '--force']);
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 120000);

  it('trains the penguins pipeline on workers it launched as Ray jobs, to the local run quality', () => {
    const r = cli(['run', join(REPO, 'examples', 'penguins.yaml'), '--json'], home, url);
    expect(r.code).toBe(0);
    const run = JSON.parse(r.stdout) as RunJson;
    expect(run.state).toBe('STATE_SUCCEEDED');
    expect(run.trials.every((t) => t.state === 'STATE_SUCCEEDED')).toBe(true);
    expect(run.best!.metrics.accuracy).toBeGreaterThanOrEqual(0.95);
    const workers = cliJson<{ workers?: WorkerJson[] }>(['workers'], home, url).workers ?? [];
    for (const t of run.trials) {
      const w = workers.find((x) => x.id === t.workerId);
      expect(w?.name).toMatch(/^stratum-ray-cloud-[0-9a-f]{8}$/);
      expect(w?.labels).toMatchObject({ provisioner: 'ray', 'ray-job': w!.name });
    }
  });

  it('re-queues the trial of a worker job stopped through Ray mid-trial, and the run completes', async () => {
    const spec = syntheticSpec(home, 'ray-stop', 4, 3000);
    const submitted = cli(['run', spec, '--detach', '--json'], home, url);
    expect(submitted.code).toBe(0);
    const runId = (JSON.parse(submitted.stdout) as RunJson).id;
    const victim = await waitFor('a Ray worker running a trial', () =>
      cliJson<{ workers?: WorkerJson[] }>(['workers'], home, url).workers?.find(
        (w) => (w.runningTrialIds ?? []).length > 0 && w.name.startsWith('stratum-ray-'),
      ),
    );
    const trialId = victim.runningTrialIds![0]!;
    expect(await new RayJobsClient({ address: dashboard }).stop(victim.name)).toBe(true);
    const run = await waitFor(
      'the run to finish',
      () => {
        const r = cliJson<RunJson>(['run-status', runId], home, url);
        return terminal(r) ? r : undefined;
      },
      120000,
    );
    expect(run.state).toBe('STATE_SUCCEEDED');
    expect(run.trials.every((t) => t.state === 'STATE_SUCCEEDED')).toBe(true);
    const again = run.trials.find((t) => t.id === trialId)!;
    expect(again.attempt).toBeGreaterThanOrEqual(2);
    expect(again.workerId).not.toBe(victim.id);
    // The control plane says what happened to the job, with Ray's status.
    await waitFor('the stop in the control plane log', () =>
      server!.output().includes(`"worker":"${victim.name}","rayStatus":"STOPPED"`) ? true : undefined,
    );
  });
});

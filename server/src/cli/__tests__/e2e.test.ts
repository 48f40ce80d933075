/**
 * End to end, as a user runs it: `stratum serve` with local workers, `stratum run` on the
 * examples, and faults (a worker killed with SIGKILL, the control plane killed and restarted)
 * in the middle of runs. Every process is real; they talk gRPC over loopback.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import {
  cli,
  cliJson,
  freePort,
  REPO,
  serve,
  startProcess,
  stop,
  syntheticSpec,
  tempHome,
  waitFor,
  type Proc,
  GENTOO,
} from './harness';

interface TrialJson {
  id: string;
  candidate: string;
  trainer: string;
  state: string;
  stateReason?: string;
  attempt?: number;
  workerId?: string;
  metrics?: Record<string, number>;
}
interface RunJson {
  id: string;
  state: string;
  stateReason?: string;
  trials: TrialJson[];
  best?: { modelName: string; metrics: Record<string, number>; candidate: string };
  baseline?: Record<string, number>;
}
interface ClusterJson {
  workers?: {
    id: string;
    name: string;
    status: string;
    versions?: Record<string, string>;
    runningTrialIds?: string[];
  }[];
}

const terminal = (r: RunJson) => ['STATE_SUCCEEDED', 'STATE_FAILED', 'STATE_CANCELLED'].includes(r.state);

describe('stratum serve + run (examples)', () => {
  let home: string;
  let url: string;
  let server: Proc;

  beforeAll(async () => {
    home = tempHome();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = await serve(home, port, ['--workers', '2']);
    await waitFor('2 workers', () =>
      cliJson<ClusterJson>(['workers'], home, url).workers?.length === 2 ? true : undefined,
    );
  });
  afterAll(() => stop(server));

  it('trains the penguins candidates in parallel and selects a model with held-out accuracy ≥ 0.95', () => {
    const r = cli(['run', join(REPO, 'examples', 'penguins.yaml'), '--json'], home, url);
    expect(r.code).toBe(0);
    const run = JSON.parse(r.stdout) as RunJson;
    expect(run.state).toBe('STATE_SUCCEEDED');
    expect(run.trials.length).toBeGreaterThanOrEqual(8);
    expect(new Set(run.trials.map((t) => t.trainer)).size).toBeGreaterThanOrEqual(3);
    expect(run.trials.every((t) => t.state === 'STATE_SUCCEEDED')).toBe(true);
    expect(run.best?.modelName).toBe('penguins');
    expect(run.best!.metrics.accuracy).toBeGreaterThanOrEqual(0.95);
    // The trials ran on both workers.
    expect(new Set(run.trials.map((t) => t.workerId)).size).toBe(2);
    const models = cliJson<{ name: string; version: number }[]>(['models'], home, url);
    expect(models.map((m) => m.name)).toContain('penguins');
  });

  it('prints the leaderboard for a human', () => {
    const runs = cliJson<RunJson[]>(['runs'], home, url);
    const r = cli(['run-status', runs[0]!.id.slice(0, 8)], home, url);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/rank\s+trial\s+candidate/);
    expect(r.stdout).toMatch(/★ best/);
    expect(r.stdout).toMatch(/baseline accuracy=/);
  });

  it('fits a regression on cars.json that beats predicting the mean', () => {
    const r = cli(['run', join(REPO, 'examples', 'cars.yaml'), '--json'], home, url);
    expect(r.code).toBe(0);
    const run = JSON.parse(r.stdout) as RunJson;
    expect(run.state).toBe('STATE_SUCCEEDED');
    expect(run.best!.metrics.rmse).toBeGreaterThan(0);
    expect(run.best!.metrics.rmse).toBeLessThan(run.baseline!.rmse!);
  });

  it('never writes a token or an inference key to a log line or an error message', async () => {
    await waitFor('the join log lines', () => (/worker joined/.test(server.output()) ? true : undefined), 20000);
    const secrets = ['api-token', 'join-token'].map((f) => readFileSync(join(home, f), 'utf8').trim());
    const wrong = cli(['runs', '--token', 'not-the-token'], home, url);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/unauthenticated: invalid API token/);
    // An inference key too: made at deploy time, sent through the gateway, right and wrong.
    const keyed = cli(
      [
        'deploy',
        'penguins',
        '--tier',
        'cloud',
        '--name',
        'keyed',
        '--min',
        '1',
        '--max',
        '1',
        '--require-key',
        '--json',
      ],
      home,
      url,
    );
    const { endpoint, apiKey } = JSON.parse(keyed.stdout) as { endpoint: string; apiKey: { key: string } };
    const predictUrl = `${endpoint}/v2/models/keyed/predict`;
    const ask = (headers: Record<string, string>) =>
      fetch(predictUrl, { method: 'POST', headers, body: JSON.stringify({ rows: [GENTOO] }) }).then((r) => r.status);
    const wrongKey = `sk-stratum-${'B'.repeat(43)}`;
    expect(await ask({ authorization: `Bearer ${apiKey.key}` })).toBe(200);
    expect(await ask({ 'x-api-key': wrongKey })).toBe(401);
    const undeployed = cli(['undeploy', 'keyed'], home, url);
    expect(undeployed.code).toBe(0);
    const logs = server.output() + wrong.stdout + wrong.stderr + keyed.stderr + undeployed.stdout + undeployed.stderr;
    for (const s of [...secrets, apiKey.key]) expect(logs).not.toContain(s);
    expect(logs).not.toContain('not-the-token');
    expect(logs).not.toContain(wrongKey);
  });

  it('refuses a malformed spec with the file, line and column', () => {
    const r = cli(['run', join(REPO, 'server', 'src', 'cli', '__tests__', 'fixtures', 'typo.yaml')], home, url);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/typo\.yaml:\d+:\d+: .*maxDepht.*did you mean "maxDepth"/);
  });
});

describe('faults', () => {
  it('a worker killed with SIGKILL mid-trial loses its lease and its trial runs again elsewhere', async () => {
    const home = tempHome();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const server = await serve(home, port, ['--workers', '2', '--lease-ttl', '1500']);
    try {
      const spec = syntheticSpec(home, 'chaos-worker', 6, 1500);
      const submitted = cli(['run', spec, '--detach', '--json'], home, url);
      expect(submitted.code).toBe(0);
      const runId = (JSON.parse(submitted.stdout) as RunJson).id;
      const victim = await waitFor('a running trial', () => {
        const c = cliJson<ClusterJson>(['workers'], home, url);
        return c.workers?.find((w) => (w.runningTrialIds ?? []).length > 0);
      });
      const killedTrial = victim.runningTrialIds![0]!;
      process.kill(Number(victim.versions!.pid), 'SIGKILL');
      const run = await waitFor(
        'the run to finish',
        () => {
          const r = cliJson<RunJson>(['run-status', runId], home, url);
          return terminal(r) ? r : undefined;
        },
        90000,
      );
      expect(run.state).toBe('STATE_SUCCEEDED');
      expect(run.trials).toHaveLength(6);
      expect(run.trials.every((t) => t.state === 'STATE_SUCCEEDED')).toBe(true);
      const again = run.trials.find((t) => t.id === killedTrial)!;
      expect(again.attempt).toBeGreaterThanOrEqual(2);
      expect(again.workerId).not.toBe(victim.id);
    } finally {
      await stop(server);
    }
  });

  it('a control plane killed with SIGKILL mid-run restarts from its database and the run completes', async () => {
    const home = tempHome();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    let server = await serve(home, port, ['--workers', '0', '--lease-ttl', '2000']);
    const workers: Proc[] = [];
    try {
      for (const name of ['ext-1', 'ext-2']) {
        workers.push(
          await startProcess(
            ['worker', '--join', url, '--cpus', '1', '--memory', '1Gi', '--name', name],
            home,
            /joined/,
          ),
        );
      }
      const spec = syntheticSpec(home, 'chaos-control-plane', 8, 1000);
      const runId = (JSON.parse(cli(['run', spec, '--detach', '--json'], home, url).stdout) as RunJson).id;
      await waitFor('two trials done', () => {
        const r = cliJson<RunJson>(['run-status', runId], home, url);
        return r.trials.filter((t) => t.state === 'STATE_SUCCEEDED').length >= 2 ? true : undefined;
      });
      await stop(server, 'SIGKILL');
      server = await serve(home, port, ['--workers', '0', '--lease-ttl', '2000']);
      const run = await waitFor(
        'the run to finish after the restart',
        () => {
          const r = cliJson<RunJson>(['run-status', runId], home, url);
          return terminal(r) ? r : undefined;
        },
        90000,
      );
      expect(run.state).toBe('STATE_SUCCEEDED');
      expect(run.trials).toHaveLength(8);
      expect(run.trials.every((t) => t.state === 'STATE_SUCCEEDED')).toBe(true);
      expect(Object.keys(run.trials[0]!.metrics ?? {})).toContain('accuracy');
    } finally {
      await Promise.all(workers.map((w) => stop(w)));
      await stop(server);
    }
  });
});

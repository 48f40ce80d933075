/**
 * The Ray provisioner's reconciler against the stand-in job API, with the control plane's
 * view and the clock in the test's hands: jobs follow the queue, carry what a worker needs,
 * report failures with their logs and are adopted after a restart.
 */
import pino from 'pino';
import { Writable } from 'node:stream';

import type { PlacementTrial } from '../../../scheduler/placement';
import { RayProvisioner, shellQuote, type RayProvisionerOptions } from '../../ray-provisioner';
import { RayJobsClient } from '../jobs-client';
import { DEFAULT_SCALING } from '../scaling';
import { startFakeRay, type FakeRay } from './fake-ray';

interface Harness {
  ray: FakeRay;
  provisioner: RayProvisioner;
  queue: PlacementTrial[];
  workers: { name: string; live: boolean; running: number }[];
  clock: { t: number; now(): number };
  logs: Record<string, unknown>[];
}

const trial = (id: string, gpus = 0): PlacementTrial => ({
  id,
  trainer: 'random-forest',
  resources: { cpus: 1, memoryMb: 512, gpus },
});

async function harness(over: Partial<RayProvisionerOptions> = {}, ray?: FakeRay): Promise<Harness> {
  const h = {
    ray: ray ?? (await startFakeRay()),
    queue: [] as PlacementTrial[],
    workers: [] as Harness['workers'],
    clock: { t: 1000, now: () => h.clock.t },
    logs: [] as Record<string, unknown>[],
  } as Harness;
  h.clock.now = () => h.clock.t;
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      h.logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  h.provisioner = new RayProvisioner({
    client: new RayJobsClient({ address: h.ray.url }),
    cluster: { pending: () => h.queue, workers: () => h.workers },
    joinUrl: 'http://127.0.0.1:7070',
    joinToken: 'join-secret',
    tokenInJob: true,
    workerCommand: ['/usr/bin/node', '/opt/stratum/server/dist/cli/main.js'],
    shape: { resources: { cpus: 2, memoryMb: 2048, gpus: 0 }, tier: 'edge', trainers: ['random-forest'] },
    tierResource: 'stratum-tier-edge',
    env: { STRATUM_EXTERNAL_TRAINERS: '{}' },
    scaling: { ...DEFAULT_SCALING, maxWorkers: 3, idleMs: 10000 },
    log: pino({ level: 'info' }, sink),
    clock: h.clock,
    pollMs: 3600000,
    ...over,
  });
  return h;
}

describe('RayProvisioner', () => {
  let h: Harness;
  afterEach(async () => {
    await h.ray.close();
  });

  it('submits worker jobs for the queue that join with the shape, tier resource and token', async () => {
    h = await harness();
    h.queue = [trial('t1'), trial('t2'), trial('t3')];
    await h.provisioner.tick();
    // Two slots per worker (2 cpus, trials of 1): two jobs for three trials.
    expect(h.ray.jobs.size).toBe(2);
    const [job] = [...h.ray.jobs.values()];
    expect(job!.submission_id).toMatch(/^stratum-ray-edge-[0-9a-f]{8}$/);
    expect(job!.entrypoint).toBe(
      `/usr/bin/node /opt/stratum/server/dist/cli/main.js worker --join http://127.0.0.1:7070 --name ${job!.submission_id} ` +
        `--tier edge --cpus 2 --memory 2048Mi --gpus 0 --label provisioner=ray,ray-job=${job!.submission_id}`,
    );
    expect(job).toMatchObject({
      entrypoint_num_cpus: 2,
      entrypoint_memory: 2048 * 2 ** 20,
      entrypoint_resources: { 'stratum-tier-edge': 1 },
      runtime_env: { env_vars: { STRATUM_JOIN_TOKEN: 'join-secret', STRATUM_EXTERNAL_TRAINERS: '{}' } },
      metadata: { 'stratum.control-plane': 'http://127.0.0.1:7070' },
    });
    // The same queue on the next tick: the jobs on their way cover it.
    await h.provisioner.tick();
    expect(h.ray.jobs.size).toBe(2);
  });

  it('leaves the token out of the job when the nodes provide it', async () => {
    h = await harness({ tokenInJob: false });
    h.queue = [trial('t1')];
    await h.provisioner.tick();
    expect([...h.ray.jobs.values()][0]!.runtime_env.env_vars).toEqual({ STRATUM_EXTERNAL_TRAINERS: '{}' });
  });

  it('ignores queued trials its workers could never run', async () => {
    h = await harness();
    h.queue = [trial('gpu', 1), { ...trial('tfjs'), trainer: 'tfjs' }];
    await h.provisioner.tick();
    expect(h.ray.jobs.size).toBe(0);
  });

  it('stops a worker job after the idle period and reports the end as expected', async () => {
    h = await harness();
    h.queue = [trial('t1')];
    await h.provisioner.tick();
    const name = h.provisioner.jobNames()[0]!;
    h.ray.jobs.get(name)!.status = 'RUNNING';
    h.queue = [];
    h.workers = [{ name, live: true, running: 1 }];
    await h.provisioner.tick();
    h.workers = [{ name, live: true, running: 0 }];
    h.clock.t += 1000;
    await h.provisioner.tick();
    h.clock.t += 10000;
    await h.provisioner.tick();
    expect(h.ray.jobs.get(name)!.status).toBe('STOPPED');
    await h.provisioner.tick();
    expect(h.provisioner.jobNames()).toEqual([]);
    expect(h.logs.find((l) => l.msg === 'Ray worker job stopped')).toMatchObject({
      worker: name,
      reason: 'idle for 10 s',
    });
  });

  it('logs a failed worker job with its logs, then backs off before starting another', async () => {
    h = await harness();
    h.queue = [trial('t1')];
    await h.provisioner.tick();
    const name = h.provisioner.jobNames()[0]!;
    Object.assign(h.ray.jobs.get(name)!, {
      status: 'FAILED',
      message: 'Job entrypoint command failed with exit code 1',
      logs: 'Error: Cannot find module /opt/stratum/server/dist/cli/main.js\n',
    });
    await h.provisioner.tick();
    const failure = h.logs.find((l) => l.msg === 'Ray worker job failed');
    expect(failure).toMatchObject({ level: 50, worker: name, rayStatus: 'FAILED' });
    expect(failure!.logs).toContain('Cannot find module');
    expect(h.ray.jobs.size).toBe(1);
    h.clock.t += DEFAULT_SCALING.failureBackoffMs + 1;
    await h.provisioner.tick();
    expect(h.ray.jobs.size).toBe(2);
  });

  it('warns when a job is stopped outside Stratum and replaces it while the queue needs it', async () => {
    h = await harness();
    h.queue = [trial('t1')];
    await h.provisioner.tick();
    const name = h.provisioner.jobNames()[0]!;
    h.ray.jobs.get(name)!.status = 'STOPPED';
    await h.provisioner.tick();
    expect(h.logs.find((l) => l.worker === name && l.level === 40)?.msg).toMatch(/ended outside Stratum \(STOPPED\)/);
    expect(h.provisioner.jobNames()).toHaveLength(1);
    expect(h.provisioner.jobNames()[0]).not.toBe(name);
  });

  it('adopts its running jobs after a restart and stops them all on shutdown', async () => {
    h = await harness();
    h.queue = [trial('t1'), trial('t2'), trial('t3')];
    await h.provisioner.tick();
    const second = await harness({}, h.ray);
    second.queue = h.queue;
    await second.provisioner.start();
    expect(second.provisioner.jobNames().sort()).toEqual(h.provisioner.jobNames().sort());
    expect(h.ray.jobs.size).toBe(2);
    await second.provisioner.stopAll();
    expect([...h.ray.jobs.values()].every((j) => j.status === 'STOPPED')).toBe(true);
  });

  it('says once when Ray leaves a job waiting for resources, and keeps counting it as capacity', async () => {
    h = await harness();
    h.queue = [trial('t1')];
    await h.provisioner.tick();
    h.clock.t += DEFAULT_SCALING.joinTimeoutMs + 1;
    await h.provisioner.tick();
    await h.provisioner.tick();
    const told = h.logs.filter((l) => l.msg === 'Ray has not started this worker job yet');
    expect(told).toHaveLength(1);
    expect(told[0]!.rayMessage).toBe('Job has not started yet.');
    expect(h.ray.jobs.size).toBe(1);
  });

  it('keeps going when the job API is down, and says so once', async () => {
    h = await harness();
    const down = await harness({ client: new RayJobsClient({ address: 'http://127.0.0.1:9' }) }, h.ray);
    down.queue = [trial('t1')];
    await down.provisioner.tick();
    await down.provisioner.tick();
    expect(down.logs.filter((l) => l.msg === 'Ray job API call failed; retrying')).toHaveLength(1);
  });
});

describe('shellQuote', () => {
  it('quotes only what the shell would split or expand', () => {
    expect(shellQuote('--memory')).toBe('--memory');
    expect(shellQuote('http://h:1/x')).toBe('http://h:1/x');
    expect(shellQuote('/opt/my app/main.js')).toBe(`'/opt/my app/main.js'`);
    expect(shellQuote(`it's $HOME`)).toBe(`'it'\\''s $HOME'`);
  });
});

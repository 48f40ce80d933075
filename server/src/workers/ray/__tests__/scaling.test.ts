import { backoffMs, decideScaling, DEFAULT_SCALING, type ScalingInput, type WorkerJob } from '../scaling';

const config = { ...DEFAULT_SCALING, maxWorkers: 4, idleMs: 10000, joinTimeoutMs: 60000 };
const NOW = 1_000_000;

function input(over: Partial<ScalingInput>): ScalingInput {
  return { now: NOW, queued: 0, slotsPerWorker: 1, jobs: [], failures: { count: 0, lastAt: 0 }, ...over };
}

const joined = (name: string, running: number, idleFor = 0): WorkerJob => ({
  name,
  phase: 'joined',
  running,
  idleSince: NOW - idleFor,
});

describe('decideScaling', () => {
  it('starts one job per queued trial, up to the maximum', () => {
    expect(decideScaling(input({ queued: 3 }), config)).toEqual({ start: 3, stop: [] });
    expect(decideScaling(input({ queued: 9 }), config)).toEqual({ start: 4, stop: [] });
  });

  it('packs queued trials into the slots of a worker', () => {
    expect(decideScaling(input({ queued: 5, slotsPerWorker: 2 }), config).start).toBe(3);
  });

  it('counts jobs on their way and free slots of joined workers as capacity', () => {
    const jobs: WorkerJob[] = [
      { name: 'p', phase: 'pending', running: 0, idleSince: NOW },
      { name: 's', phase: 'starting', running: 0, idleSince: NOW, startedAt: NOW },
      joined('busy', 1),
    ];
    expect(decideScaling(input({ queued: 2, jobs }), config).start).toBe(0);
    expect(decideScaling(input({ queued: 3, jobs }), config).start).toBe(1);
    // Four jobs is the maximum: no more, however long the queue.
    expect(decideScaling(input({ queued: 50, jobs: [...jobs, joined('b2', 1)] }), config).start).toBe(0);
  });

  it('stops workers idle for the idle period once the queue is empty, never busy ones', () => {
    const jobs = [joined('a', 0, 20000), joined('b', 0, 5000), joined('c', 1)];
    expect(decideScaling(input({ jobs }), config)).toEqual({
      start: 0,
      stop: [{ name: 'a', reason: 'idle for 20 s' }],
    });
  });

  it('keeps idle workers the queue still needs', () => {
    const jobs = [joined('a', 0, 20000), joined('b', 0, 30000)];
    expect(decideScaling(input({ queued: 1, jobs }), config).stop.map((s) => s.name)).toEqual(['b']);
    expect(decideScaling(input({ queued: 2, jobs }), config).stop).toEqual([]);
  });

  it('stops jobs Ray has not started before idle joined ones', () => {
    const jobs: WorkerJob[] = [
      joined('j', 0, 50000),
      { name: 'p', phase: 'pending', running: 0, idleSince: NOW - 20000 },
    ];
    const d = decideScaling(input({ jobs }), { ...config, minWorkers: 1 });
    expect(d.stop.map((s) => s.name)).toEqual(['p']);
  });

  it('keeps the minimum and starts up to it with an empty queue', () => {
    expect(decideScaling(input({ jobs: [joined('a', 0, 99999)] }), { ...config, minWorkers: 1 })).toEqual({
      start: 0,
      stop: [],
    });
    expect(decideScaling(input({}), { ...config, minWorkers: 2 }).start).toBe(2);
  });

  it('stops a job whose worker never joined within the join timeout, and replaces it', () => {
    const stuck: WorkerJob = {
      name: 's',
      phase: 'starting',
      running: 0,
      idleSince: NOW - 70000,
      startedAt: NOW - 61000,
    };
    const d = decideScaling(input({ queued: 1, jobs: [stuck] }), config);
    expect(d.stop).toEqual([{ name: 's', reason: 'worker did not join within 60 s' }]);
    expect(d.start).toBe(1);
  });

  it('waits after failed jobs, longer with each failure in a row', () => {
    const failures = { count: 3, lastAt: NOW - 5000 };
    expect(backoffMs(config, 3)).toBe(8000);
    expect(decideScaling(input({ queued: 2, failures }), config).start).toBe(0);
    expect(decideScaling(input({ queued: 2, failures, now: NOW + 3001 }), config).start).toBe(2);
    expect(backoffMs(config, 40)).toBe(config.maxFailureBackoffMs);
  });
});

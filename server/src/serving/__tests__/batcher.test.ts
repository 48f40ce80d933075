import { batchKey, DynamicBatcher, IDLE_STATE, nextBatch, type BatchJob, type Queued } from '../batcher';
import type { ModelRunner } from '../model-runtime';
import { ServingError, type Tensor } from '../types';

const ON = { maxBatchSize: 8, maxQueueDelayMs: 5 };
const q = (rows: number, enqueuedAt: number, key: string | null = 'k'): Queued => ({ rows, key, enqueuedAt });

const HOT = { busy: false, lastFull: true, flush: false };

describe('nextBatch (the policy)', () => {
  it('is idle on an empty queue, and while a batch runs', () => {
    expect(nextBatch([], 0, ON)).toEqual({ kind: 'idle' });
    expect(nextBatch([q(1, 0), q(1, 0)], 100, ON, { ...IDLE_STATE, busy: true })).toEqual({ kind: 'idle' });
  });

  it('is work-conserving: the model idle, a partial batch runs at once, however long the delay', () => {
    expect(nextBatch([q(1, 100)], 100, ON)).toEqual({ kind: 'run', picks: [0] });
    expect(nextBatch([q(1, 100), q(2, 101)], 101, { maxBatchSize: 32, maxQueueDelayMs: 60000 })).toEqual({
      kind: 'run',
      picks: [0, 1],
    });
  });

  it('right after a full batch, holds a partial one until it fills or the oldest has waited maxQueueDelayMs', () => {
    expect(nextBatch([q(1, 100), q(2, 101)], 102, ON, HOT)).toEqual({ kind: 'wait', ms: 3 });
    expect(nextBatch([q(1, 100), q(2, 101)], 105, ON, HOT)).toEqual({ kind: 'run', picks: [0, 1] });
    expect(nextBatch([q(4, 100), q(4, 101)], 101, ON, HOT)).toEqual({ kind: 'run', picks: [0, 1] });
    expect(nextBatch([q(1, 100)], 100, { maxBatchSize: 8, maxQueueDelayMs: 0 }, HOT)).toEqual({
      kind: 'run',
      picks: [0],
    });
  });

  it('runs at once when the batch is full, taking requests in arrival order while the rows fit', () => {
    expect(nextBatch([q(3, 0), q(5, 0), q(1, 0)], 0, ON, HOT)).toEqual({ kind: 'run', picks: [0, 1] });
    expect(nextBatch([q(3, 0), q(6, 0), q(1, 0)], 0, ON, HOT)).toEqual({ kind: 'run', picks: [0] });
  });

  it('merges only requests with the same key, skipping others without losing their place', () => {
    expect(nextBatch([q(4, 0), q(4, 0, 'other'), q(4, 0)], 0, ON)).toEqual({ kind: 'run', picks: [0, 2] });
  });

  it('runs unbatchable requests and requests of maxBatchSize rows or more alone, without waiting', () => {
    expect(nextBatch([q(1, 0, null), q(1, 0)], 0, ON, HOT)).toEqual({ kind: 'run', picks: [0] });
    expect(nextBatch([q(20, 0), q(1, 0)], 0, ON, HOT)).toEqual({ kind: 'run', picks: [0] });
  });

  it('with batching off (1 row) runs every request alone and at once', () => {
    const OFF = { maxBatchSize: 1, maxQueueDelayMs: 0 };
    expect(nextBatch([q(1, 0), q(1, 0)], 0, OFF, HOT)).toEqual({ kind: 'run', picks: [0] });
    expect(nextBatch([q(4, 0), q(1, 0)], 0, OFF)).toEqual({ kind: 'run', picks: [0] });
  });

  it('flushes without waiting while draining', () => {
    expect(nextBatch([q(1, 100), q(1, 100)], 100, ON, { ...HOT, flush: true })).toEqual({
      kind: 'run',
      picks: [0, 1],
    });
  });
});

const row = (name: string, values: number[]): Tensor => ({
  name,
  datatype: 'FP32',
  shape: [1, values.length],
  data: Float32Array.from(values),
});
const job = (...values: number[]): BatchJob => ({ inputs: [row('x', values)], outputs: ['y'] });

describe('batchKey', () => {
  it('ignores the first dimension and input order, and separates different outputs', () => {
    const a = batchKey({ inputs: [row('a', [1]), row('b', [1, 2])], outputs: ['y'] });
    const b = batchKey({ inputs: [row('b', [3, 4]), row('a', [5])], outputs: ['y'] });
    expect(a).toEqual(b);
    expect(batchKey({ inputs: [row('a', [1]), row('b', [1, 2])], outputs: ['z'] }).key).not.toBe(a.key);
  });

  it('marks scalars and inputs that disagree on rows as unbatchable', () => {
    expect(
      batchKey({ inputs: [{ name: 's', datatype: 'FP32', shape: [], data: new Float32Array(1) }], outputs: [] }).key,
    ).toBeNull();
    expect(
      batchKey({ inputs: [row('a', [1]), { ...row('b', [1, 2, 3, 4]), shape: [2, 2] }], outputs: [] }).key,
    ).toBeNull();
  });
});

/** y = 2x, per element; records every batch it ran. */
function doubler(): ModelRunner & { batches: number[][] } {
  const batches: number[][] = [];
  return {
    batches,
    async run(inputs) {
      const x = inputs[0]!;
      batches.push([x.shape[0]!]);
      return [{ name: 'y', datatype: 'FP32', shape: x.shape, data: (x.data as Float32Array).map((v) => 2 * v) }];
    },
  };
}

describe('DynamicBatcher', () => {
  it('merges requests into one run and gives each its own rows back', async () => {
    const runner = doubler();
    const seen: [number, number][] = [];
    const b = new DynamicBatcher(
      runner,
      { maxBatchSize: 4, maxQueueDelayMs: 60000, maxQueueSize: 100 },
      { onBatch: (r, n) => seen.push([r, n]) },
    );
    const answers = await Promise.all([job(1, 2), job(3, 4), job(5, 6), job(7, 8)].map((j) => b.enqueue(j)));
    expect(answers.map((a) => Array.from(a[0]!.data as Float32Array))).toEqual([
      [2, 4],
      [6, 8],
      [10, 12],
      [14, 16],
    ]);
    expect(answers[2]![0]!.shape).toEqual([1, 2]);
    expect(seen).toEqual([[4, 4]]);
  });

  it('runs the requests queued in one turn together, without waiting out the delay', async () => {
    const runner = doubler();
    const b = new DynamicBatcher(runner, { maxBatchSize: 8, maxQueueDelayMs: 60000, maxQueueSize: 100 });
    await Promise.all([b.enqueue(job(1)), b.enqueue(job(2)), b.enqueue(job(3))]);
    expect(runner.batches).toEqual([[3]]);
  });

  it('with batching off runs each request alone', async () => {
    const runner = doubler();
    const b = new DynamicBatcher(runner, { maxBatchSize: 1, maxQueueDelayMs: 0, maxQueueSize: 100 });
    await Promise.all([1, 2, 3].map((v) => b.enqueue(job(v))));
    expect(runner.batches).toEqual([[1], [1], [1]]);
  });

  it('refuses requests past maxQueueSize with an UNAVAILABLE error, and answers the rest', async () => {
    const b = new DynamicBatcher(doubler(), { maxBatchSize: 1, maxQueueDelayMs: 0, maxQueueSize: 2 });
    const results = await Promise.allSettled([1, 2, 3, 4].map((v) => b.enqueue(job(v))));
    // All four come in one turn, before the first can leave the queue: two wait, two are refused.
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected']);
    const reason = (results[3] as PromiseRejectedResult).reason as ServingError;
    expect(reason.code).toBe('unavailable');
    expect(reason.message).toBe('the request queue is full (2 requests waiting, limit 2); retry later');
  });

  it('stop() answers everything queued (without waiting out the delay), then refuses new requests', async () => {
    const runner = doubler();
    const b = new DynamicBatcher(runner, { maxBatchSize: 8, maxQueueDelayMs: 60000, maxQueueSize: 100 });
    const pending = [b.enqueue(job(1)), b.enqueue(job(2))];
    expect(b.inflightCount()).toBe(2);
    await b.stop();
    expect((await Promise.all(pending)).map((a) => (a[0]!.data as Float32Array)[0])).toEqual([2, 4]);
    expect(b.inflightCount()).toBe(0);
    await expect(b.enqueue(job(3))).rejects.toMatchObject({
      code: 'unavailable',
      message: 'the replica is draining and takes no new requests',
    });
  });

  it('fails every request of a batch whose run fails, and keeps serving', async () => {
    let fail = true;
    const runner: ModelRunner = {
      async run(inputs) {
        if (fail) throw new ServingError('internal', 'boom');
        return [{ ...inputs[0]!, name: 'y' }];
      },
    };
    const b = new DynamicBatcher(runner, { maxBatchSize: 2, maxQueueDelayMs: 60000, maxQueueSize: 10 });
    const results = await Promise.allSettled([b.enqueue(job(1)), b.enqueue(job(2))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await b.stop();
  });

  it('refuses to split outputs that do not follow the batch dimension', async () => {
    const runner: ModelRunner = {
      run: async () => [{ name: 'y', datatype: 'FP32', shape: [1], data: new Float32Array(1) }],
    };
    const b = new DynamicBatcher(runner, { maxBatchSize: 2, maxQueueDelayMs: 60000, maxQueueSize: 10 });
    await expect(Promise.all([b.enqueue(job(1)), b.enqueue(job(2))])).rejects.toThrow(
      'output "y" has first dimension 1 for a batch of 2 rows, so batched results cannot be split; serve this model with maxBatchSize 1',
    );
  });
});

/** A batcher whose turns, clock, timers and model runs the test steps by hand. */
function stepped(maxBatchSize: number, maxQueueDelayMs: number) {
  let clock = 0;
  const deferred: (() => void)[] = [];
  const timers: { fn: () => void; at: number; live: boolean }[] = [];
  const runs: { rows: number; finish: () => void }[] = [];
  const runner: ModelRunner = {
    run: (inputs) =>
      new Promise((resolve) => {
        const x = inputs[0]!;
        runs.push({ rows: x.shape[0]!, finish: () => resolve([{ ...x, name: 'y' }]) });
      }),
  };
  const b = new DynamicBatcher(
    runner,
    { maxBatchSize, maxQueueDelayMs, maxQueueSize: 100 },
    {
      now: () => clock,
      defer: (fn) => deferred.push(fn),
      setTimer: (fn, ms) => {
        const t = { fn, at: clock + ms, live: true };
        timers.push(t);
        return { cancel: () => (t.live = false) };
      },
    },
  );
  const settle = () => new Promise((r) => setImmediate(r));
  return {
    b,
    runs,
    /** Ends the event-loop turn: the deferred decisions run. */
    async turn() {
      await settle();
      for (let fn = deferred.shift(); fn; fn = deferred.shift()) fn();
      await settle();
    },
    /** Finishes the oldest unfinished run and ends the turn. */
    async finish(i: number) {
      runs[i]!.finish();
      await settle();
      await this.turn();
    },
    /** Moves the clock and fires the timers that are due. */
    async advance(ms: number) {
      clock += ms;
      for (const t of timers.splice(0)) {
        if (t.live && t.at <= clock) t.fn();
        else if (t.live) timers.push(t);
      }
      await settle();
    },
    pendingTimers: () => timers.filter((t) => t.live).map((t) => t.at - clock),
  };
}

describe('DynamicBatcher, work-conserving', () => {
  it('runs a lone request at once when the model is idle, whatever the delay', async () => {
    const s = stepped(8, 60000);
    const answer = s.b.enqueue(job(1));
    await s.turn();
    expect(s.runs.map((r) => r.rows)).toEqual([1]);
    expect(s.pendingTimers()).toEqual([]);
    await s.finish(0);
    expect((await answer)[0]!.data).toEqual(Float32Array.from([1]));
  });

  it('queues what arrives during a run and sends it as the next batch the moment the run ends', async () => {
    const s = stepped(8, 5);
    const all = [s.b.enqueue(job(1))];
    await s.turn();
    for (let v = 2; v <= 6; v++) all.push(s.b.enqueue(job(v)));
    await s.turn();
    expect(s.runs.map((r) => r.rows)).toEqual([1]);
    expect(s.b.inflightCount()).toBe(6);
    await s.finish(0);
    expect(s.runs.map((r) => r.rows)).toEqual([1, 5]);
    expect(s.pendingTimers()).toEqual([]);
    await s.finish(1);
    expect((await Promise.all(all)).map((a) => a[0]!.data[0])).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('splits a backlog larger than maxBatchSize into full batches', async () => {
    const s = stepped(4, 0);
    s.b.enqueue(job(0));
    await s.turn();
    for (let v = 1; v <= 10; v++) void s.b.enqueue(job(v));
    await s.finish(0);
    await s.finish(1);
    await s.finish(2);
    expect(s.runs.map((r) => r.rows)).toEqual([1, 4, 4, 2]);
  });

  it('after a full batch, holds a partial one for at most maxQueueDelayMs, and runs it early if it fills', async () => {
    const s = stepped(4, 5);
    void s.b.enqueue(job(0));
    await s.turn();
    for (let v = 1; v <= 4; v++) void s.b.enqueue(job(v));
    await s.finish(0); // the 4 queued go as a full batch
    void s.b.enqueue(job(5));
    void s.b.enqueue(job(6));
    await s.finish(1);
    expect(s.runs.map((r) => r.rows)).toEqual([1, 4]);
    expect(s.pendingTimers()).toEqual([5]);
    await s.advance(4);
    expect(s.runs.map((r) => r.rows)).toEqual([1, 4]);
    await s.advance(1);
    expect(s.runs.map((r) => r.rows)).toEqual([1, 4, 2]);
    // That batch was partial, so the next request runs at once again.
    await s.finish(2);
    void s.b.enqueue(job(7));
    await s.turn();
    expect(s.runs.map((r) => r.rows)).toEqual([1, 4, 2, 1]);

    const t = stepped(4, 5);
    void t.b.enqueue(job(0));
    await t.turn();
    for (let v = 1; v <= 4; v++) void t.b.enqueue(job(v));
    await t.finish(0);
    void t.b.enqueue(job(5));
    await t.finish(1);
    expect(t.pendingTimers()).toEqual([5]);
    for (let v = 6; v <= 8; v++) void t.b.enqueue(job(v));
    await t.turn();
    expect(t.runs.map((r) => r.rows)).toEqual([1, 4, 4]);
    expect(t.pendingTimers()).toEqual([]);
  });

  it('with batching off runs one request per run, the next as soon as one ends', async () => {
    const s = stepped(1, 0);
    for (let v = 1; v <= 3; v++) void s.b.enqueue(job(v));
    await s.turn();
    expect(s.runs.map((r) => r.rows)).toEqual([1]);
    await s.finish(0);
    await s.finish(1);
    expect(s.runs.map((r) => r.rows)).toEqual([1, 1, 1]);
  });
});

import { batchKey, DynamicBatcher, nextBatch, type BatchJob, type Queued } from '../batcher';
import type { ModelRunner } from '../model-runtime';
import { ServingError, type Tensor } from '../types';

const ON = { maxBatchSize: 8, maxQueueDelayMs: 5 };
const q = (rows: number, enqueuedAt: number, key: string | null = 'k'): Queued => ({ rows, key, enqueuedAt });

describe('nextBatch (the policy)', () => {
  it('is idle on an empty queue', () => {
    expect(nextBatch([], 0, ON)).toEqual({ kind: 'idle' });
  });

  it('waits for more requests until the oldest has waited maxQueueDelayMs', () => {
    expect(nextBatch([q(1, 100), q(2, 101)], 102, ON)).toEqual({ kind: 'wait', ms: 3 });
    expect(nextBatch([q(1, 100), q(2, 101)], 105, ON)).toEqual({ kind: 'run', picks: [0, 1] });
  });

  it('runs at once when the batch is full, taking requests in arrival order while the rows fit', () => {
    expect(nextBatch([q(3, 0), q(5, 0), q(1, 0)], 0, ON)).toEqual({ kind: 'run', picks: [0, 1] });
    expect(nextBatch([q(3, 0), q(6, 0), q(1, 0)], 0, ON)).toEqual({ kind: 'run', picks: [0] });
  });

  it('merges only requests with the same key, skipping others without losing their place', () => {
    expect(nextBatch([q(4, 0), q(4, 0, 'other'), q(4, 0)], 0, ON)).toEqual({ kind: 'run', picks: [0, 2] });
  });

  it('runs unbatchable requests and requests of maxBatchSize rows or more alone, without waiting', () => {
    expect(nextBatch([q(1, 0, null), q(1, 0)], 0, ON)).toEqual({ kind: 'run', picks: [0] });
    expect(nextBatch([q(20, 0), q(1, 0)], 0, ON)).toEqual({ kind: 'run', picks: [0] });
  });

  it('with batching off (1 row, no delay) runs every request alone and at once', () => {
    const OFF = { maxBatchSize: 1, maxQueueDelayMs: 0 };
    expect(nextBatch([q(1, 0), q(1, 0)], 0, OFF)).toEqual({ kind: 'run', picks: [0] });
    expect(nextBatch([q(4, 0), q(1, 0)], 0, OFF)).toEqual({ kind: 'run', picks: [0] });
  });

  it('flushes without waiting while draining', () => {
    expect(nextBatch([q(1, 100), q(1, 100)], 100, ON, true)).toEqual({ kind: 'run', picks: [0, 1] });
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

  it('sends a partial batch once the oldest request has waited the delay', async () => {
    const runner = doubler();
    const b = new DynamicBatcher(runner, { maxBatchSize: 8, maxQueueDelayMs: 5, maxQueueSize: 100 });
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
    // The first leaves the queue at once to run; two more wait; the fourth finds the queue full.
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
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

/**
 * Dynamic batching as Triton does it: requests queue; a batch leaves when it holds
 * `maxBatchSize` rows or when its oldest request has waited `maxQueueDelayMs`. Requests join
 * a batch only when their tensors agree on everything but the first dimension and ask for the
 * same outputs. Batching off is `maxBatchSize: 1, maxQueueDelayMs: 0` of this same batcher.
 *
 * `nextBatch` is the policy, a pure function of the queue and the time; `DynamicBatcher` is
 * the shell that keeps the queue, runs one batch at a time and splits the results back.
 */
import type { ModelRunner } from './model-runtime';
import { concatRows, sliceRows } from './tensor-data';
import { ServingError, type BatchingOptions, type Tensor } from './types';

export interface BatchJob {
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly string[];
}

export interface Queued {
  readonly rows: number;
  /** Requests with equal keys can share a batch; null: this request always runs alone. */
  readonly key: string | null;
  readonly enqueuedAt: number;
}

export type Decision = { kind: 'run'; picks: number[] } | { kind: 'wait'; ms: number } | { kind: 'idle' };

/**
 * What to do now: run the oldest request with the compatible requests behind it (in arrival
 * order, while the rows fit), or wait until the oldest request's delay is spent. `flush`
 * (draining) runs whatever is queued without waiting.
 */
export function nextBatch(queue: readonly Queued[], now: number, opts: BatchingOptions, flush = false): Decision {
  const head = queue[0];
  if (!head) return { kind: 'idle' };
  if (head.key === null || head.rows >= opts.maxBatchSize) return { kind: 'run', picks: [0] };
  const picks = [0];
  let rows = head.rows;
  let full = false;
  for (let i = 1; i < queue.length; i++) {
    const q = queue[i]!;
    if (q.key !== head.key) continue;
    if (rows + q.rows > opts.maxBatchSize) {
      full = true;
      break;
    }
    picks.push(i);
    rows += q.rows;
    if (rows === opts.maxBatchSize) {
      full = true;
      break;
    }
  }
  const waited = now - head.enqueuedAt;
  if (full || flush || waited >= opts.maxQueueDelayMs) return { kind: 'run', picks };
  return { kind: 'wait', ms: opts.maxQueueDelayMs - waited };
}

/** The batch key of a job: input names, datatypes and trailing dims, and the outputs. */
export function batchKey(job: BatchJob): { rows: number; key: string | null } {
  const rows = job.inputs[0]?.shape[0];
  if (rows === undefined || job.inputs.some((t) => t.shape.length === 0 || t.shape[0] !== rows)) {
    return { rows: rows ?? 1, key: null };
  }
  const inputs = [...job.inputs]
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((t) => `${t.name}:${t.datatype}:${t.shape.slice(1).join('x')}`);
  return { rows, key: `${inputs.join(',')}->${job.outputs.join(',')}` };
}

interface Pending extends Queued {
  readonly job: BatchJob;
  readonly resolve: (outputs: Tensor[]) => void;
  readonly reject: (e: unknown) => void;
}

export interface BatcherOptions extends BatchingOptions {
  /** Requests that may wait at once; more are refused with an UNAVAILABLE error. */
  readonly maxQueueSize: number;
}

export interface BatcherHooks {
  /** Called as each batch starts: its rows and how many requests it merged. */
  readonly onBatch?: (rows: number, requests: number) => void;
  readonly now?: () => number;
}

/** Triton's data-plane interface: the replica only enqueues, counts and stops. */
export interface Batcher {
  enqueue(job: BatchJob): Promise<Tensor[]>;
  /** Requests accepted and not yet answered (queued or running). */
  inflightCount(): number;
  /** Refuses new requests, answers the queued ones, then resolves. */
  stop(): Promise<void>;
}

export class DynamicBatcher implements Batcher {
  private readonly queue: Pending[] = [];
  private running = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopping = false;
  private drained: (() => void)[] = [];
  private readonly now: () => number;

  constructor(
    private readonly runner: ModelRunner,
    private readonly options: BatcherOptions,
    private readonly hooks: BatcherHooks = {},
  ) {
    this.now = hooks.now ?? (() => performance.now());
  }

  enqueue(job: BatchJob): Promise<Tensor[]> {
    if (this.stopping)
      return Promise.reject(new ServingError('unavailable', 'the replica is draining and takes no new requests'));
    if (this.queue.length >= this.options.maxQueueSize) {
      return Promise.reject(
        new ServingError(
          'unavailable',
          `the request queue is full (${this.queue.length} requests waiting, limit ${this.options.maxQueueSize}); retry later`,
        ),
      );
    }
    return new Promise<Tensor[]>((resolve, reject) => {
      this.queue.push({ ...batchKey(job), job, enqueuedAt: this.now(), resolve, reject });
      this.pump();
    });
  }

  inflightCount(): number {
    return this.queue.length + this.running;
  }

  queueDepth(): number {
    return this.queue.length;
  }

  stop(): Promise<void> {
    this.stopping = true;
    if (this.inflightCount() === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.drained.push(resolve);
      this.pump();
    });
  }

  private pump(): void {
    if (this.running > 0) return;
    const decision = nextBatch(this.queue, this.now(), this.options, this.stopping);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (decision.kind === 'idle') {
      if (this.stopping) for (const done of this.drained.splice(0)) done();
    } else if (decision.kind === 'wait') {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.pump();
      }, decision.ms);
    } else {
      const picked = new Set(decision.picks);
      const batch = decision.picks.map((i) => this.queue[i]!);
      for (let i = this.queue.length - 1; i >= 0; i--) if (picked.has(i)) this.queue.splice(i, 1);
      this.running = batch.length;
      void this.execute(batch).finally(() => {
        this.running = 0;
        this.pump();
      });
    }
  }

  private async execute(batch: Pending[]): Promise<void> {
    const rows = batch.reduce((n, p) => n + p.rows, 0);
    this.hooks.onBatch?.(rows, batch.length);
    const { job } = batch[0]!;
    try {
      if (batch.length === 1) {
        batch[0]!.resolve(await this.runner.run(job.inputs, job.outputs));
        return;
      }
      const inputs = job.inputs.map((t) => concatRows(batch.map((p) => p.job.inputs.find((u) => u.name === t.name)!)));
      const outputs = await this.runner.run(inputs, job.outputs);
      const odd = outputs.find((o) => o.shape[0] !== rows);
      if (odd) {
        throw new ServingError(
          'internal',
          `output "${odd.name}" has first dimension ${odd.shape[0] ?? 'none'} for a batch of ${rows} rows, so batched results cannot be split; serve this model with maxBatchSize 1`,
        );
      }
      let start = 0;
      for (const p of batch) {
        p.resolve(outputs.map((o) => sliceRows(o, start, p.rows)));
        start += p.rows;
      }
    } catch (e) {
      for (const p of batch) p.reject(e);
    }
  }
}

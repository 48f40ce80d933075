/**
 * Dynamic batching, work-conserving: the model never idles while a request waits.
 *
 * - The model idle: queued requests run at once, as one batch of the oldest request and the
 *   compatible ones behind it (up to `maxBatchSize` rows). The decision is taken at the end
 *   of the event-loop turn that queued the request, so requests whose bytes came in together
 *   go together, at no cost in latency.
 * - A batch running (one at a time: onnxruntime holds the event loop while it computes):
 *   arrivals accumulate and go as the next batch the moment it ends. Batches grow with the
 *   load by themselves: 1 row at low concurrency, up to `maxBatchSize` under saturation.
 * - `maxQueueDelayMs` is only an upper bound on holding a partial batch back, and the batcher
 *   holds one only where that helps: right after a full batch (demand exceeded a batch, so
 *   more rows are coming), never at low load, where waiting would only add latency.
 *
 * Requests join a batch only when their tensors agree on everything but the first dimension
 * and ask for the same outputs. Batching off is `maxBatchSize: 1` of this same batcher.
 *
 * `nextBatch` is the policy, a pure function of the queue, the time and the batcher's state;
 * `DynamicBatcher` is the shell that keeps the queue, runs one batch at a time and splits the
 * results back.
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

/** What the policy knows besides the queue and the time. */
export interface BatcherState {
  /** A batch is running: nothing starts until it ends. */
  readonly busy: boolean;
  /** The last batch held `maxBatchSize` rows: the load exceeds a batch, so waiting can fill the next one. */
  readonly lastFull: boolean;
  /** Draining: run whatever is queued without waiting. */
  readonly flush: boolean;
}

export const IDLE_STATE: BatcherState = { busy: false, lastFull: false, flush: false };

export type Decision = { kind: 'run'; picks: number[] } | { kind: 'wait'; ms: number } | { kind: 'idle' };

/**
 * What to do now: nothing while a batch runs; otherwise run the oldest request with the
 * compatible requests behind it (in arrival order, while the rows fit) at once, unless the
 * last batch was full, this one is not, and the oldest request has waited less than
 * `maxQueueDelayMs`: then wait out the rest of that delay (or until the batch fills).
 */
export function nextBatch(
  queue: readonly Queued[],
  now: number,
  opts: BatchingOptions,
  state: BatcherState = IDLE_STATE,
): Decision {
  const head = queue[0];
  if (!head || state.busy) return { kind: 'idle' };
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
  if (full || state.flush || !state.lastFull || waited >= opts.maxQueueDelayMs) return { kind: 'run', picks };
  return { kind: 'wait', ms: opts.maxQueueDelayMs - waited };
}

/** The batch key of a job: input names, datatypes and trailing dims, and the outputs. */
export function batchKey(job: BatchJob): { rows: number; key: string | null } {
  const rows = job.inputs[0]?.shape[0];
  if (rows === undefined || job.inputs.some((t) => t.shape.length === 0 || t.shape[0] !== rows)) {
    return { rows: rows ?? 1, key: null };
  }
  const part = (t: Tensor): string => `${t.name}:${t.datatype}:${t.shape.slice(1).join('x')}`;
  // One input, the usual case, needs no sorting (this runs for every request).
  const inputs =
    job.inputs.length === 1
      ? part(job.inputs[0]!)
      : [...job.inputs]
          .sort((a, b) => (a.name < b.name ? -1 : 1))
          .map(part)
          .join(',');
  return { rows, key: `${inputs}->${job.outputs.join(',')}` };
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
  /** Runs the batching decision after the current event-loop turn's I/O. Default setImmediate. */
  readonly defer?: (fn: () => void) => void;
  /** Schedules a held batch's deadline. Default setTimeout / clearTimeout. */
  readonly setTimer?: (fn: () => void, ms: number) => { cancel(): void };
}

/** Triton's data-plane interface: the replica only enqueues, counts and stops. */
export interface Batcher {
  enqueue(job: BatchJob): Promise<Tensor[]>;
  /** Requests accepted and not yet answered (queued or running). */
  inflightCount(): number;
  /** Refuses new requests, answers the queued ones, then resolves. */
  stop(): Promise<void>;
}

const defaultTimer = (fn: () => void, ms: number): { cancel(): void } => {
  const t = setTimeout(fn, ms);
  return { cancel: () => clearTimeout(t) };
};

export class DynamicBatcher implements Batcher {
  private readonly queue: Pending[] = [];
  private running = 0;
  private lastFull = false;
  private scheduled = false;
  private timer: { cancel(): void } | null = null;
  private stopping = false;
  private drained: (() => void)[] = [];
  private readonly now: () => number;
  private readonly defer: (fn: () => void) => void;
  private readonly setTimer: (fn: () => void, ms: number) => { cancel(): void };

  constructor(
    private readonly runner: ModelRunner,
    private readonly options: BatcherOptions,
    private readonly hooks: BatcherHooks = {},
  ) {
    this.now = hooks.now ?? (() => performance.now());
    this.defer = hooks.defer ?? setImmediate;
    this.setTimer = hooks.setTimer ?? defaultTimer;
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
      const { rows, key } = batchKey(job);
      this.queue.push({ rows, key, job, enqueuedAt: this.now(), resolve, reject });
      this.schedule();
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
      this.schedule();
    });
  }

  /** One decision per turn, however many requests the turn queued. */
  private schedule(): void {
    if (this.scheduled || this.running > 0) return;
    this.scheduled = true;
    this.defer(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    const state = { busy: this.running > 0, lastFull: this.lastFull, flush: this.stopping };
    const decision = nextBatch(this.queue, this.now(), this.options, state);
    if (state.busy) return;
    this.timer?.cancel();
    this.timer = null;
    if (decision.kind === 'idle') {
      if (this.stopping) for (const done of this.drained.splice(0)) done();
    } else if (decision.kind === 'wait') {
      this.timer = this.setTimer(() => {
        this.timer = null;
        this.pump();
      }, decision.ms);
    } else {
      const { picks } = decision;
      let batch: Pending[];
      if (picks[picks.length - 1] === picks.length - 1) {
        // The usual case, the head of the queue: one splice.
        batch = this.queue.splice(0, picks.length);
      } else {
        const picked = new Set(picks);
        batch = picks.map((i) => this.queue[i]!);
        for (let i = this.queue.length - 1; i >= 0; i--) if (picked.has(i)) this.queue.splice(i, 1);
      }
      this.running = batch.length;
      const rows = batch.reduce((n, p) => n + p.rows, 0);
      // A lone request of maxBatchSize rows or more says nothing about the load.
      this.lastFull = batch.length > 1 && rows >= this.options.maxBatchSize;
      void this.execute(batch, rows).finally(() => {
        this.running = 0;
        // What queued during the run goes next, decided after this turn's I/O so late arrivals join.
        this.schedule();
      });
    }
  }

  private async execute(batch: Pending[], rows: number): Promise<void> {
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

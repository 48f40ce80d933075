/**
 * Load generation for every benchmark: closed loop (a fixed number of callers, each sending
 * its next request when the last one answers) and open loop (requests due at a fixed rate,
 * each one's latency counted from when it was due, not from when it could be sent, so a
 * stalled server is charged for the requests it held up: no coordinated omission).
 *
 * Latencies go into an HDR-style log-linear histogram: each power of two is split into 128
 * linear steps, so any recorded value is reported within 1/128 (< 0.8%) of itself.
 */

const SUB_BITS = 7;
const HALF = 1 << SUB_BITS;
/** Values are integer nanoseconds up to 2^45 ns (about 9.8 hours); larger ones are clamped. */
const MAX_BITS = 45;
const MAX_VALUE = 2 ** MAX_BITS - 1;

function floorLog2(v: number): number {
  let b = Math.floor(Math.log2(v));
  if (2 ** b > v) b--;
  else if (2 ** (b + 1) <= v) b++;
  return b;
}

/** Counts of values by log-linear bucket. Values are non-negative integers (nanoseconds here). */
export class Histogram {
  private readonly counts = new Float64Array((MAX_BITS - SUB_BITS + 2) * HALF);
  private total = 0;
  private sum = 0;
  private lowest = Infinity;
  private highest = 0;

  static index(value: number): number {
    if (value < 2 * HALF) return value;
    const bucket = floorLog2(value) - SUB_BITS;
    return (bucket + 1) * HALF + (Math.floor(value / 2 ** bucket) - HALF);
  }

  /** The largest value that lands in the same slot as `index`. */
  static highestOf(index: number): number {
    if (index < 2 * HALF) return index;
    const bucket = Math.floor(index / HALF) - 1;
    return (HALF + (index % HALF)) * 2 ** bucket + 2 ** bucket - 1;
  }

  record(value: number): void {
    const v = Math.min(MAX_VALUE, Math.max(0, Math.round(value)));
    this.counts[Histogram.index(v)]!++;
    this.total++;
    this.sum += v;
    this.lowest = Math.min(this.lowest, v);
    this.highest = Math.max(this.highest, v);
  }

  merge(other: Histogram): void {
    other.counts.forEach((c, i) => (this.counts[i]! += c));
    this.total += other.total;
    this.sum += other.sum;
    this.lowest = Math.min(this.lowest, other.lowest);
    this.highest = Math.max(this.highest, other.highest);
  }

  get count(): number {
    return this.total;
  }

  get max(): number {
    return this.total ? this.highest : 0;
  }

  get min(): number {
    return this.total ? this.lowest : 0;
  }

  get mean(): number {
    return this.total ? this.sum / this.total : 0;
  }

  /** The value at or below which `p` percent of the recorded values lie (within 1/128). */
  percentile(p: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil((Math.min(100, Math.max(0, p)) / 100) * this.total));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(Histogram.highestOf(i), this.highest);
    }
    return this.highest;
  }
}

export interface LatencySummary {
  readonly count: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export function summarize(h: Histogram): LatencySummary {
  const ms = (ns: number) => ns / 1e6;
  return {
    count: h.count,
    meanMs: ms(h.mean),
    p50Ms: ms(h.percentile(50)),
    p90Ms: ms(h.percentile(90)),
    p99Ms: ms(h.percentile(99)),
    maxMs: ms(h.max),
  };
}

/** One request; a rejection counts as an error (its latency is not recorded). */
export type Task = () => Promise<unknown>;

export interface LoadResult {
  readonly mode: 'closed' | 'open';
  readonly concurrency?: number;
  readonly ratePerSec?: number;
  /** Successful requests completed in the measured window. */
  readonly requests: number;
  readonly errors: number;
  readonly firstError?: string;
  readonly seconds: number;
  /** Successful requests per second over the measured window. */
  readonly throughput: number;
  readonly latency: LatencySummary;
  /**
   * Open loop: how late the client itself sent requests (from due to handed to the socket
   * pool; a busy client event loop, not the server). When this is a large part of the
   * latency, the load test measured the client, not the deployment.
   */
  readonly sendLag?: LatencySummary;
}

const now = (): number => Number(process.hrtime.bigint());

export interface ClosedLoopOptions {
  readonly concurrency: number;
  readonly durationMs: number;
  /** Requests started before this much time has passed are not measured. */
  readonly warmupMs?: number;
}

export async function closedLoop(task: Task, o: ClosedLoopOptions): Promise<LoadResult> {
  const start = now();
  const measureFrom = start + (o.warmupMs ?? 0) * 1e6;
  const end = measureFrom + o.durationMs * 1e6;
  const h = new Histogram();
  let errors = 0;
  let firstError: string | undefined;
  const caller = async (): Promise<void> => {
    for (let t0 = now(); t0 < end; t0 = now()) {
      try {
        await task();
        if (t0 >= measureFrom) h.record(now() - t0);
      } catch (e) {
        if (t0 >= measureFrom) errors++;
        firstError ??= e instanceof Error ? e.message : String(e);
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, caller));
  const seconds = (Math.max(now(), end) - measureFrom) / 1e9;
  return {
    mode: 'closed',
    concurrency: o.concurrency,
    requests: h.count,
    errors,
    ...(firstError ? { firstError } : {}),
    seconds,
    throughput: h.count / seconds,
    latency: summarize(h),
  };
}

export interface OpenLoopOptions {
  readonly ratePerSec: number;
  readonly durationMs: number;
  readonly warmupMs?: number;
  /** Requests in flight at once; due requests beyond it wait client-side (their wait is counted). */
  readonly maxOutstanding?: number;
  /**
   * Random arrivals (a Poisson process at the rate; exponential gaps drawn from this seeded
   * generator, uniform in [0, 1)) instead of evenly spaced ones: what independent users send.
   */
  readonly poisson?: () => number;
  /** Also records each measured latency (ns) here, so windows can be merged into one percentile. */
  readonly into?: Histogram;
}

export async function openLoop(task: Task, o: OpenLoopOptions): Promise<LoadResult> {
  const interval = 1e9 / o.ratePerSec;
  const start = now();
  const measureFrom = start + (o.warmupMs ?? 0) * 1e6;
  const end = measureFrom + o.durationMs * 1e6;
  const cap = o.maxOutstanding ?? 4096;
  const h = new Histogram();
  const lag = new Histogram();
  const backlog: number[] = [];
  let outstanding = 0;
  let errors = 0;
  let firstError: string | undefined;
  let nextDue = start;
  const advance = (): number => (nextDue += o.poisson ? -Math.log(1 - o.poisson()) * interval : interval);
  let lastDone = start;
  let finished: () => void = () => {};
  const done = new Promise<void>((resolve) => (finished = resolve));

  const send = (due: number): void => {
    outstanding++;
    if (due >= measureFrom) lag.record(now() - due);
    task()
      .then(
        () => {
          lastDone = now();
          if (due >= measureFrom) {
            h.record(lastDone - due);
            o.into?.record(lastDone - due);
          }
        },
        (e: unknown) => {
          if (due >= measureFrom) errors++;
          firstError ??= e instanceof Error ? e.message : String(e);
        },
      )
      .finally(() => {
        outstanding--;
        const queued = backlog.shift();
        if (queued !== undefined) send(queued);
        else if (outstanding === 0 && nextDue >= end) finished();
      });
  };

  const tick = (): void => {
    const t = now();
    for (; nextDue <= t && nextDue < end; advance()) {
      if (outstanding < cap) send(nextDue);
      else backlog.push(nextDue);
    }
    if (nextDue < end) setTimeout(tick, Math.max(0, (nextDue - now()) / 1e6 - 0.05));
    else if (outstanding === 0) finished();
  };
  tick();
  await done;
  const seconds = (Math.max(lastDone, end) - measureFrom) / 1e9;
  return {
    mode: 'open',
    ratePerSec: o.ratePerSec,
    requests: h.count,
    errors,
    ...(firstError ? { firstError } : {}),
    seconds,
    throughput: h.count / seconds,
    latency: summarize(h),
    sendLag: summarize(lag),
  };
}

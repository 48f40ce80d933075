/**
 * One deployment's load over a report window, as proto `DeploymentLoad` carries it, with the
 * clock passed in: arrivals (rps), the time-weighted mean of requests in flight (answered or
 * buffered), latency percentiles of the answers, failures, retries, and the first-response
 * latency of requests that waited for a cold start. snapshot() closes the window and opens the next.
 */

export interface LoadSnapshot {
  readonly deployment: string;
  readonly windowSeconds: number;
  readonly requestsPerSecond: number;
  readonly inflight: number;
  readonly buffered: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  readonly failures: number;
  readonly retries: number;
  readonly coldStartMs: number[];
}

/** Nearest-rank percentile of ascending values; 0 for none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** Cold-start samples kept per window (a burst of buffered requests reports its first ones). */
export const MAX_COLD_STARTS = 64;

export class LoadWindow {
  private started: number;
  private lastChange: number;
  private area = 0;
  private inflightNow = 0;
  private bufferedNow = 0;
  private requests = 0;
  private failures = 0;
  private retries = 0;
  private latencies: number[] = [];
  private coldStarts: number[] = [];

  constructor(
    readonly deployment: string,
    now: number,
  ) {
    this.started = now;
    this.lastChange = now;
  }

  get inflight(): number {
    return this.inflightNow;
  }

  get buffered(): number {
    return this.bufferedNow;
  }

  /** Nothing in flight or waiting, and nothing counted in this window. */
  idle(): boolean {
    return this.inflightNow === 0 && this.bufferedNow === 0 && this.requests === 0 && this.coldStarts.length === 0;
  }

  private advance(now: number): void {
    if (now > this.lastChange) this.area += this.inflightNow * (now - this.lastChange);
    this.lastChange = Math.max(this.lastChange, now);
  }

  arrive(now: number): void {
    this.advance(now);
    this.inflightNow++;
    this.requests++;
  }

  /** The request is over: answered (with its latency) or failed. */
  depart(now: number, o: { latencyMs: number; failed: boolean; coldStart: boolean }): void {
    this.advance(now);
    this.inflightNow = Math.max(0, this.inflightNow - 1);
    this.latencies.push(o.latencyMs);
    if (o.failed) this.failures++;
    if (o.coldStart && !o.failed && this.coldStarts.length < MAX_COLD_STARTS) this.coldStarts.push(o.latencyMs);
  }

  retry(): void {
    this.retries++;
  }

  /** One more (+1) or one fewer (-1) request waiting for a ready replica; the new count. */
  buffer(delta: 1 | -1): number {
    this.bufferedNow = Math.max(0, this.bufferedNow + delta);
    return this.bufferedNow;
  }

  /** Cold starts of a report that did not reach the control plane go into the next one. */
  restoreColdStarts(values: readonly number[]): void {
    this.coldStarts = [...values, ...this.coldStarts].slice(0, MAX_COLD_STARTS);
  }

  snapshot(now: number): LoadSnapshot {
    this.advance(now);
    const ms = Math.max(1, now - this.started);
    const sorted = this.latencies.sort((a, b) => a - b);
    const snap: LoadSnapshot = {
      deployment: this.deployment,
      windowSeconds: ms / 1000,
      requestsPerSecond: this.requests / (ms / 1000),
      inflight: this.area / ms,
      buffered: this.bufferedNow,
      p50Ms: percentile(sorted, 50),
      p95Ms: percentile(sorted, 95),
      p99Ms: percentile(sorted, 99),
      requests: this.requests,
      failures: this.failures,
      retries: this.retries,
      coldStartMs: this.coldStarts,
    };
    this.started = now;
    this.area = 0;
    this.requests = this.failures = this.retries = 0;
    this.latencies = [];
    this.coldStarts = [];
    return snap;
  }
}

/**
 * One point of a sweep: a closed loop at a fixed concurrency, measured in successive windows
 * until the last few agree (perf_analyzer's stability rule) or the point's time is spent.
 * A window closes at the first completion after `windowMs`, and only once it holds at least
 * two requests per caller, so a slow model still gets meaningful windows.
 */
import { Agent, request } from 'node:http';

import { Histogram, openLoop, type Task } from './loadgen';
import type { RequestBody } from './inputs';
import type { OpenLoopPoint, ProfilePoint, SweepSettings } from './types';

export interface WindowStats {
  readonly throughput: number;
  readonly meanMs: number;
}

/** True when the last `count` windows each lie within `tolerance` of their mean, in throughput and mean latency. */
export function isStable(windows: readonly WindowStats[], count: number, tolerance: number): boolean {
  if (windows.length < count) return false;
  const tail = windows.slice(-count);
  const within = (values: number[]): boolean => {
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    return mean > 0 && values.every((v) => Math.abs(v - mean) <= tolerance * mean);
  };
  return within(tail.map((w) => w.throughput)) && within(tail.map((w) => w.meanMs));
}

interface Window extends WindowStats {
  readonly hist: Histogram;
  readonly seconds: number;
}

const now = (): number => performance.now();
const ms = (ns: number): number => ns / 1e6;

/** A point's reading: the last `stableWindows` windows when stable (else all), merged, and their rate. */
function kept(
  windows: readonly Window[],
  stable: boolean,
  stableWindows: number,
): { merged: Histogram; throughput: number } {
  const used = stable ? windows.slice(-stableWindows) : windows;
  const merged = new Histogram();
  for (const w of used) merged.merge(w.hist);
  const seconds = used.reduce((s, w) => s + w.seconds, 0);
  return { merged, throughput: seconds > 0 ? merged.count / seconds : 0 };
}

export type PointTiming = Pick<SweepSettings, 'warmupMs' | 'windowMs' | 'stableWindows' | 'tolerance' | 'maxPointMs'>;

/** Measures `task` at `concurrency` until stable; the numbers come from the stable windows (or all, if never stable). */
export async function measurePoint(
  task: Task,
  concurrency: number,
  t: PointTiming,
): Promise<Omit<ProfilePoint, 'batchSize'>> {
  const start = now();
  const deadline = start + t.warmupMs + t.maxPointMs;
  const windows: Window[] = [];
  let current = new Histogram();
  let windowStart = start + t.warmupMs;
  let errors = 0;
  let firstError: string | undefined;
  let done = false;
  const closeWindow = (at: number): void => {
    const seconds = (at - windowStart) / 1000;
    windows.push({ hist: current, seconds, throughput: current.count / seconds, meanMs: current.mean / 1e6 });
    current = new Histogram();
    windowStart = at;
    if (isStable(windows, t.stableWindows, t.tolerance)) done = true;
  };
  const caller = async (): Promise<void> => {
    while (!done && now() < deadline) {
      const t0 = now();
      try {
        await task();
        const t1 = now();
        if (t0 < windowStart && windows.length === 0) continue; // warm-up
        current.record((t1 - t0) * 1e6);
        if (t1 - windowStart >= t.windowMs && current.count >= 2 * concurrency && !done) closeWindow(t1);
      } catch (e) {
        if (t0 >= start + t.warmupMs) errors++;
        firstError ??= e instanceof Error ? e.message : String(e);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
  const stable = done;
  if (!stable && current.count > 0) closeWindow(Math.max(now(), windowStart + 1));
  const { merged, throughput } = kept(windows, stable, t.stableWindows);
  return {
    concurrency,
    requests: merged.count,
    errors,
    ...(firstError ? { firstError } : {}),
    throughput,
    meanMs: ms(merged.mean),
    p50Ms: ms(merged.percentile(50)),
    p95Ms: ms(merged.percentile(95)),
    p99Ms: ms(merged.percentile(99)),
    maxMs: ms(merged.max),
    windows: windows.length,
    stable,
    measuredMs: now() - start,
  };
}

/** Requests an open-loop point's p99 should rest on: its ten highest then make the tail. */
export const OPEN_LOOP_MIN_REQUESTS = 1000;

/**
 * One open-loop point: requests due at random (Poisson, from `random`) at `rate`, latency
 * counted from when each was due. One unmeasured window first (the queue reaching its steady
 * state), then windows until the last `stableWindows` agree in throughput and mean latency and
 * hold OPEN_LOOP_MIN_REQUESTS between them, or 3 × `maxPointMs` is spent: a p99 needs far more
 * samples than a throughput does. A window is long enough to expect 50 arrivals, and at least
 * twice `windowMs`, because each one drains before the next starts.
 */
export async function measureOpenLoopPoint(
  task: Task,
  rate: number,
  t: PointTiming,
  random: () => number,
): Promise<Omit<OpenLoopPoint, 'batchSize'>> {
  if (!(rate > 0)) throw new RangeError(`an open-loop point needs a rate > 0 req/s, got ${rate}`);
  const start = now();
  const windowMs = Math.max(2 * t.windowMs, (50 * 1000) / rate);
  const run = (durationMs: number, into?: Histogram) =>
    openLoop(task, { ratePerSec: rate, durationMs, poisson: random, ...(into ? { into } : {}) });
  await run(Math.max(t.warmupMs, windowMs));
  const measuredFrom = now();
  const windows: Window[] = [];
  let errors = 0;
  let stable = false;
  const enough = (ws: readonly Window[]): boolean => ws.reduce((n, w) => n + w.hist.count, 0) >= OPEN_LOOP_MIN_REQUESTS;
  while (!stable && (windows.length < 2 || now() - measuredFrom < 3 * t.maxPointMs)) {
    const hist = new Histogram();
    const r = await run(windowMs, hist);
    errors += r.errors;
    windows.push({ hist, seconds: r.seconds, throughput: r.throughput, meanMs: r.latency.meanMs });
    stable = isStable(windows, t.stableWindows, t.tolerance) && enough(windows.slice(-t.stableWindows));
  }
  const { merged, throughput } = kept(windows, stable, t.stableWindows);
  return {
    offeredRps: rate,
    requests: merged.count,
    errors,
    throughput,
    p50Ms: ms(merged.percentile(50)),
    p95Ms: ms(merged.percentile(95)),
    p99Ms: ms(merged.percentile(99)),
    windows: windows.length,
    stable,
    measuredMs: now() - start,
  };
}

/**
 * A fresh replica's first requests are slow (its JIT, onnxruntime's first runs, the batcher's
 * merge path): keep `concurrency` requests in flight until `ms` have passed and at least
 * `minRequests` have answered (bounded at 10 × ms).
 */
export async function warmUp(task: Task, ms: number, minRequests = 50, concurrency = 1): Promise<void> {
  const start = now();
  let answered = 0;
  const caller = async (): Promise<void> => {
    while ((now() - start < ms || answered < minRequests) && now() - start < 10 * ms) {
      await task().catch(() => undefined);
      answered++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
}

/**
 * Brings a fresh replica to the state of one that has served for a while, before its p99 is
 * measured: at each of `concurrency`, requests on fresh connections for `msEach`, then those
 * connections closed. Closing connections reaches code the requests alone do not, and V8 then
 * throws away optimized code of the HTTP path ("wrong map") and compiles it again; measured on a
 * tenth of a core, those recompilations, done there at a tenth of the speed, kept the p99 of a
 * warmed replica 5–20× its steady value for 20 s and more. Run it at full speed
 * (TierReplica.atFullSpeed), so that work is over before the tier's share applies.
 */
export async function settleReplica(
  url: string,
  model: string,
  bodies: readonly RequestBody[],
  concurrency: readonly number[],
  msEach: number,
): Promise<void> {
  for (const c of concurrency) {
    const { task, close } = inferTask(url, model, bodies, c);
    await warmUp(task, msEach, 50, c).finally(close);
    // The server sees the closes and runs their code before the next level.
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * POSTs the bodies in turn to /v2/models/{name}/infer over `sockets` keep-alive connections;
 * non-200 rejects. Connections are taken in turn (FIFO), not most recent first: with LIFO, the
 * connections a burst opened sit idle until the replica's keep-alive timeout closes them in
 * the middle of a measurement, and on a tenth of a core the deopts and recompilations that
 * closing sets off showed in the p99 (traced with --trace-deopt; none with FIFO).
 */
export function inferTask(
  url: string,
  model: string,
  bodies: readonly RequestBody[],
  sockets: number,
): { task: Task; close(): void } {
  const agent = new Agent({ keepAlive: true, maxSockets: sockets, scheduling: 'fifo' });
  const { hostname, port } = new URL(url);
  const path = `/v2/models/${encodeURIComponent(model)}/infer`;
  let i = 0;
  const task: Task = () =>
    new Promise((resolve, reject) => {
      const b = bodies[i++ % bodies.length]!;
      const req = request(
        {
          agent,
          hostname,
          port,
          method: 'POST',
          path,
          headers: { ...b.headers, 'content-length': b.body.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            res.statusCode === 200
              ? resolve(undefined)
              : reject(new Error(`HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString().slice(0, 300)}`)),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(b.body);
    });
  return { task, close: () => agent.destroy() };
}

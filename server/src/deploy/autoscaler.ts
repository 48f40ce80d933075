/**
 * The autoscaling policy, pure as in Ray Serve and Knative's KPA: the gateways' load and the
 * policy's own state in, the replicas wanted and the next state out, with the clock passed in.
 *
 *   recommendation = ⌈mean in flight / target concurrency⌉, and ⌈current × p95 / target p95⌉
 *                    while p95 is over its target; clamped to [min, max]
 *   up:   at once (or once the recommendation has stayed higher for scaleUpDelayMs, then to the
 *         lowest it reached meanwhile), at most ×maxScaleUpRate per decision
 *   down: only after it has stayed lower for scaleDownDelayMs, then to the highest it reached
 *         meanwhile (a dip shorter than the window changes nothing); never to a count that
 *         the last scale-up showed too few for the request rate now (hysteresis, see below)
 *   zero: only when min is 0, after idleToZeroMs without a request
 *   from zero: at once when requests are buffered at a gateway (or any load is seen)
 */
import { DEFAULT_TARGET_CONCURRENCY } from './types';

export interface AutoscalerConfig {
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** Requests in flight per replica to aim for; 0 means DEFAULT_TARGET_CONCURRENCY. */
  readonly targetConcurrency: number;
  /** Latency the deployment promises at p95, in ms; absent or 0: none. */
  readonly targetP95Ms?: number;
  /** 0: scale up at the first decision that asks for more. */
  readonly scaleUpDelayMs: number;
  /** The quiet window: load must stay lower this long before replicas are removed. */
  readonly scaleDownDelayMs: number;
  /** With min 0: no request for this long sends the deployment to zero. */
  readonly idleToZeroMs: number;
  /** Most growth per decision: desired ≤ ⌈current × rate⌉ (and always current + 1 is allowed). */
  readonly maxScaleUpRate: number;
  /** How long the rate that forced the last scale-up keeps holding replicas (0: not at all). */
  readonly rateMemoryMs: number;
}

export const DEFAULT_AUTOSCALING: Omit<AutoscalerConfig, 'minReplicas' | 'maxReplicas'> = {
  targetConcurrency: DEFAULT_TARGET_CONCURRENCY,
  scaleUpDelayMs: 0,
  scaleDownDelayMs: 10_000,
  idleToZeroMs: 30_000,
  maxScaleUpRate: 10,
  rateMemoryMs: 300_000,
};

/**
 * Scale down to n only while the rate stays under this share of the rate at which n replicas
 * were last seen to be too few.
 */
const RATE_HEADROOM = 0.9;

/** What the gateways reported for the deployment over the last window (summed over gateways). */
export interface Load {
  /** Mean requests in flight, answered or buffered. */
  readonly inflight: number;
  readonly rps: number;
  /** 0 when nothing was answered. */
  readonly p95Ms: number;
  /** Requests waiting at a gateway because no replica is ready. */
  readonly buffered: number;
}

export interface AutoscalerState {
  readonly desired: number;
  /** The last time load was seen (a request arriving, in flight or buffered). */
  readonly lastActiveAt: number;
  /** While the recommendation stays below desired: since when, and the highest it reached. */
  readonly below: { readonly since: number; readonly peak: number } | null;
  /** While it stays above desired (scale-up delay only): since when, and the lowest it reached. */
  readonly above: { readonly since: number; readonly floor: number } | null;
  /**
   * The last scale-up driven by load: from how many replicas, at what request rate, when. In
   * flight counts fall as replicas are added (requests queue less), so without this memory a
   * steady rate just over one replica's capacity flips between 1 and 2 replicas; the rate
   * does not depend on the replica count, so it tells whether fewer would be overwhelmed again.
   */
  readonly lastUp?: { readonly from: number; readonly rps: number; readonly at: number } | null;
}

export type AutoscalerEventKind = 'scaled' | 'scale-to-zero' | 'cold-start';

export interface Decision {
  readonly desired: number;
  readonly state: AutoscalerState;
  readonly event?: { readonly kind: AutoscalerEventKind; readonly message: string };
}

export function initialAutoscalerState(desired: number, now: number): AutoscalerState {
  return { desired, lastActiveAt: now, below: null, above: null };
}

const clamp = (n: number, c: AutoscalerConfig): number => Math.min(c.maxReplicas, Math.max(c.minReplicas, n));
const num = (n: number): string => `${+n.toFixed(1)}`;
const secs = (ms: number): string => `${+(ms / 1000).toFixed(1)} s`;
const replicas = (n: number): string => `${n} replica${n === 1 ? '' : 's'}`;

/** What the load alone asks for, before bounds and windows, and why. */
export function recommend(config: AutoscalerConfig, current: number, load: Load): { replicas: number; reason: string } {
  const target = config.targetConcurrency > 0 ? config.targetConcurrency : DEFAULT_TARGET_CONCURRENCY;
  const inflight = Math.max(load.inflight, load.buffered);
  let n = Math.max(0, Math.ceil(inflight / target - 1e-9));
  let reason = `mean ${num(inflight)} requests in flight for a target of ${num(target)} per replica`;
  const p95Target = config.targetP95Ms ?? 0;
  if (p95Target > 0 && load.p95Ms > p95Target && current > 0) {
    const byLatency = Math.max(current + 1, Math.ceil(current * (load.p95Ms / p95Target)));
    if (byLatency > n) reason = `p95 ${num(load.p95Ms)} ms is over the ${num(p95Target)} ms target`;
    n = Math.max(n, byLatency);
  }
  if (n === 0 && (load.rps > 0 || inflight > 0)) n = 1;
  return { replicas: n, reason };
}

const active = (load: Load): boolean => load.inflight > 0 || load.rps > 0 || load.buffered > 0;

export function decide(config: AutoscalerConfig, state: AutoscalerState, load: Load, now: number): Decision {
  const current = state.desired;
  const lastActiveAt = active(load) ? now : state.lastActiveAt;
  const remembered =
    state.lastUp && now - state.lastUp.at < config.rateMemoryMs && state.lastUp.from > 0 ? state.lastUp : null;
  const settled = (
    desired: number,
    event?: Decision['event'],
    lastUp = desired < current ? null : remembered,
  ): Decision => ({
    desired,
    state: { desired, lastActiveAt, below: null, above: null, lastUp },
    ...(event ? { event } : {}),
  });
  const scaled = (desired: number, why: string): Decision =>
    settled(desired, { kind: 'scaled', message: `${current} → ${replicas(desired)}: ${why}` });

  // 1. From zero: a buffered request (or any load) starts replicas now, whatever the delays.
  const rec = recommend(config, current, load);
  if (current === 0 && active(load) && config.maxReplicas > 0) {
    const desired = clamp(Math.max(1, rec.replicas), config);
    const waiting = load.buffered > 0 ? `${load.buffered} requests buffered at the gateway` : rec.reason;
    return settled(desired, { kind: 'cold-start', message: `0 → ${replicas(desired)}: ${waiting}` });
  }

  // 2. Bounds moved (ScaleDeployment): follow them at once.
  if (current < config.minReplicas) return scaled(config.minReplicas, `raised to the minimum of ${config.minReplicas}`);
  if (current > config.maxReplicas)
    return scaled(config.maxReplicas, `lowered to the maximum of ${config.maxReplicas}`);

  // 3. Idle long enough with min 0: to zero.
  const idleMs = now - lastActiveAt;
  const wanted = clamp(rec.replicas, config);
  if (wanted === 0) {
    if (current === 0) return settled(0);
    if (idleMs >= config.idleToZeroMs) {
      return settled(0, { kind: 'scale-to-zero', message: `${current} → 0 replicas: no requests for ${secs(idleMs)}` });
    }
  }
  const goal = Math.max(wanted, current > 0 && config.maxReplicas > 0 ? 1 : 0);

  // 4. Up: at once, or after the delay to the lowest recommendation seen; growth bounded.
  if (goal > current) {
    let to = goal;
    if (config.scaleUpDelayMs > 0) {
      const above = state.above
        ? { since: state.above.since, floor: Math.min(state.above.floor, goal) }
        : { since: now, floor: goal };
      if (now - above.since < config.scaleUpDelayMs)
        return { desired: current, state: { ...state, lastActiveAt, below: null, above } };
      to = above.floor;
    }
    const limit = Math.max(current + 1, Math.ceil(current * config.maxScaleUpRate));
    const desired = Math.min(to, limit);
    return settled(
      desired,
      { kind: 'scaled', message: `${current} → ${replicas(desired)}: ${rec.reason}` },
      {
        from: current,
        rps: load.rps,
        at: now,
      },
    );
  }

  // 5. Down: only after the quiet window, to the highest recommendation seen in it, and never
  //    to a count the last scale-up showed too few for the rate now.
  const byRate = remembered && remembered.rps > 0 ? fewestForRate(remembered, load.rps) : 0;
  if (goal < current && byRate >= current) return settled(current);
  if (goal < current) {
    const below = state.below
      ? { since: state.below.since, peak: Math.max(state.below.peak, goal) }
      : { since: now, peak: goal };
    if (now - below.since < config.scaleDownDelayMs)
      return { desired: current, state: { ...state, lastActiveAt, above: null, below } };
    const to = Math.max(below.peak, byRate);
    const held =
      to > below.peak
        ? `; not fewer, as ${replicas(remembered!.from)} were too few at ${num(remembered!.rps)} req/s (now ${num(load.rps)})`
        : '';
    return scaled(to, `${rec.reason}, for ${secs(now - below.since)}${held}`);
  }

  return settled(current);
}

/**
 * The fewest replicas not shown too few for `rps`: `from` replicas were overwhelmed at
 * `last.rps`, so n replicas are trusted only below RATE_HEADROOM × n × (last.rps / from).
 */
export function fewestForRate(last: { readonly from: number; readonly rps: number }, rps: number): number {
  const perReplica = (RATE_HEADROOM * last.rps) / last.from;
  return Math.floor(rps / perReplica) + 1;
}

/**
 * The profiler's vocabulary. Wire types (stratum.v1.ModelProfile, CapacityReport, ...) come
 * from proto/stratum/v1/profiles.proto; these are the plain forms the sweep produces and the
 * pure policies (capacity analysis, latency-aware selection, charts) take, so tests build
 * them by hand and the policies never see `$typeName` (wire.ts maps between the two).
 */
import type { Tier } from '../config/tiers';
import type { QosAsk } from '../deploy/types';

export type { QosAsk, Tier };

/** What one sweep measures, and how long it may take. */
export interface SweepSettings {
  /** The replica's dynamic batching limit (max batch size); 1 turns batching off. Requests carry one row. */
  readonly batchSizes: readonly number[];
  /** Requests in flight at once (closed loop). */
  readonly concurrency: readonly number[];
  /** The batcher's wait for a batch to fill, for batch sizes above 1. */
  readonly maxQueueDelayMs: number;
  /** Requests before the first window of each point are not counted. */
  readonly warmupMs: number;
  readonly windowMs: number;
  /** A point is stable once this many successive windows agree... */
  readonly stableWindows: number;
  /** ...within this fraction of their mean, in throughput and in mean latency (perf_analyzer: 10%). */
  readonly tolerance: number;
  /** A point that has not settled by then is reported with what was measured, marked unstable. */
  readonly maxPointMs: number;
  /**
   * Offered rates of the open-loop points, as fractions of the best batch setting's measured
   * throughput (Poisson arrivals); empty: none measured (capacity falls back to the closed loop).
   */
  readonly openLoopFractions: readonly number[];
}

/**
 * Sized so that a small model on cloud, fog and edge (3 tiers × 5 batch sizes × 4 concurrency
 * levels = 60 closed-loop points, then 4 open-loop points a tier) finishes within two minutes
 * on two cores. The closed-loop points settle the throughput; the open-loop points, which
 * give the p99, get the longer time (3 × maxPointMs, sweep.ts), as a p99 needs more samples.
 */
export const DEFAULT_SWEEP: SweepSettings = {
  batchSizes: [1, 2, 4, 8, 16],
  concurrency: [1, 2, 4, 8],
  maxQueueDelayMs: 2,
  warmupMs: 100,
  windowMs: 250,
  stableWindows: 3,
  tolerance: 0.1,
  maxPointMs: 1000,
  openLoopFractions: [0.3, 0.5, 0.7, 0.85],
};

export interface ProfilePoint {
  readonly batchSize: number;
  readonly concurrency: number;
  /** Successful requests counted (in the windows that were kept). */
  readonly requests: number;
  readonly errors: number;
  readonly firstError?: string;
  /** Successful requests (one row each) per second. */
  readonly throughput: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Windows measured; the last `stableWindows` (or all, when unstable) make the numbers. */
  readonly windows: number;
  readonly stable: boolean;
  readonly measuredMs: number;
}

/**
 * One open-loop point: requests arriving at random (Poisson, seeded) at `offeredRps` on the
 * tier's best batch setting, latency counted from each request's due time. Unlike a closed
 * loop, it sees the wait that bursts of arrivals cause (on a duty-cycled tier, also the wait
 * for the next running slice): the p99 a deployment serving that rate will show.
 */
export interface OpenLoopPoint {
  readonly batchSize: number;
  readonly offeredRps: number;
  /** Successful requests counted (in the windows that were kept), and their rate. */
  readonly requests: number;
  readonly errors: number;
  readonly throughput: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly windows: number;
  readonly stable: boolean;
  readonly measuredMs: number;
}

export interface TierProfile {
  readonly tier: Tier;
  /** False when the model does not fit the tier's memory (or the replica could not start). */
  readonly fits: boolean;
  /** Why it does not fit, with the numbers; empty when it fits. */
  readonly reason: string;
  /** From process start to the replica's ready line, under the tier's limits. */
  readonly loadMs: number;
  /** Peak resident memory (VmHWM) once loaded, and at the end of the sweep; 0 when not measured. */
  readonly loadMemoryMb: number;
  readonly peakMemoryMb: number;
  /** How the tier was emulated on this machine (affinity, duty cycle, threads), one note each. */
  readonly emulation: readonly string[];
  readonly points: readonly ProfilePoint[];
  /** Open-loop points of the best batch setting, by offered rate; absent in profiles made before them. */
  readonly openLoop?: readonly OpenLoopPoint[];
}

export interface ProfiledModel {
  readonly name: string;
  readonly version: number;
  readonly digest: string;
  readonly sizeBytes: number;
}

export interface ModelProfile {
  readonly id: string;
  readonly model: ProfiledModel;
  readonly createdAtMs: number;
  readonly durationMs: number;
  readonly settings: SweepSettings;
  /** What the requests carried, e.g. "synthetic: input FP32 [1,4] random normal". */
  readonly inputs: string;
  readonly tiers: readonly TierProfile[];
}

/** The capacity analysis of one tier for a QoS. */
export interface TierVerdict {
  readonly tier: string;
  readonly ok: boolean;
  /** Why it was set aside, with the measured number; or what was chosen, when ok. */
  readonly reason: string;
  readonly replicas: number;
  readonly batchSize: number;
  readonly maxQueueDelayMs: number;
  /** The chosen point's concurrency per replica (a target for the autoscaler). */
  readonly concurrency: number;
  /** Of the chosen point: p99 at its (saturating) concurrency, and throughput per replica. */
  readonly p99Ms: number;
  readonly throughputPerReplica: number;
  /**
   * p99 expected at the target rate spread over the replicas: interpolated on the measured
   * open-loop curve, or (profiles without one) on the closed-loop latency-throughput curve.
   */
  readonly expectedP99Ms: number;
  /** Where expectedP99Ms comes from: "open-loop" (measured under random arrivals) or "closed-loop". */
  readonly basis: string;
  readonly costPerHour: number;
  readonly costPer1kRequests: number;
}

export interface CapacityReport {
  readonly qos: QosAsk;
  readonly feasible: boolean;
  /** The first ranked tier that meets the QoS. */
  readonly best?: TierVerdict;
  /** Feasible tiers cheapest first (then lower p99, fewer replicas), then the rejected ones. */
  readonly tiers: readonly TierVerdict[];
}

/** Progress of a profile as it runs; the last event carries the whole profile. */
export type ProfileEvent =
  | { readonly kind: 'tier-start'; readonly tier: string; readonly message: string }
  | { readonly kind: 'loaded'; readonly tier: string; readonly message: string }
  /** An open-loop point measured (its numbers are in the tier's profile at tier-done). */
  | { readonly kind: 'open-loop'; readonly tier: string; readonly message: string }
  | {
      readonly kind: 'point';
      readonly tier: string;
      readonly point: ProfilePoint;
      /** Points done over points planned, across all tiers. */
      readonly done: number;
      readonly total: number;
    }
  | { readonly kind: 'tier-done'; readonly tier: string; readonly profile: TierProfile }
  | { readonly kind: 'done'; readonly profile: ModelProfile };

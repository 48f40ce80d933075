/**
 * How many Ray worker jobs the trial queue needs: a pure policy (state and a clock reading in,
 * jobs to start and stop out), so every rule is unit-tested without Ray.
 *
 * A worker of the configured shape runs `slotsPerWorker` queued trials at once. Jobs not yet
 * started by Ray, and workers not yet joined, count as free capacity (they are on their way),
 * so a burst of polls never submits the same capacity twice.
 */

export interface ScalingConfig {
  readonly maxWorkers: number;
  /** Worker jobs kept even with an empty queue (default 0: scale to zero). */
  readonly minWorkers: number;
  /** How long a worker holds no trial before its job is stopped. */
  readonly idleMs: number;
  /** How long Ray may run a job whose worker never joins (wrong URL, firewall) before it is stopped. */
  readonly joinTimeoutMs: number;
  /** First wait after a failed job before starting more; doubles per failure in a row. */
  readonly failureBackoffMs: number;
  readonly maxFailureBackoffMs: number;
}

export const DEFAULT_SCALING: ScalingConfig = {
  maxWorkers: 4,
  minWorkers: 0,
  idleMs: 60000,
  joinTimeoutMs: 120000,
  failureBackoffMs: 2000,
  maxFailureBackoffMs: 60000,
};

export type JobPhase = 'pending' | 'starting' | 'joined';

export interface WorkerJob {
  /** Ray's submission id, which is also the worker's name. */
  readonly name: string;
  /** pending: Ray has not started it; starting: running, worker not joined yet; joined: worker live. */
  readonly phase: JobPhase;
  /** Trials the worker holds now. */
  readonly running: number;
  /** Since when it has held no trial (its submission time until it takes one). */
  readonly idleSince: number;
  /** When Ray started running it: the join timeout counts from here. */
  readonly startedAt?: number;
}

export interface ScalingInput {
  readonly now: number;
  /** Queued trials that a worker of this shape (resources, tier, trainers) could run. */
  readonly queued: number;
  /** Queued trials one worker runs at once (at least 1). */
  readonly slotsPerWorker: number;
  readonly jobs: readonly WorkerJob[];
  /** Worker jobs that failed in a row (reset once a worker joins), and when the last did. */
  readonly failures: { readonly count: number; readonly lastAt: number };
}

export interface ScalingDecision {
  readonly start: number;
  readonly stop: readonly { readonly name: string; readonly reason: string }[];
}

const PHASE_ORDER: Record<JobPhase, number> = { pending: 0, starting: 1, joined: 2 };

export function backoffMs(config: ScalingConfig, failures: number): number {
  if (failures <= 0) return 0;
  return Math.min(config.maxFailureBackoffMs, config.failureBackoffMs * 2 ** (failures - 1));
}

export function decideScaling(input: ScalingInput, config: ScalingConfig): ScalingDecision {
  const slots = Math.max(1, Math.floor(input.slotsPerWorker));
  const stop: { name: string; reason: string }[] = [];

  // 1. Jobs Ray runs whose worker never joined: stop them, they hold cluster resources for nothing.
  const kept = input.jobs.filter((j) => {
    const stuck = j.phase === 'starting' && j.startedAt !== undefined && input.now - j.startedAt > config.joinTimeoutMs;
    if (stuck)
      stop.push({ name: j.name, reason: `worker did not join within ${Math.round(config.joinTimeoutMs / 1000)} s` });
    return !stuck;
  });

  // 2. Capacity already there or on its way.
  let free = kept.reduce((n, j) => n + Math.max(0, slots - j.running), 0);

  // 3. More queued trials than free slots: start jobs, up to the maximum, unless backing off after failures.
  if (input.queued > free) {
    const backingOff = input.now < input.failures.lastAt + backoffMs(config, input.failures.count);
    const wanted = Math.ceil((input.queued - free) / slots);
    const room = Math.max(0, config.maxWorkers - kept.length);
    const start = backingOff ? 0 : Math.min(wanted, room);
    return { start: Math.max(start, config.minWorkers - kept.length, 0), stop };
  }

  // 4. Enough capacity: stop jobs idle for the idle period, not yet started ones first, while the
  //    queue still fits in what is left and the minimum stays.
  let count = kept.length;
  const idle = kept
    .filter((j) => j.running === 0 && input.now - j.idleSince >= config.idleMs)
    .sort((a, b) => PHASE_ORDER[a.phase] - PHASE_ORDER[b.phase] || a.idleSince - b.idleSince);
  for (const j of idle) {
    if (count <= config.minWorkers || free - slots < input.queued) break;
    stop.push({ name: j.name, reason: `idle for ${Math.round((input.now - j.idleSince) / 1000)} s` });
    free -= slots;
    count--;
  }
  return { start: Math.max(0, config.minWorkers - count), stop };
}

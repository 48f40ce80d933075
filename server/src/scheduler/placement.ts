/**
 * Resource-aware placement, as pure functions: which pending trial a worker should take,
 * given what it has free. Trials are considered in queue order; a trial that does not fit
 * this worker is skipped (another worker may fit it), so a big trial never blocks small ones.
 */
import type { ResourceAmounts } from '../store/workers';

export interface PlacementWorker {
  readonly id: string;
  readonly tier: string;
  readonly total: ResourceAmounts;
  readonly used: ResourceAmounts;
  readonly trainers: readonly string[];
}

export interface PlacementTrial {
  readonly id: string;
  readonly trainer: string;
  readonly resources: ResourceAmounts;
  /** When set, only workers of this tier may take the trial. */
  readonly tier?: string;
}

export function freeOf(w: Pick<PlacementWorker, 'total' | 'used'>): ResourceAmounts {
  return {
    cpus: w.total.cpus - w.used.cpus,
    memoryMb: w.total.memoryMb - w.used.memoryMb,
    gpus: w.total.gpus - w.used.gpus,
  };
}

// Float sums of fractional cpus (0.1 + 0.2) must not make an exact fit look too small.
const EPS = 1e-9;

export function fits(need: ResourceAmounts, free: ResourceAmounts): boolean {
  return need.cpus <= free.cpus + EPS && need.memoryMb <= free.memoryMb + EPS && need.gpus <= free.gpus + EPS;
}

/** Whether the worker could ever run the trial (even when idle). */
export function canEverRun(t: PlacementTrial, w: PlacementWorker): boolean {
  return (
    (t.tier === undefined || t.tier === w.tier) &&
    (w.trainers.length === 0 || w.trainers.includes(t.trainer)) &&
    fits(t.resources, w.total)
  );
}

/** The first trial in queue order that fits the worker's free resources now. */
export function pickTrial<T extends PlacementTrial>(queue: readonly T[], worker: PlacementWorker): T | undefined {
  const free = freeOf(worker);
  return queue.find((t) => canEverRun(t, worker) && fits(t.resources, free));
}

export function addResources(a: ResourceAmounts, b: ResourceAmounts): ResourceAmounts {
  return { cpus: a.cpus + b.cpus, memoryMb: a.memoryMb + b.memoryMb, gpus: a.gpus + b.gpus };
}

export const NO_RESOURCES: ResourceAmounts = { cpus: 0, memoryMb: 0, gpus: 0 };

/**
 * How a replica's reported reason starts when it was over its tier's memory on an emulated tier
 * worker (workers/replica-host.ts). Such a replica is kept, not replaced on the same worker: a
 * replacement would not fit either, and would loop.
 */
export const DOES_NOT_FIT = 'does not fit';

export const doesNotFit = (reason: string): boolean => reason.startsWith(DOES_NOT_FIT);

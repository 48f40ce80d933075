/**
 * The load each deployment reported over the last polls, for the sparklines: pure functions,
 * deployments in, a new history out (the old one is never changed).
 */
import type { Deployment } from '@stratum/proto';

/** One poll's numbers for one deployment. */
export interface LoadSample {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Samples per deployment name, oldest first. */
export type LoadHistory = ReadonlyMap<string, readonly LoadSample[]>;

/** How many polls the sparklines cover. */
export const HISTORY_LENGTH = 30;

/** Appends each listed deployment's numbers, keeps the last `limit`, forgets deployments gone. */
export function appendLoad(
  history: LoadHistory,
  deployments: readonly Pick<Deployment, 'name' | 'requestsPerSecond' | 'p50Ms' | 'p99Ms'>[],
  limit = HISTORY_LENGTH,
): LoadHistory {
  const next = new Map<string, readonly LoadSample[]>();
  for (const d of deployments) {
    const sample: LoadSample = { rps: d.requestsPerSecond, p50Ms: d.p50Ms, p99Ms: d.p99Ms };
    next.set(d.name, [...(history.get(d.name) ?? []), sample].slice(-limit));
  }
  return next;
}

/** One series of a deployment's history. */
export function series(history: LoadHistory, name: string, key: keyof LoadSample): number[] {
  return (history.get(name) ?? []).map((s) => s[key]);
}

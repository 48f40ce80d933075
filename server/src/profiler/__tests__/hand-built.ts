/** Hand-built profiles for the pure policies' tests. */
import { DEFAULT_TIERS, type Tier } from '../../config/tiers';
import { DEFAULT_SWEEP, type ModelProfile, type OpenLoopPoint, type ProfilePoint, type TierProfile } from '../types';

export const tier = (name: string, over: Partial<Tier> = {}): Tier => ({
  ...(DEFAULT_TIERS.find((t) => t.name === name) ?? DEFAULT_TIERS[0]!),
  name,
  ...over,
});

/** A point: p50 = p99 / 3, p95 = p99 × 0.8. */
export const point = (
  batchSize: number,
  concurrency: number,
  throughput: number,
  p99Ms: number,
  over: Partial<ProfilePoint> = {},
): ProfilePoint => ({
  batchSize,
  concurrency,
  requests: 1000,
  errors: 0,
  throughput,
  meanMs: p99Ms / 2,
  p50Ms: p99Ms / 3,
  p95Ms: p99Ms * 0.8,
  p99Ms,
  maxMs: p99Ms * 1.5,
  windows: 3,
  stable: true,
  measuredMs: 750,
  ...over,
});

export const tierProfile = (t: Tier, points: ProfilePoint[], over: Partial<TierProfile> = {}): TierProfile => ({
  tier: t,
  fits: true,
  reason: '',
  loadMs: 300,
  loadMemoryMb: 100,
  peakMemoryMb: 120,
  emulation: [],
  points,
  ...over,
});

export const modelProfile = (tiers: TierProfile[]): ModelProfile => ({
  id: 'p1',
  model: { name: 'penguins', version: 2, digest: 'sha256:ab', sizeBytes: 649 },
  createdAtMs: 1_700_000_000_000,
  durationMs: 60_000,
  settings: DEFAULT_SWEEP,
  inputs: 'synthetic',
  tiers,
});

/** cloud fast and dear, fog middling, edge slow and cheap. */
export function threeTiers(): ModelProfile {
  return modelProfile([
    tierProfile(tier('cloud'), [point(1, 1, 1000, 2), point(1, 4, 3000, 5), point(8, 8, 6000, 12)]),
    tierProfile(tier('fog'), [point(1, 1, 600, 4), point(1, 4, 1500, 9), point(8, 8, 2500, 25)]),
    tierProfile(tier('edge'), [point(1, 1, 100, 31), point(1, 4, 150, 60)]),
  ]);
}

/** An open-loop point at `offeredRps` (served in full unless `over` says otherwise): p50 = p99 / 3, p95 = p99 × 0.8. */
export const openPoint = (
  batchSize: number,
  offeredRps: number,
  p99Ms: number,
  over: Partial<OpenLoopPoint> = {},
): OpenLoopPoint => ({
  batchSize,
  offeredRps,
  requests: 500,
  errors: 0,
  throughput: offeredRps,
  p50Ms: p99Ms / 3,
  p95Ms: p99Ms * 0.8,
  p99Ms,
  windows: 3,
  stable: true,
  measuredMs: 1500,
  ...over,
});

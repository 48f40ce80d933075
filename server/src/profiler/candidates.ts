/**
 * Profiling a run's candidates for latency-aware selection (`selection.qos`): the profiler the
 * ProfileModel API uses, on the rule's tier only, at the few points the rule needs rather than
 * a full sweep. The candidate is not a registered model yet, so it is named by its trial.
 */
import { selectTiers, type Tier } from '../config/tiers';
import type { LatencyRule } from './latency-selection';
import type { ProfileLock } from './lock';
import { sweepSettings } from './profiler';
import { processRunner, type ProfileRunner } from './runner';
import { DEFAULT_SWEEP, type ModelProfile, type SweepSettings } from './types';

export interface ProfileCandidateInput {
  readonly trialId: string;
  /** The trial's ONNX artifact. */
  readonly digest: string;
  readonly sizeBytes: number;
}

/** Profiles one candidate on the rule's tier; rejects with a message when it cannot. */
export type ProfileCandidate = (
  c: ProfileCandidateInput,
  rule: LatencyRule,
  signal: AbortSignal,
) => Promise<ModelProfile>;

/**
 * A latency budget alone is judged at batch 1 and one request in flight (what a single caller
 * sees); a rate or a cost ceiling also needs throughput, so batching and concurrency are
 * sampled too (and the open-loop points that give the p99 at a rate). Windows are short: this runs once per candidate while the run waits.
 */
export function quickSettings(rule: LatencyRule): SweepSettings {
  const needsThroughput = (rule.rps ?? 0) > 0 || (rule.maxCostPerHour ?? 0) > 0;
  return sweepSettings({
    ...DEFAULT_SWEEP,
    batchSizes: needsThroughput ? [1, 4] : [1],
    concurrency: needsThroughput ? [1, 4] : [1],
    windowMs: 200,
    maxPointMs: 1200,
    // Open-loop points only predict the p99 at a rate; a budget alone does not need them.
    ...(needsThroughput ? {} : { openLoopFractions: [] }),
  });
}

export interface CandidateProfilerDeps {
  readonly modelPath: (digest: string) => string;
  readonly tiers: () => Tier[];
  readonly lock: ProfileLock;
  readonly runner?: ProfileRunner;
}

export function candidateProfiler(d: CandidateProfilerDeps): ProfileCandidate {
  const runner = d.runner ?? processRunner;
  return async (c, rule, signal) => {
    const [tier] = selectTiers(d.tiers(), [rule.tier]);
    const job = {
      modelPath: d.modelPath(c.digest),
      model: { name: `trial-${c.trialId.slice(0, 8)}`, version: 0, digest: c.digest, sizeBytes: c.sizeBytes },
      tiers: [tier!],
      settings: quickSettings(rule),
    };
    await d.lock.acquire(`candidate ${job.model.name}`, signal);
    try {
      for await (const event of runner(job, signal)) if (event.kind === 'done') return event.profile;
      throw new Error('the profiler ended without a profile');
    } finally {
      d.lock.release();
    }
  };
}

/**
 * Latency-aware selection, the part that measures: candidates are profiled on the rule's tier
 * in ranked order (best metric first) until one meets the QoS; those that miss are set aside
 * with the measured reason. Profiling stops at the first that meets it, since every candidate
 * after it ranks lower, and after `maxCandidates`, since each profile takes seconds.
 */
import type { ProfileCandidate } from '../profiler/candidates';
import { applyLatencyConstraint, describeLatencyRule } from '../profiler/latency-selection';
import type { ModelProfile } from '../profiler/types';
import type { QosOutcome, QosPlan } from './finalize';

export const DEFAULT_MAX_QOS_CANDIDATES = 8;

export interface ScreenOptions {
  readonly profile: ProfileCandidate;
  readonly signal: AbortSignal;
  readonly maxCandidates?: number;
  /** Each verdict as it is reached (a reason when set aside), so watchers see progress. */
  readonly onVerdict?: (trialId: string, setAside: string | undefined) => void;
}

export interface ScreenResult extends QosOutcome {
  /** The first candidate that meets the rule, with the profile that showed it. */
  readonly chosen?: { readonly trialId: string; readonly profile: ModelProfile };
}

export async function screenCandidates(plan: QosPlan, o: ScreenOptions): Promise<ScreenResult> {
  const rule = describeLatencyRule(plan.rule);
  const max = o.maxCandidates ?? DEFAULT_MAX_QOS_CANDIDATES;
  const excluded = new Map<string, string>();
  const setAside = (trialId: string, reason: string): void => {
    excluded.set(trialId, reason);
    o.onVerdict?.(trialId, reason);
  };
  for (const [i, t] of plan.ranked.entries()) {
    if (o.signal.aborted) throw new Error('selection cancelled');
    if (i >= max) {
      setAside(t.id, `not profiled: only the best ${max} candidates are profiled for ${rule}, and none of them met it`);
      continue;
    }
    if (t.model_format !== 'onnx' || !t.model_digest) {
      setAside(t.id, `its model is ${t.model_format || 'missing'}, not ONNX, so ${rule} cannot be measured`);
      continue;
    }
    let profile: ModelProfile;
    try {
      profile = await o.profile(
        { trialId: t.id, digest: t.model_digest, sizeBytes: t.model_size },
        plan.rule,
        o.signal,
      );
    } catch (e) {
      if (o.signal.aborted) throw new Error('selection cancelled');
      setAside(t.id, `could not be profiled on ${plan.rule.tier}: ${e instanceof Error ? e.message : String(e)}`);
      continue;
    }
    const verdict = applyLatencyConstraint(
      [{ id: t.id, metrics: {}, modelSizeBytes: 0 }],
      new Map([[t.id, profile]]),
      plan.rule,
    );
    const reason = verdict.excluded.get(t.id);
    if (reason !== undefined) {
      setAside(t.id, reason);
      continue;
    }
    o.onVerdict?.(t.id, undefined);
    return { rule, excluded, chosen: { trialId: t.id, profile } };
  }
  return { rule, excluded };
}

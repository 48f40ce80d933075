/**
 * Latency-aware selection: "the best f1 whose p99 on edge is at most 10 ms". Candidates whose
 * profile on the rule's tier misses the rule (a QoS on one tier, judged by the capacity
 * analysis) are set aside with the measured reason, as the selection constraints are; the
 * caller then picks the best of the rest by its metric (scheduler/selection.ts selectBest).
 */
import type { Candidate } from '../scheduler/selection';
import { parseDurationMs } from '../spec/quantities';
import { closestMiss, fmtMs, NO_QOS, tierVerdict } from './capacity';
import type { ModelProfile, QosAsk } from './types';

/** A QoS on one tier; latencies in ms, 0 or absent for none. */
export interface LatencyRule extends Partial<QosAsk> {
  readonly tier: string;
}

export interface LatencyFilterResult<C extends Candidate> {
  readonly kept: C[];
  /** Candidate id → why it was set aside. */
  readonly excluded: ReadonlyMap<string, string>;
}

/** The budgets of a rule in words: "p99 ≤ 10 ms, 200 req/s". */
export const describeBudgets = (rule: LatencyRule): string =>
  [
    rule.p99Ms ? `p99 ≤ ${fmtMs(rule.p99Ms)}` : '',
    rule.p95Ms ? `p95 ≤ ${fmtMs(rule.p95Ms)}` : '',
    rule.p50Ms ? `p50 ≤ ${fmtMs(rule.p50Ms)}` : '',
    rule.rps ? `${rule.rps} req/s` : '',
    rule.maxCostPerHour ? `≤ $${rule.maxCostPerHour}/h` : '',
  ]
    .filter(Boolean)
    .join(', ') || 'any latency';

/** The rule in words: "p99 ≤ 10 ms on edge". */
export const describeLatencyRule = (rule: LatencyRule): string => `${describeBudgets(rule)} on ${rule.tier}`;

/** `profiles` maps a candidate id to the profile of its model. */
export function applyLatencyConstraint<C extends Candidate>(
  candidates: readonly C[],
  profiles: ReadonlyMap<string, ModelProfile>,
  rule: LatencyRule,
): LatencyFilterResult<C> {
  const qos: QosAsk = { ...NO_QOS, ...rule };
  const kept: C[] = [];
  const excluded = new Map<string, string>();
  for (const c of candidates) {
    const tier = profiles.get(c.id)?.tiers.find((t) => t.tier.name === rule.tier);
    if (!tier) {
      excluded.set(c.id, `not profiled on ${rule.tier}, so ${describeBudgets(rule)} cannot be checked`);
      continue;
    }
    const v = tierVerdict(tier, qos);
    if (v.ok) {
      kept.push(c);
      continue;
    }
    // Short, number first: the leaderboard shows it in one cell ("p99 on edge 14.2 ms > 10 ms").
    const miss = tier.fits ? closestMiss(tier, qos) : undefined;
    excluded.set(
      c.id,
      miss
        ? `${miss.label} on ${rule.tier} ${fmtMs(miss.value)} > ${fmtMs(miss.budget)} (batch ${miss.point.batchSize}, concurrency ${miss.point.concurrency})`
        : `misses ${describeBudgets(rule)} on ${v.reason}`,
    );
  }
  return { kept, excluded };
}

/** The spec's `selection.qos` ({ tier, p99: "10ms", rps, maxCostPerHour }) as a rule. */
export function latencyRuleFromSpec(q: {
  readonly tier: string;
  readonly p99?: string;
  readonly p95?: string;
  readonly p50?: string;
  readonly rps?: number;
  readonly maxCostPerHour?: number;
}): LatencyRule {
  return {
    tier: q.tier,
    ...(q.p99 ? { p99Ms: parseDurationMs(q.p99) } : {}),
    ...(q.p95 ? { p95Ms: parseDurationMs(q.p95) } : {}),
    ...(q.p50 ? { p50Ms: parseDurationMs(q.p50) } : {}),
    ...(q.rps ? { rps: q.rps } : {}),
    ...(q.maxCostPerHour ? { maxCostPerHour: q.maxCostPerHour } : {}),
  };
}

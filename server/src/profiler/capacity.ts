/**
 * Capacity analysis: given a QoS (latency budgets, a target rate, a cost ceiling), what each
 * profiled tier can do. With open-loop points (the p99 measured under random arrivals at
 * fixed rates on the tier's best batch setting) and a target rate: n replicas are enough when
 * rate / n lies within the measured rates and the latencies interpolated there meet every
 * budget; the fewest such n wins, and the interpolated p99 is the prediction. Never beyond the
 * highest measured rate: what happens there was not measured. Without open-loop points (older
 * profiles) or a rate: the closed-loop rule, the point with the highest throughput whose
 * latencies meet every budget, replicas = ceil(rate / that throughput). The cost is replicas ×
 * the tier's price. Every rejection says which measured number missed which limit.
 * Pure functions of the profile: the deployment plan checks call `qosCheck`.
 */
import type {
  CapacityReport,
  ModelProfile,
  OpenLoopPoint,
  ProfilePoint,
  QosAsk,
  TierProfile,
  TierVerdict,
} from './types';

export interface CapacityOptions {
  /** Replicas a deployment may run; a tier needing more is set aside. Default: no limit. */
  readonly maxReplicas?: number;
  /** The batcher delay the profile measured with (reported with the batch size). */
  readonly maxQueueDelayMs?: number;
}

export const NO_QOS: QosAsk = { p50Ms: 0, p95Ms: 0, p99Ms: 0, rps: 0, maxCostPerHour: 0 };

const BUDGETS = [
  ['p99', 'p99Ms'],
  ['p95', 'p95Ms'],
  ['p50', 'p50Ms'],
] as const;

export function fmtMs(ms: number): string {
  if (Number.isInteger(ms)) return `${ms} ms`;
  const digits = ms >= 100 ? 0 : ms >= 10 ? 1 : 2;
  return `${ms >= 1 ? ms.toFixed(digits) : String(Number(ms.toPrecision(2)))} ms`;
}
export const fmtRate = (r: number): string => `${r >= 100 ? r.toFixed(0) : r.toFixed(1)} req/s`;
export const fmtCost = (c: number): string => `$${c >= 0.01 || c === 0 ? c.toFixed(2) : c.toPrecision(2)}`;
const at = (p: ProfilePoint): string => `batch ${p.batchSize}, concurrency ${p.concurrency}`;

/** The budgets a point misses, worst (largest ratio) first. */
function misses(
  p: Pick<ProfilePoint, 'p50Ms' | 'p95Ms' | 'p99Ms'>,
  qos: QosAsk,
): { label: string; value: number; budget: number }[] {
  return BUDGETS.filter(([, key]) => qos[key] > 0 && p[key] > qos[key])
    .map(([label, key]) => ({ label, value: p[key], budget: qos[key] }))
    .sort((a, b) => b.value / b.budget - a.value / a.budget);
}

/**
 * The p99 expected when each replica takes `rate` requests per second: interpolated, by
 * throughput, on the points of this batch size up to `maxConcurrency` (a closed loop at higher
 * concurrency is a higher rate, at Little's law). Points that add concurrency without adding
 * throughput are left out, so the curve rises.
 */
export function expectedP99(
  points: readonly ProfilePoint[],
  batchSize: number,
  maxConcurrency: number,
  rate: number,
): number {
  const curve: ProfilePoint[] = [];
  for (const p of points
    .filter((q) => q.batchSize === batchSize && q.concurrency <= maxConcurrency && q.requests > 0 && q.errors === 0)
    .sort((a, b) => a.concurrency - b.concurrency)) {
    if (curve.length === 0 || p.throughput > curve[curve.length - 1]!.throughput) curve.push(p);
  }
  if (curve.length === 0) return 0;
  if (rate <= curve[0]!.throughput) return curve[0]!.p99Ms;
  for (let i = 1; i < curve.length; i++) {
    const [a, b] = [curve[i - 1]!, curve[i]!];
    if (rate <= b.throughput)
      return a.p99Ms + ((rate - a.throughput) / (b.throughput - a.throughput)) * (b.p99Ms - a.p99Ms);
  }
  return curve[curve.length - 1]!.p99Ms;
}

/**
 * When no measured point of the tier meets the latency budgets: the point that comes closest,
 * with its worst miss (the number a rejection quotes). Undefined when some point meets them.
 */
export function closestMiss(
  t: TierProfile,
  qos: QosAsk,
): { point: ProfilePoint; label: string; value: number; budget: number } | undefined {
  const measured = t.points.filter((p) => p.requests > 0 && p.errors === 0);
  if (measured.length === 0 || measured.some((p) => misses(p, qos).length === 0)) return undefined;
  const worst = (p: ProfilePoint) => misses(p, qos)[0]!;
  const point = [...measured].sort((a, b) => worst(a).value / worst(a).budget - worst(b).value / worst(b).budget)[0]!;
  return { point, ...worst(point) };
}

/** An open-loop point whose replica served what was offered (within 10%), without errors. */
const served = (p: OpenLoopPoint): boolean => p.errors === 0 && p.requests > 0 && p.throughput >= 0.9 * p.offeredRps;

/**
 * The usable open-loop curve: served points, by offered rate, each latency made non-decreasing
 * in the rate. More load cannot shorten the queue, so a dip between two rates is sampling
 * noise (a p99 of a few hundred requests swings widely): adjacent points that disagree are
 * pooled into their request-weighted mean (isotonic regression, pool-adjacent-violators).
 */
export function openLoopCurve(points: readonly OpenLoopPoint[] | undefined): OpenLoopPoint[] {
  const curve = (points ?? []).filter(served).sort((a, b) => a.offeredRps - b.offeredRps);
  const weights = curve.map((p) => p.requests);
  const [p50, p95, p99] = (['p50Ms', 'p95Ms', 'p99Ms'] as const).map((k) =>
    nonDecreasing(
      curve.map((p) => p[k]),
      weights,
    ),
  );
  return curve.map((p, i) => ({ ...p, p50Ms: p50![i]!, p95Ms: p95![i]!, p99Ms: p99![i]! }));
}

/** The weighted least-squares non-decreasing fit of `values` (pool-adjacent-violators). */
export function nonDecreasing(values: readonly number[], weights: readonly number[]): number[] {
  const blocks: { value: number; weight: number; count: number }[] = [];
  values.forEach((value, i) => {
    let b = { value, weight: Math.max(weights[i] ?? 1, 1e-9), count: 1 };
    while (blocks.length > 0 && blocks[blocks.length - 1]!.value > b.value) {
      const a = blocks.pop()!;
      const weight = a.weight + b.weight;
      b = { value: (a.value * a.weight + b.value * b.weight) / weight, weight, count: a.count + b.count };
    }
    blocks.push(b);
  });
  return blocks.flatMap((b) => Array.from({ length: b.count }, () => b.value));
}

/**
 * p50/p95/p99 at `rate` on a curve (openLoopCurve): linear between the measured rates, the
 * lowest point's below them, undefined above the highest (not measured, so not predicted).
 */
export function interpolateOpenLoop(
  curve: readonly OpenLoopPoint[],
  rate: number,
): { p50Ms: number; p95Ms: number; p99Ms: number } | undefined {
  const last = curve[curve.length - 1];
  if (!last || rate > last.offeredRps + 1e-9) return undefined;
  const pick = (p: OpenLoopPoint) => ({ p50Ms: p.p50Ms, p95Ms: p.p95Ms, p99Ms: p.p99Ms });
  if (rate <= curve[0]!.offeredRps) return pick(curve[0]!);
  const i = curve.findIndex((p) => p.offeredRps >= rate);
  const [a, b] = [curve[i - 1]!, curve[i]!];
  const f = (rate - a.offeredRps) / (b.offeredRps - a.offeredRps);
  const mix = (x: number, y: number): number => x + f * (y - x);
  return { p50Ms: mix(a.p50Ms, b.p50Ms), p95Ms: mix(a.p95Ms, b.p95Ms), p99Ms: mix(a.p99Ms, b.p99Ms) };
}

/**
 * The fewest replicas whose per-replica rate lies on the open-loop curve with every latency
 * budget met, or why none does (with the measured number). More replicas only help while
 * they lower the rate along the curve: below its lowest rate the latency does not improve.
 */
export function openLoopReplicas(
  curve: readonly OpenLoopPoint[],
  qos: QosAsk,
  maxReplicas = Infinity,
):
  | { ok: true; replicas: number; rate: number; p50Ms: number; p95Ms: number; p99Ms: number }
  | { ok: false; reason: string } {
  const top = curve[curve.length - 1]!;
  const low = curve[0]!;
  const describe = `open loop, batch ${top.batchSize}, measured ${fmtRate(low.offeredRps)} to ${fmtRate(top.offeredRps)}`;
  let n = Math.max(1, Math.ceil(qos.rps / top.offeredRps - 1e-9));
  for (; ; n++) {
    if (n > maxReplicas) {
      return {
        ok: false,
        reason: `needs more than ${maxReplicas} replica${maxReplicas === 1 ? '' : 's'} for ${fmtRate(qos.rps)} (${describe})`,
      };
    }
    const rate = qos.rps / n;
    const at = interpolateOpenLoop(curve, rate)!;
    const miss = misses(at, qos)[0];
    if (!miss) return { ok: true, replicas: n, rate, ...at };
    if (rate <= low.offeredRps)
      return {
        ok: false,
        reason: `${miss.label} at ${fmtRate(low.offeredRps)} is ${fmtMs(miss.value)} > ${fmtMs(miss.budget)} even at the lowest measured rate (${describe})`,
      };
  }
}

const rejected = (tier: string, reason: string): TierVerdict => ({
  tier,
  ok: false,
  reason: `${tier}: ${reason}`,
  replicas: 0,
  batchSize: 0,
  maxQueueDelayMs: 0,
  concurrency: 0,
  p99Ms: 0,
  throughputPerReplica: 0,
  expectedP99Ms: 0,
  basis: '',
  costPerHour: 0,
  costPer1kRequests: 0,
});

/** One tier against the QoS. */
export function tierVerdict(t: TierProfile, qos: QosAsk, o: CapacityOptions = {}): TierVerdict {
  const name = t.tier.name;
  if (!t.fits) return rejected(name, t.reason || 'the model does not fit');
  const measured = t.points.filter((p) => p.requests > 0 && p.errors === 0);
  if (measured.length === 0) {
    const failed = t.points.find((p) => p.errors > 0);
    return rejected(
      name,
      failed ? `every point had errors, e.g. ${failed.firstError ?? 'unknown'}` : 'no point was measured',
    );
  }
  const curve = openLoopCurve(t.openLoop);
  if (curve.length > 0 && qos.rps > 0) return openLoopVerdict(t, curve, measured, qos, o);
  const qualifying = measured.filter((p) => misses(p, qos).length === 0);
  const miss = closestMiss(t, qos);
  if (qualifying.length === 0 && miss) {
    return rejected(
      name,
      `${miss.label} at ${at(miss.point)} is ${fmtMs(miss.value)} > ${fmtMs(miss.budget)} budget (the closest of ${measured.length} point${measured.length === 1 ? '' : 's'})`,
    );
  }
  const best = [...qualifying].sort((a, b) => b.throughput - a.throughput || a.p99Ms - b.p99Ms)[0]!;
  const replicas = qos.rps > 0 ? Math.max(1, Math.ceil(qos.rps / best.throughput - 1e-9)) : 1;
  const costPerHour = Number((replicas * t.tier.costPerHour).toFixed(6));
  const served = qos.rps > 0 ? qos.rps : best.throughput * replicas;
  const costPer1kRequests = costPerHour / (served * 3.6);
  const sizing = `${replicas} replica${replicas === 1 ? '' : 's'} at ${fmtCost(t.tier.costPerHour)}/h = ${fmtCost(costPerHour)}/h`;
  if (o.maxReplicas !== undefined && replicas > o.maxReplicas)
    return rejected(
      name,
      `needs ${replicas} replicas of ${fmtRate(best.throughput)} (${at(best)}) for ${fmtRate(qos.rps)} > max ${o.maxReplicas}`,
    );
  if (qos.maxCostPerHour > 0 && costPerHour > qos.maxCostPerHour + 1e-12)
    return rejected(name, `needs ${sizing} > max ${fmtCost(qos.maxCostPerHour)}/h`);
  const budgets = BUDGETS.filter(([, k]) => qos[k] > 0).map(
    ([label, k]) => `${label} ${fmtMs(best[k])} ≤ ${fmtMs(qos[k])}`,
  );
  // Said in the recommendation: a closed loop does not see the queueing of random arrivals.
  const basis = qos.rps > 0 ? 'closed-loop (the profile has no open-loop points)' : 'closed-loop';
  return {
    tier: name,
    ok: true,
    reason: `${name}: ${sizing}; ${fmtRate(best.throughput)} per replica at ${at(best)}${budgets.length ? ` (${budgets.join(', ')})` : ''}`,
    replicas,
    batchSize: best.batchSize,
    maxQueueDelayMs: best.batchSize > 1 ? (o.maxQueueDelayMs ?? 0) : 0,
    concurrency: best.concurrency,
    p99Ms: best.p99Ms,
    throughputPerReplica: best.throughput,
    expectedP99Ms: expectedP99(t.points, best.batchSize, best.concurrency, served / replicas),
    basis,
    costPerHour,
    costPer1kRequests,
  };
}

/** A tier with open-loop points against a QoS with a target rate (see the header). */
function openLoopVerdict(
  t: TierProfile,
  curve: readonly OpenLoopPoint[],
  measured: readonly ProfilePoint[],
  qos: QosAsk,
  o: CapacityOptions,
): TierVerdict {
  const name = t.tier.name;
  const batchSize = curve[0]!.batchSize;
  const fit = openLoopReplicas(curve, qos, o.maxReplicas);
  if (!fit.ok) return rejected(name, fit.reason);
  const costPerHour = Number((fit.replicas * t.tier.costPerHour).toFixed(6));
  if (qos.maxCostPerHour > 0 && costPerHour > qos.maxCostPerHour + 1e-12)
    return rejected(
      name,
      `needs ${fit.replicas} replica${fit.replicas === 1 ? '' : 's'} at ${fmtCost(t.tier.costPerHour)}/h = ${fmtCost(costPerHour)}/h > max ${fmtCost(qos.maxCostPerHour)}/h`,
    );
  // The batch setting's saturation point (closed loop): its capacity per replica, and the concurrency target.
  const saturation = measured
    .filter((p) => p.batchSize === batchSize)
    .sort((a, b) => b.throughput - a.throughput || a.p99Ms - b.p99Ms)[0];
  const budgets = BUDGETS.filter(([, k]) => qos[k] > 0).map(
    ([label, k]) => `${label} ${fmtMs(fit[k])} ≤ ${fmtMs(qos[k])}`,
  );
  const top = curve[curve.length - 1]!;
  return {
    tier: name,
    ok: true,
    reason:
      `${name}: ${fit.replicas} replica${fit.replicas === 1 ? '' : 's'} at ${fmtCost(t.tier.costPerHour)}/h = ${fmtCost(costPerHour)}/h; ` +
      `${fmtRate(fit.rate)} per replica, batch ${batchSize}${budgets.length ? ` (${budgets.join(', ')})` : ''}, ` +
      `from the open loop measured ${fmtRate(curve[0]!.offeredRps)} to ${fmtRate(top.offeredRps)}`,
    replicas: fit.replicas,
    batchSize,
    maxQueueDelayMs: batchSize > 1 ? (o.maxQueueDelayMs ?? 0) : 0,
    concurrency: saturation?.concurrency ?? 0,
    p99Ms: saturation?.p99Ms ?? 0,
    throughputPerReplica: saturation?.throughput ?? top.throughput,
    expectedP99Ms: fit.p99Ms,
    basis: 'open-loop',
    costPerHour,
    costPer1kRequests: costPerHour / (qos.rps * 3.6),
  };
}

/** Every tier of the profile against the QoS, feasible ones ranked cheapest first. */
export function analyzeCapacity(profile: ModelProfile, qos: QosAsk, o: CapacityOptions = {}): CapacityReport {
  const options = { maxQueueDelayMs: profile.settings.maxQueueDelayMs, ...o };
  const verdicts = profile.tiers.map((t) => tierVerdict(t, qos, options));
  const ok = verdicts
    .filter((v) => v.ok)
    .sort((a, b) => a.costPerHour - b.costPerHour || a.p99Ms - b.p99Ms || a.replicas - b.replicas);
  return {
    qos,
    feasible: ok.length > 0,
    ...(ok[0] ? { best: ok[0] } : {}),
    tiers: [...ok, ...verdicts.filter((v) => !v.ok)],
  };
}

/** The verdict the deployment plan's "QoS reachable" check shows, for one tier of a profile. */
export function qosCheck(profile: ModelProfile, tier: string, qos: QosAsk): { ok: boolean; message: string } {
  const t = profile.tiers.find((x) => x.tier.name === tier);
  const model = `${profile.model.name}:${profile.model.version}`;
  if (!t) {
    const have = profile.tiers.map((x) => x.tier.name).join(', ') || 'none';
    return {
      ok: false,
      message: `the profile of ${model} has no tier ${tier} (profiled: ${have}); run \`stratum profile ${profile.model.name} --tiers ${tier}\``,
    };
  }
  const v = tierVerdict(t, qos, { maxQueueDelayMs: profile.settings.maxQueueDelayMs });
  return { ok: v.ok, message: `${v.reason} (profile of ${model})` };
}

/**
 * Picking the best trial by the user's rule, as a pure function. Trials that break a
 * constraint are set aside with the reason, so the leaderboard can say why.
 */
export interface Candidate {
  readonly id: string;
  readonly metrics: Readonly<Record<string, number>>;
  readonly modelSizeBytes: number;
}

export interface SelectionRule {
  readonly metric: string;
  readonly goal: 'maximize' | 'minimize';
  readonly maxModelSizeBytes?: number;
  readonly minMetric?: Readonly<Record<string, number>>;
  readonly maxMetric?: Readonly<Record<string, number>>;
}

export interface SelectionResult {
  readonly bestId?: string;
  /** Trial id → why it was set aside. */
  readonly excluded: ReadonlyMap<string, string>;
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toPrecision(4);
}

export function exclusionReason(c: Candidate, rule: SelectionRule): string | undefined {
  const value = c.metrics[rule.metric];
  if (value === undefined || !Number.isFinite(value)) return `no ${rule.metric} reported`;
  if (rule.maxModelSizeBytes !== undefined && c.modelSizeBytes > rule.maxModelSizeBytes) {
    return `model size ${c.modelSizeBytes} B > maxModelSize ${rule.maxModelSizeBytes} B`;
  }
  for (const [m, min] of Object.entries(rule.minMetric ?? {})) {
    const v = c.metrics[m];
    if (v === undefined || v < min) return `${m} ${v === undefined ? 'missing' : fmt(v)} < ${fmt(min)}`;
  }
  for (const [m, max] of Object.entries(rule.maxMetric ?? {})) {
    const v = c.metrics[m];
    if (v === undefined || v > max) return `${m} ${v === undefined ? 'missing' : fmt(v)} > ${fmt(max)}`;
  }
  return undefined;
}

/** Ties go to the earlier trial, so the result does not depend on finishing order. */
export function selectBest(candidates: readonly Candidate[], rule: SelectionRule): SelectionResult {
  const excluded = new Map<string, string>();
  let best: Candidate | undefined;
  for (const c of candidates) {
    const reason = exclusionReason(c, rule);
    if (reason) {
      excluded.set(c.id, reason);
      continue;
    }
    const v = c.metrics[rule.metric]!;
    if (!best) best = c;
    else {
      const b = best.metrics[rule.metric]!;
      if (rule.goal === 'maximize' ? v > b : v < b) best = c;
    }
  }
  return { bestId: best?.id, excluded };
}

/** Sort for a leaderboard: eligible trials by metric, then the rest. */
export function rankTrials<T extends Candidate>(trials: readonly T[], rule: SelectionRule): T[] {
  const score = (t: T): number => {
    const v = t.metrics[rule.metric];
    if (v === undefined || !Number.isFinite(v)) return Number.NEGATIVE_INFINITY;
    return rule.goal === 'maximize' ? v : -v;
  };
  return trials.slice().sort((a, b) => score(b) - score(a));
}

/**
 * Early stopping policies (off by default), pure: given the per-epoch history of every trial
 * of a run, decide whether one trial should stop now.
 *  - median rule (as in Google Vizier / Ray Tune's MedianStoppingRule): stop a trial whose best
 *    value so far is worse than the median of the other trials' running averages at that epoch.
 *  - ASHA (asynchronous successive halving): at rung epochs grace·η^k, a trial continues only if
 *    it is in the top 1/η of the trials that reached that rung.
 */
export interface EarlyStoppingPolicy {
  readonly rule: 'median' | 'asha';
  readonly metric: string;
  readonly goal: 'maximize' | 'minimize';
  readonly graceEpochs: number;
  readonly reductionFactor: number;
}

export type History = ReadonlyArray<{ readonly epoch: number; readonly metrics: Readonly<Record<string, number>> }>;

export interface StopDecision {
  readonly stop: boolean;
  readonly reason?: string;
}

const KEEP: StopDecision = { stop: false };

function valueAt(h: History, epoch: number, metric: string): number | undefined {
  return h.find((e) => e.epoch === epoch)?.metrics[metric];
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function shouldStop(
  policy: EarlyStoppingPolicy,
  trial: History,
  others: readonly History[],
  epoch: number,
): StopDecision {
  if (epoch < Math.max(1, policy.graceEpochs)) return KEEP;
  const better = (a: number, b: number): boolean => (policy.goal === 'maximize' ? a > b : a < b);
  const mine = trial
    .filter((e) => e.epoch <= epoch)
    .map((e) => e.metrics[policy.metric])
    .filter(isNum);
  if (mine.length === 0) return KEEP;
  if (policy.rule === 'median') {
    const peers = others
      .map((h) =>
        h
          .filter((e) => e.epoch <= epoch)
          .map((e) => e.metrics[policy.metric])
          .filter(isNum),
      )
      .filter((vals) => vals.length >= epoch)
      .map((vals) => vals.reduce((a, b) => a + b, 0) / vals.length);
    if (peers.length < 2) return KEEP;
    const best = mine.reduce((a, b) => (better(a, b) ? a : b));
    const med = median(peers);
    return better(med, best)
      ? {
          stop: true,
          reason: `median rule at epoch ${epoch}: best ${policy.metric} ${round(best)} worse than median ${round(med)}`,
        }
      : KEEP;
  }
  // ASHA: only decide at rung epochs.
  const eta = policy.reductionFactor;
  const grace = Math.max(1, policy.graceEpochs);
  let rung = grace;
  while (rung < epoch) rung *= eta;
  if (rung !== epoch) return KEEP;
  const current = valueAt(trial, epoch, policy.metric);
  if (current === undefined) return KEEP;
  const atRung = others.map((h) => valueAt(h, epoch, policy.metric)).filter(isNum);
  atRung.push(current);
  if (atRung.length < eta) return KEEP;
  const sorted = atRung.slice().sort((a, b) => (better(a, b) ? -1 : better(b, a) ? 1 : 0));
  const keep = Math.max(1, Math.floor(sorted.length / eta));
  const cutoff = sorted[keep - 1]!;
  return better(cutoff, current)
    ? {
        stop: true,
        reason: `ASHA rung ${epoch}: ${policy.metric} ${round(current)} not in the top 1/${eta} (cut-off ${round(cutoff)})`,
      }
    : KEEP;
}

function isNum(v: number | undefined): v is number {
  return v !== undefined && Number.isFinite(v);
}

function round(v: number): string {
  return v.toPrecision(4);
}

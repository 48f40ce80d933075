/**
 * Trials report the metrics of a trivial baseline (majority class, training mean) on the
 * same evaluation, so users see what the models beat. They travel with this prefix and are
 * kept on the run, not on the trial.
 */
export const BASELINE_PREFIX = 'baseline_';

export function splitBaseline(metrics: Readonly<Record<string, number>>): {
  model: Record<string, number>;
  baseline: Record<string, number>;
} {
  const model: Record<string, number> = {};
  const baseline: Record<string, number> = {};
  for (const [k, v] of Object.entries(metrics)) {
    if (k.startsWith(BASELINE_PREFIX)) baseline[k.slice(BASELINE_PREFIX.length)] = v;
    else model[k] = v;
  }
  return { model, baseline };
}

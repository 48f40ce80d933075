/**
 * Evaluation metrics, named as in the catalog's METRICS so selection can look them up.
 * Pure functions over plain arrays: the worker scores a trained model on the test split, and
 * `baselineMetrics` scores the trivial predictor on the same split so a user can see how much
 * the model actually learned.
 */
import type { Task } from './catalog';

/**
 * Metric name → value. Keys are catalog MetricNames; a plain record so results merge freely
 * with per-fold and `baseline_`-prefixed copies.
 */
export type Metrics = Record<string, number>;

/** Probabilities are clipped here before the log, as scikit-learn does, so one confident miss is finite. */
const LOGLOSS_EPS = 1e-15;

function checkLengths(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): void {
  if (yTrue.length !== yPred.length) throw new RangeError(`yTrue has ${yTrue.length} values, yPred ${yPred.length}`);
  if (yTrue.length === 0) throw new RangeError('cannot evaluate on zero rows');
}

/**
 * Accuracy, and precision / recall / F1 macro-averaged over the classes that occur in yTrue or
 * yPred (scikit-learn's default label set); a class never predicted has precision 0. logloss
 * only when `proba` (one row of nClasses probabilities per sample) is given.
 */
export function evaluateClassification(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  proba: readonly ArrayLike<number>[] | undefined,
  nClasses: number,
): Metrics {
  checkLengths(yTrue, yPred);
  const tp = new Float64Array(nClasses);
  const predicted = new Float64Array(nClasses);
  const actual = new Float64Array(nClasses);
  let correct = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i]!;
    const p = yPred[i]!;
    if (!(t >= 0 && t < nClasses && p >= 0 && p < nClasses)) {
      throw new RangeError(`row ${i}: class index out of [0, ${nClasses}): true ${t}, predicted ${p}`);
    }
    actual[t]++;
    predicted[p]++;
    if (t === p) {
      tp[t]++;
      correct++;
    }
  }
  let precision = 0;
  let recall = 0;
  let f1 = 0;
  let labels = 0;
  for (let c = 0; c < nClasses; c++) {
    if (actual[c] === 0 && predicted[c] === 0) continue;
    labels++;
    const pc = predicted[c]! > 0 ? tp[c]! / predicted[c]! : 0;
    const rc = actual[c]! > 0 ? tp[c]! / actual[c]! : 0;
    precision += pc;
    recall += rc;
    f1 += pc + rc > 0 ? (2 * pc * rc) / (pc + rc) : 0;
  }
  const out: Metrics = {
    accuracy: correct / yTrue.length,
    f1: f1 / labels,
    precision: precision / labels,
    recall: recall / labels,
  };
  if (proba) out.logloss = logloss(yTrue, proba);
  return out;
}

export function logloss(yTrue: ArrayLike<number>, proba: readonly ArrayLike<number>[]): number {
  if (proba.length !== yTrue.length)
    throw new RangeError(`yTrue has ${yTrue.length} values, proba ${proba.length} rows`);
  let sum = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const p = proba[i]![yTrue[i]!] ?? 0;
    sum -= Math.log(Math.min(1 - LOGLOSS_EPS, Math.max(LOGLOSS_EPS, p)));
  }
  return sum / yTrue.length;
}

/** rmse, mae and r2 (1 − SS_res/SS_tot; with constant yTrue: 1 when exact, else 0, never NaN). */
export function evaluateRegression(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): Metrics {
  checkLengths(yTrue, yPred);
  const n = yTrue.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += yTrue[i]!;
  mean /= n;
  let ssRes = 0;
  let ssTot = 0;
  let absSum = 0;
  for (let i = 0; i < n; i++) {
    const e = yTrue[i]! - yPred[i]!;
    ssRes += e * e;
    absSum += Math.abs(e);
    ssTot += (yTrue[i]! - mean) ** 2;
  }
  const r2 = ssTot > 0 ? 1 - ssRes / ssTot : ssRes === 0 ? 1 : 0;
  return { rmse: Math.sqrt(ssRes / n), mae: absSum / n, r2 };
}

/** Dispatches on task; nClasses (when absent or 0) is the largest label seen plus one. */
export function evaluate(
  task: Task,
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  proba?: readonly ArrayLike<number>[],
  nClasses?: number,
): Metrics {
  if (task === 'regression') return evaluateRegression(yTrue, yPred);
  return evaluateClassification(yTrue, yPred, proba, nClasses || inferClassCount(yTrue, yPred));
}

function inferClassCount(...labels: ArrayLike<number>[]): number {
  let max = -1;
  for (const ys of labels) for (let i = 0; i < ys.length; i++) max = Math.max(max, ys[i]!);
  return max + 1;
}

/**
 * Scores the trivial predictor fitted on yTrain against yTest: the majority class (lowest index
 * on ties) with the training class frequencies as probabilities, or the training mean.
 * nClasses as in `evaluate`.
 */
export function baselineMetrics(
  task: Task,
  yTrain: ArrayLike<number>,
  yTest: ArrayLike<number>,
  nClasses?: number,
): Metrics {
  if (yTrain.length === 0) throw new RangeError('baseline needs at least one training row');
  if (task === 'regression') {
    let mean = 0;
    for (let i = 0; i < yTrain.length; i++) mean += yTrain[i]!;
    return evaluateRegression(yTest, new Float64Array(yTest.length).fill(mean / yTrain.length));
  }
  const k = nClasses || inferClassCount(yTrain, yTest);
  const prior = classFrequencies(yTrain, k);
  const majority = prior.indexOf(Math.max(...prior));
  return evaluateClassification(
    yTest,
    new Float64Array(yTest.length).fill(majority),
    Array.from({ length: yTest.length }, () => prior),
    k,
  );
}

/** Share of each class in `y` (k entries, summing to 1). */
export function classFrequencies(y: ArrayLike<number>, k: number): number[] {
  const counts = new Array<number>(k).fill(0);
  for (let i = 0; i < y.length; i++) counts[y[i]!]!++;
  return counts.map((c) => c / y.length);
}

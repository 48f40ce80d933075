/**
 * Multinomial (softmax) logistic regression by full-batch gradient descent.
 *
 * Written here instead of using ml-logistic-regression because that package fits one-vs-rest
 * models without an intercept, sums rather than averages the gradient (so the catalog's
 * learning rate diverges on a few hundred rows) and gives no probabilities. Features are
 * standardised inside the model so one learning rate suits any feature scale.
 */
import { argmax, checkFeatureCount, checkInput, readState } from './common';
import { throwIfAborted } from './errors';
import { resolveParams } from './params';
import type { TrainedModel, TrainerPlugin, TrainInput } from './types';

const NAME = 'logistic-regression';
/** Steps between abort checks and event-loop yields, so a long fit stays cancellable. */
const YIELD_EVERY = 100;

interface LogisticParams {
  numSteps: number;
  learningRate: number;
}

interface LogisticState {
  trainer: typeof NAME;
  version: 1;
  features: number;
  nClasses: number;
  mean: number[];
  scale: number[];
  /** nClasses rows of (features + 1) weights, the last being the intercept. */
  weights: number[][];
}

/** Column means and standard deviations (1 for a constant column, so it is left unscaled). */
export function standardizer(x: readonly Float64Array[], features: number): { mean: number[]; scale: number[] } {
  const mean = new Array<number>(features).fill(0);
  const scale = new Array<number>(features).fill(0);
  for (const row of x) for (let j = 0; j < features; j++) mean[j]! += row[j]! / x.length;
  for (const row of x) for (let j = 0; j < features; j++) scale[j]! += (row[j]! - mean[j]!) ** 2 / x.length;
  return { mean, scale: scale.map((v) => (v > 0 ? Math.sqrt(v) : 1)) };
}

function scaled(x: readonly Float64Array[], mean: readonly number[], scale: readonly number[]): Float64Array[] {
  return x.map((row) => Float64Array.from(row, (v, j) => (v - mean[j]!) / scale[j]!));
}

/** Softmax of W·[z, 1], written into `out` (max-subtracted so exp never overflows). */
function softmaxInto(weights: readonly Float64Array[], z: Float64Array, out: Float64Array): void {
  const d = z.length;
  let max = -Infinity;
  for (let c = 0; c < weights.length; c++) {
    const w = weights[c]!;
    let s = w[d]!;
    for (let j = 0; j < d; j++) s += w[j]! * z[j]!;
    out[c] = s;
    if (s > max) max = s;
  }
  let total = 0;
  for (let c = 0; c < out.length; c++) total += out[c] = Math.exp(out[c]! - max);
  for (let c = 0; c < out.length; c++) out[c]! /= total;
}

async function fit(
  z: readonly Float64Array[],
  y: Float64Array,
  nClasses: number,
  params: LogisticParams,
  signal: AbortSignal | undefined,
): Promise<Float64Array[]> {
  const d = z[0]!.length;
  const weights = Array.from({ length: nClasses }, () => new Float64Array(d + 1));
  const grad = Array.from({ length: nClasses }, () => new Float64Array(d + 1));
  const p = new Float64Array(nClasses);
  const rate = params.learningRate / z.length;
  for (let step = 0; step < params.numSteps; step++) {
    if (step % YIELD_EVERY === 0 && step > 0) {
      await new Promise((resolve) => setImmediate(resolve));
      throwIfAborted(NAME, signal);
    }
    grad.forEach((g) => g.fill(0));
    for (let i = 0; i < z.length; i++) {
      const row = z[i]!;
      softmaxInto(weights, row, p);
      p[y[i]!]! -= 1;
      for (let c = 0; c < nClasses; c++) {
        const g = grad[c]!;
        const e = p[c]!;
        for (let j = 0; j < d; j++) g[j]! += e * row[j]!;
        g[d]! += e;
      }
    }
    for (let c = 0; c < nClasses; c++) {
      const w = weights[c]!;
      const g = grad[c]!;
      for (let j = 0; j <= d; j++) w[j]! -= rate * g[j]!;
    }
  }
  return weights;
}

function wrap(state: LogisticState): TrainedModel {
  const weights = state.weights.map((w) => Float64Array.from(w));
  const proba = (x: readonly Float64Array[]): Float64Array[] => {
    checkFeatureCount(NAME, x, state.features);
    return scaled(x, state.mean, state.scale).map((z) => {
      const out = new Float64Array(state.nClasses);
      softmaxInto(weights, z, out);
      return out;
    });
  };
  return {
    trainer: NAME,
    backend: 'js',
    predict: (x) => Float64Array.from(proba(x), (p) => argmax(p)),
    predictProba: proba,
    toJSON: () => state,
  };
}

export const logisticRegressionTrainer: TrainerPlugin = {
  name: NAME,
  async train(input: TrainInput): Promise<TrainedModel> {
    const params = resolveParams<LogisticParams>(NAME, input.params);
    const { features, nClasses } = checkInput(NAME, input);
    throwIfAborted(NAME, input.signal);
    const { mean, scale } = standardizer(input.x, features);
    const weights = await fit(scaled(input.x, mean, scale), input.y, nClasses, params, input.signal);
    return wrap({
      trainer: NAME,
      version: 1,
      features,
      nClasses,
      mean,
      scale,
      weights: weights.map((w) => Array.from(w)),
    });
  },
  async load(raw: unknown): Promise<TrainedModel> {
    return wrap(readState<LogisticState>(NAME, 1, raw));
  },
};

/**
 * Linear models → ONNX. Linear regression is MatMul + Add. The softmax logistic regression
 * keeps its standardisation as Sub/Div nodes (rather than folding it into the weights) so the
 * graph computes what the trainer computes, in the same order: z = (x - mean) / scale,
 * logits = z·Wᵀ + b, probabilities = softmax(logits).
 */
import type { GraphBuilder } from './builder';
import { OnnxExportError } from './errors';

/** The linear-regression trainer's state (trainers/linear.ts). */
export interface LinearState {
  readonly features: number;
  readonly coefficients: readonly number[];
  readonly intercept: number;
}

/** The logistic-regression trainer's state (trainers/logistic.ts). */
export interface LogisticState {
  readonly features: number;
  readonly nClasses: number;
  readonly mean: readonly number[];
  readonly scale: readonly number[];
  /** nClasses rows of (features + 1) weights, the last being the intercept. */
  readonly weights: readonly (readonly number[])[];
}

function check(trainer: string, ok: boolean, what: string): void {
  if (!ok) throw new OnnxExportError(trainer, `the saved state is malformed: ${what}`);
}

/** [N, features] → prediction [N, 1]. */
export function linearRegressionGraph(g: GraphBuilder, x: string, state: LinearState): string {
  const d = state.features;
  check('linear-regression', state.coefficients?.length === d, `expected ${d} coefficients`);
  check('linear-regression', Number.isFinite(state.intercept), 'the intercept is not a number');
  const w = g.floats('coefficients', state.coefficients, [d, 1]);
  const b = g.floats('intercept', [state.intercept], [1]);
  return g.op('Add', [g.op('MatMul', [x, w]), b], {}, 'linear_out');
}

/** [N, features] → probabilities [N, nClasses]. */
export function logisticGraph(g: GraphBuilder, x: string, state: LogisticState): string {
  const { features: d, nClasses: k } = state;
  const trainer = 'logistic-regression';
  check(trainer, state.mean?.length === d && state.scale?.length === d, `expected ${d} means and scales`);
  check(trainer, state.weights?.length === k, `expected ${k} weight rows`);
  check(
    trainer,
    state.weights.every((row) => row.length === d + 1),
    `expected ${d + 1} weights per class`,
  );
  // Wᵀ: [features, classes], so each row of z multiplies into one logit per class.
  const wt = new Float32Array(d * k);
  for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) wt[j * k + c] = state.weights[c]![j]!;
  const z = g.op(
    'Div',
    [g.op('Sub', [x, g.floats('mean', state.mean, [d])]), g.floats('scale', state.scale, [d])],
    {},
    'standardized',
  );
  const logits = g.op(
    'Add',
    [
      g.op('MatMul', [z, g.floats('weights', wt, [d, k])]),
      g.floats(
        'bias',
        state.weights.map((row) => row[d]!),
        [k],
      ),
    ],
    {},
    'logits',
  );
  return g.op('Softmax', [logits], {}, 'softmax');
}

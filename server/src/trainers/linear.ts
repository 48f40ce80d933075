/**
 * Linear least squares, optionally ridge-regularised (the intercept is never penalised, as in
 * scikit-learn's Ridge). Ridge is solved as ordinary least squares on rows augmented with
 * sqrt(ridge)·I, so one QR path serves both; a rank-deficient design (duplicate or constant
 * columns) falls back to the SVD's minimum-norm solution instead of returning NaN.
 */
import { Matrix, QrDecomposition, solve } from 'ml-matrix';
import { checkFeatureCount, checkInput, readState } from './common';
import { asTrainerError, throwIfAborted } from './errors';
import { resolveParams } from './params';
import type { TrainedModel, TrainerPlugin, TrainInput } from './types';

const NAME = 'linear-regression';

interface LinearParams {
  ridge: number;
  intercept: boolean;
}

interface LinearState {
  trainer: typeof NAME;
  version: 1;
  features: number;
  coefficients: number[];
  intercept: number;
}

/** Coefficients (one per feature) and intercept (0 when not fitted). */
export function fitLinear(
  x: readonly Float64Array[],
  y: ArrayLike<number>,
  ridge: number,
  intercept: boolean,
): { coefficients: number[]; intercept: number } {
  const d = x[0]!.length;
  const cols = d + (intercept ? 1 : 0);
  const penalised = ridge > 0 ? d : 0;
  const a = new Matrix(x.length + penalised, cols);
  const b = new Matrix(x.length + penalised, 1);
  x.forEach((row, i) => {
    for (let j = 0; j < d; j++) a.set(i, j, row[j]!);
    if (intercept) a.set(i, d, 1);
    b.set(i, 0, y[i]!);
  });
  for (let j = 0; j < penalised; j++) a.set(x.length + j, j, Math.sqrt(ridge));
  const qr = a.rows >= cols ? new QrDecomposition(a) : undefined;
  const beta = qr?.isFullRank() ? qr.solve(b) : solve(a, b, true);
  const coefficients = beta.getColumn(0);
  return { coefficients: coefficients.slice(0, d), intercept: intercept ? coefficients[d]! : 0 };
}

function wrap(state: LinearState): TrainedModel {
  return {
    trainer: NAME,
    backend: 'ml.js',
    predict(x) {
      checkFeatureCount(NAME, x, state.features);
      return Float64Array.from(x, (row) => row.reduce((s, v, j) => s + v * state.coefficients[j]!, state.intercept));
    },
    toJSON: () => state,
  };
}

export const linearRegressionTrainer: TrainerPlugin = {
  name: NAME,
  async train(input: TrainInput): Promise<TrainedModel> {
    const params = resolveParams<LinearParams>(NAME, input.params);
    const { features } = checkInput(NAME, input);
    throwIfAborted(NAME, input.signal);
    try {
      const fitted = fitLinear(input.x, input.y, params.ridge, params.intercept);
      return wrap({ trainer: NAME, version: 1, features, ...fitted });
    } catch (err) {
      throw asTrainerError(NAME, err);
    }
  },
  async load(raw: unknown): Promise<TrainedModel> {
    return wrap(readState<LinearState>(NAME, 1, raw));
  },
};

/** Helpers shared by the built-in plugins: input checks, row conversion, class arithmetic. */
import { trainerInfo } from './catalog';
import { TrainerError } from './errors';
import type { Task } from './catalog';
import type { TrainedModel, TrainInput } from './types';

export interface InputShape {
  readonly rows: number;
  readonly features: number;
  /** Classification only (0 for regression): `classes.length`, else the largest label + 1. */
  readonly nClasses: number;
}

/**
 * Checks what every trainer assumes: the trainer handles the task, rows are rectangular and
 * finite, y aligns with x, class labels are integers in range. Fails early with the trainer's
 * name rather than deep inside a library with an unrelated message.
 */
export function checkInput(trainer: string, input: TrainInput): InputShape {
  const info = trainerInfo(trainer);
  if (info && !info.tasks.includes(input.task)) {
    throw new TrainerError(trainer, `does not handle ${input.task} (only ${info.tasks.join(', ')})`, {
      code: 'INVALID_INPUT',
    });
  }
  const rows = input.x.length;
  if (rows === 0) throw new TrainerError(trainer, 'no training rows', { code: 'INVALID_INPUT' });
  if (input.y.length !== rows) {
    throw new TrainerError(trainer, `x has ${rows} rows but y has ${input.y.length} values`, { code: 'INVALID_INPUT' });
  }
  const features = input.x[0]!.length;
  input.x.forEach((row, i) => {
    if (row.length !== features) {
      throw new TrainerError(trainer, `row ${i} has ${row.length} features, row 0 has ${features}`, {
        code: 'INVALID_INPUT',
      });
    }
    if (!row.every(Number.isFinite)) {
      throw new TrainerError(trainer, `row ${i} has a missing or infinite feature value`, { code: 'INVALID_INPUT' });
    }
  });
  if (!input.y.every(Number.isFinite))
    throw new TrainerError(trainer, 'y has a missing or infinite value', { code: 'INVALID_INPUT' });
  if (input.task === 'regression') return { rows, features, nClasses: 0 };
  let max = 0;
  for (const label of input.y) {
    if (!Number.isInteger(label) || label < 0) {
      throw new TrainerError(trainer, `class label ${label} is not a class index`, { code: 'INVALID_INPUT' });
    }
    max = Math.max(max, label);
  }
  const nClasses = input.classes?.length ?? max + 1;
  if (max >= nClasses) {
    throw new TrainerError(trainer, `class index ${max} but only ${nClasses} classes`, { code: 'INVALID_INPUT' });
  }
  return { rows, features, nClasses };
}

/** ml.js wants plain nested arrays. */
export function toRows(x: readonly Float64Array[]): number[][] {
  return x.map((row) => Array.from(row));
}

/** Index of the largest value; the lowest index wins ties so results never depend on order. */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

export function checkFeatureCount(trainer: string, x: readonly Float64Array[], features: number): void {
  const bad = x.findIndex((row) => row.length !== features);
  if (bad >= 0) {
    throw new TrainerError(trainer, `row ${bad} has ${x[bad]!.length} features, the model takes ${features}`, {
      code: 'INVALID_INPUT',
    });
  }
}

/** Reads a serialised model's envelope, checking it was written by this trainer. */
export function readState<T extends { trainer: string; version: number }>(
  trainer: string,
  version: number,
  state: unknown,
): T {
  const s = state as Partial<T> | null;
  if (typeof s !== 'object' || s === null || s.trainer !== trainer || s.version !== version) {
    throw new TrainerError(trainer, `not a saved ${trainer} model (version ${version})`, { code: 'INVALID_STATE' });
  }
  return s as T;
}

/**
 * A model's predict and predictProba from its probability and regression functions, both behind
 * the feature-count check. For classification predict is the argmax of the probabilities, so
 * the two never disagree; predictProba exists for classification only.
 */
export function predictors(
  trainer: string,
  task: Task,
  features: number,
  proba: (x: readonly Float64Array[]) => Float64Array[],
  regress: (x: readonly Float64Array[]) => Float64Array,
): Pick<TrainedModel, 'predict' | 'predictProba'> {
  const checked =
    <T>(f: (x: readonly Float64Array[]) => T) =>
    (x: readonly Float64Array[]): T => {
      checkFeatureCount(trainer, x, features);
      return f(x);
    };
  if (task === 'regression') return { predict: checked(regress) };
  return { predict: checked((x) => Float64Array.from(proba(x), (p) => argmax(p))), predictProba: checked(proba) };
}

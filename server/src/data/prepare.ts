/**
 * From a loaded Frame and a pipeline spec to numeric train/test matrices, plus the JSON
 * Preprocessor that replays the same encoding on raw records at serving time.
 *
 * Order of work (why): rows without a target are dropped first (nothing to learn from);
 * classes are fixed on all rows so every fold encodes y the same way; the split is made on raw
 * rows and transforms are fitted on train rows only (no statistics leak from the test rows);
 * the target column rides through the transforms untouched, so row filters keep x and y aligned.
 */
import type { PipelineSpec } from '../spec/schema';
import { closest } from './expr-ast';
import { DataError } from './errors';
import { rowsWhere, takeRows } from './frame';
import { servingPlan } from './serving-plan';
import { holdoutSplit, kfoldSplit, type Fold } from './split';
import { applyTransforms, fitTransforms, type FittedTransforms } from './transforms';
import type { Column, Frame } from './types';

export type Task = 'classification' | 'regression';

/** JSON, stored with every model. */
export interface Preprocessor {
  /** Raw columns a request must supply (null allowed where a fillMissing covers it). */
  readonly inputs: readonly { name: string; kind: 'number' | 'string' }[];
  /** The steps from inputs to features; filter/dropMissing are kept but skip at serving. */
  readonly fitted: FittedTransforms;
  /** Layout of a feature vector, e.g. ["Beak Length (mm)", ..., "Island=Biscoe", ...]. */
  readonly featureNames: readonly string[];
  readonly target: string;
  readonly task: Task;
  /** Classification: class labels, sorted; y holds indices into this list. */
  readonly classes?: readonly string[];
}

/** Row-major features (x[i] is row i) and targets (class index or value). */
export interface Dataset {
  readonly x: Float64Array[];
  readonly y: Float64Array;
}

export interface PreparedFold {
  readonly train: Dataset;
  readonly test: Dataset;
  readonly preprocessor: Preprocessor;
}

export interface PreparedData {
  readonly folds: PreparedFold[];
  /** Fitted on every row with a target: the delivered model after k-fold. */
  readonly full: { readonly data: Dataset; readonly preprocessor: Preprocessor };
  readonly classes?: string[];
}

/** Class labels of a target cell: text as is, numbers as JS prints them (0/1 → "0"/"1"). */
function labels(column: Column): (string | null)[] {
  if (column.kind === 'string') return [...column.values];
  return Array.from(column.values, (v) => (Number.isNaN(v) ? null : String(v)));
}

/**
 * Encodes a target column. Classification: y[i] = index of the label in `classes` (sorted,
 * numerically for number columns, unless given). Regression: the numbers themselves.
 */
export function encodeTarget(
  column: Column,
  task: Task,
  target: string,
  classes?: readonly string[],
): { y: Float64Array; classes?: string[] } {
  if (task === 'regression') {
    if (column.kind !== 'number') {
      throw new DataError(
        'features',
        `regression needs a numeric target, but "${target}" is text; use task: classification`,
        { column: target },
      );
    }
    return { y: Float64Array.from(column.values) };
  }
  const cells = labels(column);
  const sorted =
    classes ??
    [...new Set(cells.filter((c): c is string => c !== null))].sort(
      column.kind === 'number' ? (a, b) => Number(a) - Number(b) : undefined,
    );
  const index = new Map(sorted.map((c, k) => [c, k]));
  const y = Float64Array.from(cells, (c) => (c === null ? NaN : (index.get(c) ?? NaN)));
  const unknown = cells.findIndex((c, i) => c !== null && Number.isNaN(y[i]!));
  if (unknown >= 0)
    throw new DataError(
      'features',
      `target "${target}" has class "${cells[unknown]}" at row ${unknown}, not one of ${sorted.join(', ')}`,
      { row: unknown, column: target },
    );
  return { y, classes: [...sorted] };
}

function foldsOf(spec: PipelineSpec, n: number, strata: Float64Array | undefined): Fold[] {
  const split = spec.split ?? { holdout: { test: 0.2 } };
  if ('kfold' in split) {
    const { k, seed = spec.seed ?? 0 } = split.kfold;
    return kfoldSplit(n, { k, seed, ...(strata ? { stratifyBy: strata } : {}) });
  }
  const { test = 0.2, seed = spec.seed ?? 0, stratify = strata !== undefined } = split.holdout;
  return holdoutSplit(n, { test, seed, ...(stratify && strata ? { stratifyBy: strata } : {}) });
}

/** Transformed columns that are features: all but the target, or those spec.features names (and what they became). */
function selectFeatures(raw: Frame, out: Frame, fitted: FittedTransforms, spec: PipelineSpec): string[] {
  const derived = new Set(fitted.steps.flatMap((s) => (s.kind === 'derive' ? [s.name] : [])));
  const chosen = spec.features;
  if (!chosen) return out.names.filter((n) => n !== spec.target);
  const oneHotSource = new Map<string, string>(
    fitted.steps.flatMap((s) =>
      s.kind === 'oneHot'
        ? s.columns.flatMap((c) => c.categories.map((cat) => [`${c.column}=${cat}`, c.column] as const))
        : [],
    ),
  );
  for (const name of chosen) {
    if (name === spec.target)
      throw new DataError(
        'features',
        `features lists the target "${name}"; a model cannot take its own answer as input`,
        { column: name },
      );
    if (!raw.columns.has(name) && !derived.has(name)) {
      const hint = closest(name, [...raw.names, ...derived]);
      throw new DataError(
        'features',
        `feature "${name}" is not a column of the data${hint ? ` (did you mean "${hint}")` : ''}`,
        { column: name },
      );
    }
  }
  const wanted = new Set(chosen);
  return out.names.filter((n) => {
    const source = oneHotSource.get(n);
    return wanted.has(n) || derived.has(n) || (source !== undefined && wanted.has(source));
  });
}

/** Row-major matrix of the features; refuses text and missing values with the fix to make. */
function matrix(frame: Frame, features: readonly string[], where: string): Float64Array[] {
  const cols = features.map((name) => {
    const col = frame.columns.get(name)!;
    if (col.kind !== 'number') {
      throw new DataError(
        'features',
        `feature "${name}" is text; add a oneHot transform for it (transforms: [{ oneHot: { columns: ["${name}"] } }]) or leave it out of features`,
        { column: name },
      );
    }
    const missing = col.values.reduce((n, v) => n + (Number.isNaN(v) ? 1 : 0), 0);
    if (missing > 0) {
      throw new DataError(
        'features',
        `feature "${name}" has ${missing} missing value${missing === 1 ? '' : 's'} in the ${where} rows after transforms; add fillMissing or dropMissing for it`,
        { column: name },
      );
    }
    return col.values;
  });
  return Array.from({ length: frame.rows }, (_, i) => Float64Array.from(cols, (c) => c[i]!));
}

function fitFold(
  frame: Frame,
  spec: PipelineSpec,
  classes: readonly string[] | undefined,
  train: readonly number[],
  test: readonly number[],
): PreparedFold {
  const { fitted, frame: trained } = fitTransforms(takeRows(frame, train), spec.transforms ?? [], {
    target: spec.target,
  });
  if (trained.rows === 0)
    throw new DataError('features', 'no training rows are left after the filter/dropMissing transforms');
  const featureNames = selectFeatures(frame, trained, fitted, spec);
  if (featureNames.length === 0) throw new DataError('features', 'there are no feature columns left after transforms');
  const tested = applyTransforms(fitted, takeRows(frame, test), { training: true });
  if (test.length > 0 && tested.rows === 0) {
    throw new DataError('features', 'no test rows are left after the filter/dropMissing transforms');
  }
  const dataset = (f: Frame, where: string): Dataset => ({
    x: matrix(f, featureNames, where),
    y: encodeTarget(f.columns.get(spec.target)!, spec.task, spec.target, classes).y,
  });
  const plan = servingPlan(fitted, featureNames);
  const preprocessor: Preprocessor = {
    inputs: frame.names
      .filter((n) => plan.inputs.has(n))
      .map((name) => ({ name, kind: frame.columns.get(name)!.kind })),
    fitted: plan.fitted,
    featureNames,
    target: spec.target,
    task: spec.task,
    ...(classes ? { classes: [...classes] } : {}),
  };
  return { train: dataset(trained, 'training'), test: dataset(tested, 'test'), preprocessor };
}

/** The one entry point of the trial runner: split, fit transforms per fold, encode. */
export function prepareFolds(frame: Frame, spec: PipelineSpec): PreparedData {
  const target = frame.columns.get(spec.target);
  if (!target) {
    const hint = closest(spec.target, frame.names);
    throw new DataError(
      'features',
      `target "${spec.target}" is not a column of the data${hint ? ` (did you mean "${hint}")` : ''}`,
      { column: spec.target },
    );
  }
  const known = rowsWhere(frame.rows, (i) =>
    target.kind === 'number' ? !Number.isNaN(target.values[i]!) : target.values[i] !== null,
  );
  const rows = known.length === frame.rows ? frame : takeRows(frame, known);
  const { y, classes } = encodeTarget(rows.columns.get(spec.target)!, spec.task, spec.target);
  if (classes && classes.length < 2) {
    throw new DataError(
      'features',
      `classification needs at least 2 classes in "${spec.target}", found ${classes.length}`,
      { column: spec.target },
    );
  }
  const folds = foldsOf(spec, rows.rows, classes ? y : undefined).map((f) =>
    fitFold(rows, spec, classes, f.train, f.test),
  );
  const all = Array.from({ length: rows.rows }, (_, i) => i);
  const full = fitFold(rows, spec, classes, all, []);
  return { folds, full: { data: full.train, preprocessor: full.preprocessor }, ...(classes ? { classes } : {}) };
}

export { preprocessRecords } from './records';

/**
 * Fitted transforms: statistics are learnt once on training rows (fitTransforms) and replayed
 * unchanged on evaluation rows and on raw serving requests (applyTransforms). A fitted
 * pipeline is plain JSON (finite numbers and strings only), stored with every model.
 *
 * Rules every consumer relies on:
 * - the target column is never transformed: defaults skip it, naming it explicitly is an error
 *   (a filter may read it, since filters only run on training/evaluation rows);
 * - oneHot replaces column C by `C=<category>` columns (categories sorted; a number column's
 *   categories are its values as JS prints them, e.g. `Cylinders=8`); an unseen or missing
 *   category encodes as all zeros;
 * - filter and dropMissing drop rows only when `training` is true; at serving time every
 *   request row must come back;
 * - fillMissing's default columns are all columns (but the target) the strategy supports:
 *   mean/median → number columns; mostFrequent → all; constant → those of the value's kind.
 */
import { ExprError, evaluateExpression, parseExpression, expressionColumns } from './expr';
import { closest } from './expr-ast';
import { DataError } from './errors';
import { countMissing, isMissing, makeFrame, rowsWhere, takeRows, withColumn } from './frame';
import { categories, categoryOf, meanStd, median, mostFrequent } from './stats';
import type { TransformSpec } from '../spec/schema';
import type { Column, Frame } from './types';

export type FittedStep =
  | {
      readonly kind: 'fillMissing';
      readonly step: number;
      readonly fills: readonly { column: string; value: number | string }[];
    }
  | {
      readonly kind: 'standardize';
      readonly step: number;
      readonly columns: readonly { column: string; mean: number; std: number }[];
    }
  | {
      readonly kind: 'oneHot';
      readonly step: number;
      readonly columns: readonly { column: string; categories: string[] }[];
    }
  | { readonly kind: 'derive'; readonly step: number; readonly name: string; readonly expr: string }
  | { readonly kind: 'filter'; readonly step: number; readonly expr: string }
  | { readonly kind: 'dropMissing'; readonly step: number; readonly columns: readonly string[] };

/** JSON: survives JSON.stringify/parse unchanged. */
export interface FittedTransforms {
  readonly steps: readonly FittedStep[];
}

export interface TransformOptions {
  /** The target column: skipped by defaults, refused when named, unknown to derive. */
  readonly target?: string;
}

/** Past this many categories one-hot encoding is almost surely a mistake (an id or a name column). */
export const MAX_CATEGORIES = 1000;
/** Dense one-hot output past this many cells (2 GiB of doubles) would exhaust a worker's memory. */
export const MAX_ONE_HOT_CELLS = 2 ** 28;

const label = (step: number, kind: string): string => `transforms[${step}] (${kind})`;

function fail(step: number, kind: string, message: string, column?: string): DataError {
  return new DataError('transform', `${label(step, kind)}: ${message}`, {
    step,
    ...(column !== undefined ? { column } : {}),
  });
}

function column(frame: Frame, name: string, step: number, kind: string): Column {
  const col = frame.columns.get(name);
  if (col) return col;
  const hint = closest(name, frame.names);
  throw fail(step, kind, `unknown column "${name}"${hint ? ` (did you mean "${hint}")` : ''}`, name);
}

/** The explicit columns (checked: present, not the target) or the defaults (target excluded). */
function resolveColumns(
  frame: Frame,
  given: readonly string[] | undefined,
  defaults: (name: string, col: Column) => boolean,
  step: number,
  kind: string,
  target: string | undefined,
): string[] {
  if (!given) return frame.names.filter((n) => n !== target && defaults(n, frame.columns.get(n)!));
  for (const name of given) {
    if (name === target)
      throw fail(step, kind, `"${name}" is the target column; the target is never transformed`, name);
    column(frame, name, step, kind);
  }
  return [...given];
}

function parse(expr: string, step: number, kind: string, frame?: Frame): ReturnType<typeof parseExpression> {
  try {
    const node = parseExpression(expr);
    if (frame) evaluateExpression(node, makeFrame(frame.names, frame.columns, 0)); // checks columns and types only
    return node;
  } catch (e) {
    if (!(e instanceof ExprError)) throw e;
    throw new DataError('transform', `${label(step, kind)}: ${e.message} in "${expr}"`, {
      step,
      offset: e.offset,
      length: e.length,
    });
  }
}

function needNumber(col: Column, name: string, step: number, kind: string, why: string): Float64Array {
  if (col.kind !== 'number') throw fail(step, kind, `column "${name}" is text; ${why}`, name);
  return col.values;
}

function fitStep(spec: TransformSpec, step: number, frame: Frame, target: string | undefined): FittedStep {
  if ('fillMissing' in spec) {
    const { strategy = 'mean', value } = spec.fillMissing;
    const numeric = strategy === 'mean' || strategy === 'median';
    if (strategy === 'constant' && value === undefined)
      throw fail(step, 'fillMissing', 'strategy "constant" needs a `value`');
    // Defaults cover every column the strategy fits, not only those with gaps here: a gap in
    // the test rows or in a serving request must be filled too. Empty columns are skipped.
    const fits = (c: Column): boolean =>
      countMissing(c) < c.values.length &&
      (numeric ? c.kind === 'number' : strategy !== 'constant' || c.kind === 'string' || typeof value === 'number');
    const names = resolveColumns(frame, spec.fillMissing.columns, (_, c) => fits(c), step, 'fillMissing', target);
    const fills = names.map((name) => {
      const col = frame.columns.get(name)!;
      let fill: number | string | undefined;
      if (strategy === 'constant') {
        if (col.kind === 'number' && typeof value !== 'number')
          throw fail(step, 'fillMissing', `column "${name}" holds numbers but the value is text`, name);
        fill = col.kind === 'number' ? value : String(value);
      } else if (strategy === 'mostFrequent') fill = mostFrequent(col);
      else {
        const values = needNumber(
          col,
          name,
          step,
          'fillMissing',
          `strategy "${strategy}" needs numbers (use mostFrequent or constant)`,
        );
        fill = strategy === 'mean' ? meanStd(values).mean : median(values);
      }
      if (fill === undefined || (typeof fill === 'number' && !Number.isFinite(fill))) {
        throw fail(step, 'fillMissing', `column "${name}" has no values to compute the ${strategy} from`, name);
      }
      return { column: name, value: fill };
    });
    return { kind: 'fillMissing', step, fills };
  }
  if ('standardize' in spec) {
    const names = resolveColumns(
      frame,
      spec.standardize.columns,
      (_, c) => c.kind === 'number',
      step,
      'standardize',
      target,
    );
    const columns = names.map((name) => {
      const values = needNumber(
        frame.columns.get(name)!,
        name,
        step,
        'standardize',
        'only number columns can be standardized',
      );
      const { mean, std, count } = meanStd(values);
      if (count === 0) throw fail(step, 'standardize', `column "${name}" has no values`, name);
      // A constant column would divide by zero; leaving it centred (all zeros) is harmless.
      return { column: name, mean, std: std > 0 ? std : 1 };
    });
    return { kind: 'standardize', step, columns };
  }
  if ('oneHot' in spec) {
    const names = resolveColumns(frame, spec.oneHot.columns, () => false, step, 'oneHot', target);
    const columns = names.map((name) => {
      const cats = categories(frame.columns.get(name)!);
      if (cats.length > MAX_CATEGORIES) {
        throw fail(
          step,
          'oneHot',
          `column "${name}" has ${cats.length} distinct values (limit ${MAX_CATEGORIES}); it looks like an identifier, not a category`,
          name,
        );
      }
      if (cats.length * frame.rows > MAX_ONE_HOT_CELLS) {
        throw fail(
          step,
          'oneHot',
          `column "${name}" would expand to ${cats.length} columns × ${frame.rows} rows, more than ${MAX_ONE_HOT_CELLS} values; set data.limit or encode fewer categories`,
          name,
        );
      }
      for (const c of cats) {
        const out = `${name}=${c}`;
        if (frame.columns.has(out)) throw fail(step, 'oneHot', `output column "${out}" already exists`, name);
      }
      return { column: name, categories: cats };
    });
    return { kind: 'oneHot', step, columns };
  }
  if ('derive' in spec) {
    const { name, expr } = spec.derive;
    if (name === target)
      throw fail(step, 'derive', `"${name}" is the target column; the target is never transformed`, name);
    const node = parse(expr, step, 'derive', frame);
    if (target !== undefined && expressionColumns(node).includes(target)) {
      throw fail(
        step,
        'derive',
        `the expression reads the target column "${target}", which is unknown when the model serves`,
        target,
      );
    }
    return { kind: 'derive', step, name, expr };
  }
  if ('filter' in spec) {
    parse(spec.filter.expr, step, 'filter', frame);
    return { kind: 'filter', step, expr: spec.filter.expr };
  }
  // Naming the target here is allowed: dropping rows never changes a target value.
  const given = spec.dropMissing.columns;
  const names = given
    ? resolveColumns(frame, given, () => true, step, 'dropMissing', undefined)
    : frame.names.filter((n) => n !== target);
  return { kind: 'dropMissing', step, columns: names };
}

function oneHot(frame: Frame, fitted: Extract<FittedStep, { kind: 'oneHot' }>): Frame {
  let names = [...frame.names];
  const columns = new Map(frame.columns);
  for (const { column: name, categories: cats } of fitted.columns) {
    const src = column(frame, name, fitted.step, 'oneHot');
    const index = new Map(cats.map((c, k) => [c, k]));
    const outs = cats.map(() => new Float64Array(frame.rows));
    for (let i = 0; i < frame.rows; i++) {
      const cat = categoryOf(src, i);
      const k = cat === null ? undefined : index.get(cat);
      if (k !== undefined) outs[k]![i] = 1;
    }
    const outNames = cats.map((c) => `${name}=${c}`);
    const at = names.indexOf(name);
    names = [...names.slice(0, at), ...outNames, ...names.slice(at + 1)];
    columns.delete(name);
    outNames.forEach((n, k) => columns.set(n, { kind: 'number', values: outs[k]! }));
  }
  return makeFrame(names, columns, frame.rows);
}

function applyStep(fitted: FittedStep, frame: Frame, training: boolean): Frame {
  const { step, kind } = fitted;
  switch (fitted.kind) {
    case 'fillMissing':
      return fitted.fills.reduce((f, { column: name, value }) => {
        const col = column(f, name, step, kind);
        if (col.kind === 'number') {
          if (typeof value !== 'number')
            throw fail(step, kind, `column "${name}" holds numbers but was fitted on text`, name);
          return withColumn(f, name, { kind: 'number', values: col.values.map((v) => (Number.isNaN(v) ? value : v)) });
        }
        return withColumn(f, name, { kind: 'string', values: col.values.map((v) => v ?? String(value)) });
      }, frame);
    case 'standardize':
      return fitted.columns.reduce((f, { column: name, mean, std }) => {
        const values = needNumber(
          column(f, name, step, kind),
          name,
          step,
          kind,
          'only number columns can be standardized',
        );
        return withColumn(f, name, { kind: 'number', values: values.map((v) => (v - mean) / std) });
      }, frame);
    case 'oneHot':
      return oneHot(frame, fitted);
    case 'derive':
      return withColumn(frame, fitted.name, evaluate(fitted.expr, step, kind, frame));
    case 'filter': {
      if (!training) return frame;
      const keep = evaluate(fitted.expr, step, kind, frame);
      if (keep.kind !== 'number') throw fail(step, kind, `the expression "${fitted.expr}" gives text, not true/false`);
      return takeRows(
        frame,
        rowsWhere(frame.rows, (i) => keep.values[i] !== 0 && !Number.isNaN(keep.values[i]!)),
      );
    }
    case 'dropMissing': {
      if (!training) return frame;
      const cols = fitted.columns.map((n) => column(frame, n, step, kind));
      return takeRows(
        frame,
        rowsWhere(frame.rows, (i) => cols.every((c) => !isMissing(c, i))),
      );
    }
  }
}

function evaluate(expr: string, step: number, kind: string, frame: Frame): Column {
  const node = parse(expr, step, kind);
  try {
    return evaluateExpression(node, frame);
  } catch (e) {
    if (!(e instanceof ExprError)) throw e;
    throw new DataError('transform', `${label(step, kind)}: ${e.message} in "${expr}"`, {
      step,
      offset: e.offset,
      length: e.length,
    });
  }
}

/** Learns each step on the output of the previous one; returns the fitted steps and the transformed frame. */
export function fitTransforms(
  frame: Frame,
  transforms: readonly TransformSpec[],
  opts: TransformOptions = {},
): { fitted: FittedTransforms; frame: Frame } {
  const steps: FittedStep[] = [];
  let current = frame;
  transforms.forEach((spec, k) => {
    const fitted = fitStep(spec, k, current, opts.target);
    steps.push(fitted);
    current = applyStep(fitted, current, true);
  });
  return { fitted: { steps }, frame: current };
}

/** Replays fitted steps; with `training: false` (serving) no row is ever dropped. */
export function applyTransforms(fitted: FittedTransforms, frame: Frame, opts: { training: boolean }): Frame {
  return fitted.steps.reduce((f, s) => applyStep(s, f, opts.training), frame);
}

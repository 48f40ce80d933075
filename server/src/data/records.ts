/**
 * The serving path: raw JSON records (as a prediction request carries them) → feature matrix,
 * with exactly the encoding the model was trained on. Types are checked strictly, the way the
 * JSON loader reads training data: numbers (or booleans as 0/1) for number inputs, strings for
 * text inputs, null for a missing value. An absent field is an error; a null is accepted and
 * left to the model's fillMissing, and refused only if it still leaves a feature missing.
 */
import { DataError } from './errors';
import { makeFrame } from './frame';
import type { Preprocessor } from './prepare';
import { applyTransforms } from './transforms';
import type { Column } from './types';

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

function readColumn(records: readonly Record<string, unknown>[], name: string, kind: 'number' | 'string'): Column {
  const cell = (r: number): unknown => {
    const rec = records[r];
    if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) {
      throw new DataError('record', `record ${r} is ${describe(rec)}, not an object of fields`, { row: r });
    }
    if (!Object.prototype.hasOwnProperty.call(rec, name) || rec[name] === undefined) {
      throw new DataError('record', `record ${r} lacks field "${name}" (send null for an unknown value)`, {
        row: r,
        column: name,
      });
    }
    return rec[name];
  };
  const wrongType = (r: number, v: unknown): DataError =>
    new DataError(
      'record',
      `record ${r}, field "${name}" must be ${kind === 'number' ? 'a number' : 'a string'} or null, got ${describe(v)}`,
      {
        row: r,
        column: name,
      },
    );
  if (kind === 'number') {
    const values = new Float64Array(records.length);
    for (let r = 0; r < records.length; r++) {
      const v = cell(r);
      if (v === null) values[r] = NaN;
      else if (typeof v === 'boolean') values[r] = v ? 1 : 0;
      else if (typeof v === 'number' && Number.isFinite(v)) values[r] = v;
      else throw wrongType(r, v);
    }
    return { kind: 'number', values };
  }
  return {
    kind: 'string',
    values: records.map((_, r) => {
      const v = cell(r);
      if (v !== null && typeof v !== 'string') throw wrongType(r, v);
      return v;
    }),
  };
}

/** Raw records → one feature vector per record, laid out as `pre.featureNames`. */
export function preprocessRecords(pre: Preprocessor, records: readonly Record<string, unknown>[]): Float64Array[] {
  const columns = new Map<string, Column>();
  for (const { name, kind } of pre.inputs) columns.set(name, readColumn(records, name, kind));
  const frame = applyTransforms(
    pre.fitted,
    makeFrame(
      pre.inputs.map((i) => i.name),
      columns,
      records.length,
    ),
    { training: false },
  );
  const features = pre.featureNames.map((name) => {
    const col = frame.columns.get(name);
    if (!col || col.kind !== 'number')
      throw new DataError('features', `the preprocessor does not produce numeric feature "${name}"`, { column: name });
    return col.values;
  });
  return records.map((_, r) => {
    const row = Float64Array.from(features, (values) => values[r]!);
    const gap = row.findIndex(Number.isNaN);
    if (gap >= 0) {
      const nulls = pre.inputs.filter((i) => records[r]![i.name] === null).map((i) => `"${i.name}"`);
      throw new DataError(
        'record',
        `record ${r}: feature "${pre.featureNames[gap]}" is missing after preprocessing (null fields: ${nulls.join(', ') || 'none'}); the model was not trained to fill it`,
        { row: r, column: pre.featureNames[gap]! },
      );
    }
    return row;
  });
}

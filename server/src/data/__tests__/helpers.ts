/** Test helpers: small frames from literals and the real vega-datasets files. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadFrame } from '../load';
import type { Column, DataFormat, Frame } from '../types';

export const DATA = join(__dirname, '../../../../node_modules/vega-datasets/data');

export function vega(file: string, format: DataFormat, limit?: number): Promise<Frame> {
  return loadFrame(readFileSync(join(DATA, file)), format, { source: file, ...(limit !== undefined ? { limit } : {}) });
}

export function vegaRecords(file: string): Record<string, unknown>[] {
  return JSON.parse(readFileSync(join(DATA, file), 'utf8')) as Record<string, unknown>[];
}

/** A frame from columns given as arrays: any string makes a text column, else numbers (NaN = missing). */
export function frameOf(cols: Record<string, readonly (number | string | null)[]>): Frame {
  const columns = new Map<string, Column>();
  let rows = 0;
  for (const [name, values] of Object.entries(cols)) {
    rows = values.length;
    columns.set(
      name,
      values.some((v) => typeof v === 'string')
        ? { kind: 'string', values: values.map((v) => (v === null ? null : String(v))) }
        : { kind: 'number', values: Float64Array.from(values, (v) => (v === null ? NaN : Number(v))) },
    );
  }
  return { names: Object.keys(cols), columns, rows };
}

/** Columns as plain arrays, for toEqual. */
export function plain(frame: Frame): Record<string, (number | string | null)[]> {
  return Object.fromEntries(
    frame.names.map((n) => [n, Array.from(frame.columns.get(n)!.values as ArrayLike<number | string | null>)]),
  );
}

export function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

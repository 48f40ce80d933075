/** Small pure helpers to build and reshape Frames; every function returns a new Frame. */
import type { Column, Frame } from './types';

export function makeFrame(names: readonly string[], columns: ReadonlyMap<string, Column>, rows: number): Frame {
  return { names: [...names], columns, rows };
}

export function isMissing(column: Column, i: number): boolean {
  return column.kind === 'number' ? Number.isNaN(column.values[i]!) : column.values[i] === null;
}

export function countMissing(column: Column): number {
  let n = 0;
  for (let i = 0; i < column.values.length; i++) if (isMissing(column, i)) n++;
  return n;
}

/** Adds the column at the end, or replaces it in place when the name exists. */
export function withColumn(frame: Frame, name: string, column: Column): Frame {
  const columns = new Map(frame.columns);
  columns.set(name, column);
  const names = frame.names.includes(name) ? frame.names : [...frame.names, name];
  return makeFrame(names, columns, frame.rows);
}

export function takeColumn(column: Column, rows: readonly number[]): Column {
  if (column.kind === 'number') {
    const out = new Float64Array(rows.length);
    for (let k = 0; k < rows.length; k++) out[k] = column.values[rows[k]!]!;
    return { kind: 'number', values: out };
  }
  return { kind: 'string', values: rows.map((r) => column.values[r] ?? null) };
}

/** The frame restricted to the given row indices, in that order. */
export function takeRows(frame: Frame, rows: readonly number[]): Frame {
  const columns = new Map<string, Column>();
  for (const name of frame.names) columns.set(name, takeColumn(frame.columns.get(name)!, rows));
  return makeFrame(frame.names, columns, rows.length);
}

/** Indices of the rows where keep(i) holds. */
export function rowsWhere(n: number, keep: (i: number) => boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (keep(i)) out.push(i);
  return out;
}

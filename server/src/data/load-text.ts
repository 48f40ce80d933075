/**
 * CSV and JSON readers. Both produce the two column kinds of a Frame:
 * - CSV: the first row is the header; a column is 'number' when every non-empty cell is a
 *   decimal number (e.g. `-1.5e3`; not hex, not "Infinity"), else 'string'. Only an empty
 *   (or all-blank) cell is missing: "NA" or "null" stay text, so they are never guessed.
 *   A number too large for a double (1e999) is missing too, in both formats.
 * - JSON: an array of flat records. null or an absent key is missing; booleans are 0/1;
 *   a column mixing numbers and strings, or holding an object/array, is an error at that row.
 */
import { parse, CsvError } from 'csv-parse/sync';
import { DataError } from './errors';
import { makeFrame } from './frame';
import type { Column, Frame } from './types';

/** Out-of-range literals such as 1e999 parse to Infinity; they are missing, like an empty cell. */
const finite = (x: number): number => (Number.isFinite(x) ? x : NaN);
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function decode(bytes: Uint8Array): string {
  const text = new TextDecoder('utf-8').decode(bytes);
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Header names with blanks named `column_<n>` (an index column often has none); duplicates are an error. */
function headerNames(header: readonly string[], source: string): string[] {
  const names = header.map((h, k) => (h.trim() === '' ? `column_${k + 1}` : h));
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name))
      throw new DataError('load', `${source}: the header names column "${name}" twice`, {
        source,
        line: 1,
        column: name,
      });
    seen.add(name);
  }
  return names;
}

export function parseCsv(bytes: Uint8Array, source: string, limit?: number): Frame {
  type Row = { record: string[]; info: { lines: number } };
  let rows: Row[];
  try {
    rows = parse(decode(bytes), {
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      ...(limit !== undefined ? { to: limit + 1 } : {}),
    }) as unknown as Row[];
  } catch (e) {
    if (e instanceof CsvError) {
      const line = (e as CsvError & { lines?: number }).lines;
      throw new DataError('load', `${source}: invalid CSV${line ? ` at line ${line}` : ''}: ${e.message}`, {
        source,
        line,
      });
    }
    throw e;
  }
  if (rows.length === 0)
    throw new DataError('load', `${source}: the CSV file is empty (a header row is required)`, { source });
  const names = headerNames(rows[0]!.record, source);
  const body = rows.slice(1);
  body.forEach((r, i) => {
    if (r.record.length !== names.length) {
      throw new DataError(
        'load',
        `${source}: row ${i + 1} (line ${r.info.lines}) has ${r.record.length} fields; the header has ${names.length}`,
        { source, row: i, line: r.info.lines },
      );
    }
  });
  const columns = new Map<string, Column>();
  names.forEach((name, k) => {
    const cells = body.map((r) => r.record[k]!.trim());
    const numeric = cells.every((c) => c === '' || DECIMAL.test(c));
    columns.set(
      name,
      numeric
        ? { kind: 'number', values: Float64Array.from(cells, (c) => (c === '' ? NaN : finite(Number(c)))) }
        : { kind: 'string', values: cells.map((c, i) => (c === '' ? null : body[i]!.record[k]!)) },
    );
  });
  return makeFrame(names, columns, body.length);
}

/** Line and column of a character offset, for JSON syntax errors. */
function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

export function parseJson(bytes: Uint8Array, source: string, limit?: number): Frame {
  const text = decode(bytes);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    const at = /position (\d+)/.exec((e as Error).message);
    const line = at ? lineOf(text, Number(at[1])) : undefined;
    throw new DataError('load', `${source}: invalid JSON${line ? ` at line ${line}` : ''}: ${(e as Error).message}`, {
      source,
      line,
    });
  }
  if (!Array.isArray(data)) {
    throw new DataError(
      'load',
      `${source}: expected a JSON array of records, got ${data === null ? 'null' : typeof data}`,
      { source },
    );
  }
  const records = limit !== undefined ? data.slice(0, limit) : data;
  const names: string[] = [];
  const named = new Set<string>();
  const kinds = new Map<string, { kind: 'number' | 'string'; row: number }>();
  records.forEach((rec: unknown, row) => {
    if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) {
      throw new DataError(
        'load',
        `${source}: record ${row} is ${Array.isArray(rec) ? 'an array' : String(rec === null ? 'null' : typeof rec)}, not an object`,
        { source, row },
      );
    }
    for (const [key, v] of Object.entries(rec as Record<string, unknown>)) {
      if (!named.has(key)) {
        named.add(key);
        names.push(key);
      }
      if (v === null || v === undefined) continue;
      const kind =
        typeof v === 'number' || typeof v === 'boolean' ? 'number' : typeof v === 'string' ? 'string' : undefined;
      if (kind === undefined) {
        const what = Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'a nested object' : `a ${typeof v}`;
        throw new DataError(
          'load',
          `${source}: record ${row}, field "${key}" is ${what}; only flat records of numbers, strings, booleans and null are supported`,
          { source, row, column: key },
        );
      }
      const seen = kinds.get(key);
      if (!seen) kinds.set(key, { kind, row });
      else if (seen.kind !== kind) {
        throw new DataError(
          'load',
          `${source}: record ${row}, field "${key}" is a ${kind === 'number' ? 'number' : 'string'} but record ${seen.row} has a ${seen.kind}; a column must hold one type`,
          { source, row, column: key },
        );
      }
    }
  });
  const columns = new Map<string, Column>();
  for (const name of names) {
    const cells = records.map((r) => (r as Record<string, unknown>)[name]);
    columns.set(
      name,
      (kinds.get(name)?.kind ?? 'number') === 'number'
        ? {
            kind: 'number',
            values: Float64Array.from(cells, (v) => (v === null || v === undefined ? NaN : finite(Number(v)))),
          }
        : { kind: 'string', values: cells.map((v) => (typeof v === 'string' ? v : null)) },
    );
  }
  return makeFrame(names, columns, records.length);
}

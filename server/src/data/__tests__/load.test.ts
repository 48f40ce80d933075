import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  tableToIPC,
  tableFromArrays,
  vectorFromArray,
  Dictionary,
  Utf8,
  Int32,
  Table,
  DateDay,
  Int64,
  makeTable,
} from 'apache-arrow';
import { DataError } from '../errors';
import { frameColumns, inferFormat, loadFrame } from '../load';
import type { DataFormat, Frame } from '../types';

const DATA = join(__dirname, '../../../../node_modules/vega-datasets/data');
const vega = (file: string, format: DataFormat, limit?: number): Promise<Frame> =>
  loadFrame(readFileSync(join(DATA, file)), format, { source: file, ...(limit !== undefined ? { limit } : {}) });
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const num = (f: Frame, name: string): Float64Array => {
  const c = f.columns.get(name)!;
  if (c.kind !== 'number') throw new Error(`${name} is not numeric`);
  return c.values;
};
const str = (f: Frame, name: string): readonly (string | null)[] => {
  const c = f.columns.get(name)!;
  if (c.kind !== 'string') throw new Error(`${name} is not text`);
  return c.values;
};

async function loadError(p: Promise<unknown>): Promise<DataError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof DataError) return e;
    throw e;
  }
  throw new Error('expected a DataError');
}

describe('inferFormat', () => {
  test.each([
    ['data/penguins.json', 'json'],
    ['https://x.org/a/b.CSV?raw=1#top', 'csv'],
    ['flights.arrow', 'arrow'],
    ['f.feather', 'arrow'],
    ['f.parquet', 'parquet'],
    ['noext', undefined],
    ['archive.csv.gz', undefined],
  ])('%s → %s', (source, format) => expect(inferFormat(source)).toBe(format));
});

describe('vega datasets', () => {
  test('penguins.json: numbers, strings and nulls', async () => {
    const f = await vega('penguins.json', 'json');
    expect(f.rows).toBe(344);
    expect(frameColumns(f)).toEqual([
      { name: 'Species', kind: 'string' },
      { name: 'Island', kind: 'string' },
      { name: 'Beak Length (mm)', kind: 'number' },
      { name: 'Beak Depth (mm)', kind: 'number' },
      { name: 'Flipper Length (mm)', kind: 'number' },
      { name: 'Body Mass (g)', kind: 'number' },
      { name: 'Sex', kind: 'string' },
    ]);
    expect(num(f, 'Beak Length (mm)')[0]).toBe(39.1);
    expect(Number.isNaN(num(f, 'Beak Length (mm)')[3]!)).toBe(true);
    expect(str(f, 'Sex').filter((s) => s === null).length).toBeGreaterThan(0);
    expect(new Set(str(f, 'Species'))).toEqual(new Set(['Adelie', 'Chinstrap', 'Gentoo']));
  });

  test('cars.json with limit', async () => {
    const all = await vega('cars.json', 'json');
    expect(all.rows).toBe(406);
    expect(all.columns.get('Year')!.kind).toBe('string');
    expect(Array.from(num(all, 'Miles_per_Gallon')).some(Number.isNaN)).toBe(true);
    const few = await vega('cars.json', 'json', 10);
    expect(few.rows).toBe(10);
    expect(str(few, 'Name')[0]).toBe('chevrolet chevelle malibu');
  });

  test('seattle-weather.csv: per-column number detection', async () => {
    const f = await vega('seattle-weather.csv', 'csv');
    expect(f.rows).toBe(1461);
    expect(frameColumns(f).map((c) => c.kind)).toEqual(['string', 'number', 'number', 'number', 'number', 'string']);
    expect(num(f, 'precipitation')[1]).toBe(10.9);
    expect(str(f, 'weather')[0]).toBe('drizzle');
    expect((await vega('seattle-weather.csv', 'csv', 5)).rows).toBe(5);
  });

  test('flights-200k.arrow', async () => {
    const f = await vega('flights-200k.arrow', 'arrow');
    expect(f.rows).toBe(200000);
    expect(frameColumns(f)).toEqual([
      { name: 'delay', kind: 'number' },
      { name: 'distance', kind: 'number' },
      { name: 'time', kind: 'number' },
    ]);
    expect((await vega('flights-200k.arrow', 'arrow', 1000)).rows).toBe(1000);
  });

  test('flights-3m.parquet with limit: timestamps as epoch ms, int64 as numbers', async () => {
    const f = await vega('flights-3m.parquet', 'parquet', 5000);
    expect(f.rows).toBe(5000);
    expect(frameColumns(f).map((c) => `${c.name}:${c.kind}`)).toEqual([
      'date:number',
      'delay:number',
      'distance:number',
      'origin:string',
      'destination:string',
    ]);
    expect(new Date(num(f, 'date')[0]!).toISOString()).toBe('2001-01-01T00:01:00.000Z');
    expect(num(f, 'distance')[0]).toBe(2176);
    expect(str(f, 'origin')[0]).toBe('LAS');
  });
});

describe('CSV rules', () => {
  test('empty cells are missing; a non-number makes the column text', async () => {
    const f = await loadFrame(text('a,b,c,\n1, 2 ,x,\n,1e3,,\n-0.5,,y,7\n'), 'csv', { source: 't.csv' });
    expect(f.names).toEqual(['a', 'b', 'c', 'column_4']);
    expect(Array.from(num(f, 'a'))).toEqual([1, NaN, -0.5]);
    expect(Array.from(num(f, 'b'))).toEqual([2, 1000, NaN]);
    expect(str(f, 'c')).toEqual(['x', null, 'y']);
    expect(Array.from(num(f, 'column_4'))).toEqual([NaN, NaN, 7]);
    const huge = await loadFrame(text('a\n1e999\n2\n'), 'csv', { source: 't.csv' });
    expect(Array.from(num(huge, 'a'))).toEqual([NaN, 2]);
    const hex = await loadFrame(text('a\n0x10\nInfinity\n'), 'csv', { source: 't.csv' });
    expect(str(hex, 'a')).toEqual(['0x10', 'Infinity']);
  });

  test('errors name the source, row and line', async () => {
    const ragged = await loadError(loadFrame(text('a,b\n1,2\n3\n'), 'csv', { source: 'r.csv' }));
    expect(ragged.message).toBe('r.csv: row 2 (line 3) has 1 fields; the header has 2');
    expect(ragged.context).toEqual({ source: 'r.csv', row: 1, line: 3 });
    const quote = await loadError(loadFrame(text('a,b\n1,"2\n3,4\n'), 'csv', { source: 'q.csv' }));
    expect(quote.message).toMatch(/^q\.csv: invalid CSV at line 3/);
    const dup = await loadError(loadFrame(text('a,a\n1,2\n'), 'csv', { source: 'd.csv' }));
    expect(dup.message).toBe('d.csv: the header names column "a" twice');
    expect((await loadError(loadFrame(text(''), 'csv', { source: 'e.csv' }))).message).toMatch(/empty/);
  });
});

describe('JSON rules', () => {
  test('booleans are 0/1; absent keys and null are missing', async () => {
    const f = await loadFrame(text('[{"a":true,"b":"x"},{"a":false,"c":2},{"a":null,"b":null}]'), 'json', {
      source: 't.json',
    });
    expect(f.names).toEqual(['a', 'b', 'c']);
    expect(Array.from(num(f, 'a'))).toEqual([1, 0, NaN]);
    expect(str(f, 'b')).toEqual(['x', null, null]);
    expect(Array.from(num(f, 'c'))).toEqual([NaN, 2, NaN]);
  });

  test.each([
    [
      '[{"a":1},{"a":{"x":1}}]',
      'j.json: record 1, field "a" is a nested object; only flat records of numbers, strings, booleans and null are supported',
      { row: 1, column: 'a' },
    ],
    [
      '[{"a":1},{"a":[1]}]',
      'j.json: record 1, field "a" is an array; only flat records of numbers, strings, booleans and null are supported',
      { row: 1, column: 'a' },
    ],
    [
      '[{"a":1},{"a":"x"}]',
      'j.json: record 1, field "a" is a string but record 0 has a number; a column must hold one type',
      { row: 1, column: 'a' },
    ],
    ['[{"a":1}, 3]', 'j.json: record 1 is number, not an object', { row: 1 }],
    ['{"a":1}', 'j.json: expected a JSON array of records, got object', {}],
  ])('%s', async (json, message, context) => {
    const e = await loadError(loadFrame(text(json), 'json', { source: 'j.json' }));
    expect(e.message).toBe(message);
    expect(e.context).toEqual({ source: 'j.json', ...context });
  });

  test('syntax errors give the line', async () => {
    const e = await loadError(loadFrame(text('[\n{"a":1},\n{"a" 1}\n]'), 'json', { source: 's.json' }));
    expect(e.message).toMatch(/^s\.json: invalid JSON at line 3/);
  });
});

describe('Arrow rules', () => {
  test('dictionary strings, nulls, dates, int64 and unsupported types', async () => {
    const table = new Table({
      s: vectorFromArray(['x', null, 'y'], new Dictionary(new Utf8(), new Int32())),
      d: vectorFromArray([new Date(86400000), null, new Date(0)], new DateDay()),
      i: vectorFromArray([1n, null, 2n ** 40n], new Int64()),
      f: vectorFromArray([1.5, null, Infinity]),
    });
    const f = await loadFrame(tableToIPC(table, 'stream'), 'arrow', { source: 'a.arrows' });
    expect(str(f, 's')).toEqual(['x', null, 'y']);
    expect(Array.from(num(f, 'd'))).toEqual([86400000, NaN, 0]);
    expect(Array.from(num(f, 'i'))).toEqual([1, NaN, 2 ** 40]);
    expect(Array.from(num(f, 'f'))).toEqual([1.5, NaN, NaN]);
    const file = await loadFrame(tableToIPC(tableFromArrays({ x: Float64Array.of(1, 2) }), 'file'), 'arrow', {
      source: 'a.arrow',
    });
    expect(Array.from(num(file, 'x'))).toEqual([1, 2]);
    const nested = makeTable({ x: Int32Array.of(1) });
    const lists = new Table({ l: vectorFromArray([[1, 2]]), x: nested.getChild('x')! });
    const e = await loadError(loadFrame(tableToIPC(lists), 'arrow', { source: 'l.arrow' }));
    expect(e.message).toMatch(/^l\.arrow: column "l" has Arrow type List/);
    expect((await loadError(loadFrame(text('nope'), 'arrow', { source: 'n.arrow' }))).message).toMatch(
      /^n\.arrow: not an Arrow IPC/,
    );
    expect((await loadError(loadFrame(text('nope'), 'parquet', { source: 'n.parquet' }))).message).toMatch(
      /^n\.parquet: cannot read Parquet/,
    );
  });
});

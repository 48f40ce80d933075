/**
 * Arrow IPC and Parquet readers. Parquet is decoded by parquet-wasm into an Arrow IPC stream and
 * then read by apache-arrow, so both formats share one column conversion:
 * - integers, floats, booleans (0/1), 64-bit integers (to the nearest double) → 'number';
 *   null, NaN and ±Infinity are missing;
 * - dates, timestamps, times and durations → 'number' in milliseconds (dates and timestamps as
 *   epoch milliseconds, UTC), which is what apache-arrow returns and what a model can use;
 * - UTF-8 strings and dictionary-encoded strings → 'string';
 * - anything else (lists, structs, binary, decimals) is an error naming the column and its type.
 */
import { DataType, Type, tableFromIPC, type Table, type Vector } from 'apache-arrow';
import { DataError } from './errors';
import { makeFrame } from './frame';
import type { Column, Frame } from './types';

/** The slice of parquet-wasm's node build we use; its own typings are unreachable with node10 resolution. */
interface ParquetWasm {
  readParquet(bytes: Uint8Array, options?: { limit?: number; batchSize?: number }): { intoIPCStream(): Uint8Array };
}

let parquetWasm: ParquetWasm | undefined;
function parquet(): ParquetWasm {
  // Loaded on first use: the wasm module is a few MB and most pipelines read CSV or JSON.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  parquetWasm ??= require('parquet-wasm/node') as ParquetWasm;
  return parquetWasm;
}

/** How a column is read: raw typed arrays where the layout allows it (fast), else value by value. */
type Kind = 'fixed' | 'bigint' | 'timestamp' | 'generic' | 'string';

/** Milliseconds per unit of TimeUnit SECOND, MILLISECOND, MICROSECOND, NANOSECOND. */
const MS_PER_UNIT = [1000, 1, 1e-3, 1e-6];

function kindOf(type: DataType): Kind | undefined {
  if (DataType.isDictionary(type)) {
    // get() decodes dictionary entries, so non-string dictionaries take the generic path.
    const inner = kindOf(type.dictionary);
    return inner === undefined || inner === 'string' ? inner : 'generic';
  }
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type) || type.typeId === Type.Utf8View) return 'string';
  if (DataType.isInt(type)) return type.bitWidth === 64 ? 'bigint' : 'fixed';
  if (DataType.isFloat(type)) return type.precision === 0 ? 'generic' : 'fixed'; // float16 needs decoding
  if (DataType.isTimestamp(type)) return 'timestamp';
  if (DataType.isBool(type) || DataType.isDate(type) || DataType.isTime(type)) return 'generic';
  if (DataType.isDuration(type) || DataType.isNull(type)) return 'generic';
  return undefined;
}

function toNumber(v: unknown): number {
  if (v === null || v === undefined) return NaN;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint' || typeof v === 'boolean') return Number(v);
  if (v instanceof Date) return v.getTime();
  return NaN;
}

function convert(vector: Vector, name: string, source: string): Column {
  const kind = kindOf(vector.type);
  if (kind === undefined) {
    throw new DataError(
      'load',
      `${source}: column "${name}" has Arrow type ${String(vector.type)}, which cannot be a feature; convert it to a number or string column`,
      { source, column: name },
    );
  }
  const n = vector.length;
  if (kind === 'string') {
    const out: (string | null)[] = new Array(n);
    let i = 0;
    for (const v of vector as Iterable<unknown>) out[i++] = v === null || v === undefined ? null : String(v);
    return { kind: 'string', values: out };
  }
  let values: Float64Array;
  if (kind === 'fixed') values = Float64Array.from(vector.toArray() as ArrayLike<number>);
  else if (kind === 'bigint') values = Float64Array.from(vector.toArray() as BigInt64Array, Number);
  else if (kind === 'timestamp') {
    // toArray() gives the raw 64-bit counts in the column's unit; get() would box each value.
    const scale = MS_PER_UNIT[(vector.type as { unit: number }).unit]!;
    values = Float64Array.from(vector.toArray() as BigInt64Array, (v) => Number(v) * scale);
  } else {
    values = new Float64Array(n);
    let i = 0;
    for (const v of vector as Iterable<unknown>) values[i++] = toNumber(v);
  }
  // toArray() copies raw slots, so null slots hold arbitrary values: mark them missing.
  if (vector.nullCount > 0) for (let i = 0; i < n; i++) if (!vector.isValid(i)) values[i] = NaN;
  // Infinities cannot be averaged or stored as JSON statistics: they count as missing.
  for (let i = 0; i < n; i++) if (!Number.isFinite(values[i]!)) values[i] = NaN;
  return { kind: 'number', values };
}

function tableToFrame(table: Table, source: string): Frame {
  const names = table.schema.fields.map((f) => f.name);
  const seen = new Set<string>();
  const columns = new Map<string, Column>();
  names.forEach((name, k) => {
    if (seen.has(name))
      throw new DataError('load', `${source}: the schema names column "${name}" twice`, { source, column: name });
    seen.add(name);
    columns.set(name, convert(table.getChildAt(k)!, name, source));
  });
  return makeFrame(names, columns, table.numRows);
}

export function parseArrow(bytes: Uint8Array, source: string, limit?: number): Frame {
  let table: Table;
  try {
    table = tableFromIPC(bytes);
  } catch (e) {
    throw new DataError('load', `${source}: not an Arrow IPC file or stream: ${(e as Error).message}`, { source });
  }
  // apache-arrow reads bytes without a schema message as an empty table rather than failing.
  if (table.schema.fields.length === 0) {
    throw new DataError('load', `${source}: not an Arrow IPC file or stream (no schema found)`, { source });
  }
  return tableToFrame(limit !== undefined && limit < table.numRows ? table.slice(0, limit) : table, source);
}

export function parseParquet(bytes: Uint8Array, source: string, limit?: number): Frame {
  let ipc: Uint8Array;
  try {
    // Large batches: the default of 1024 rows makes reading ~10x slower (flights-3m: 6 s vs 0.6 s).
    ipc = parquet()
      .readParquet(bytes, { batchSize: 65536, ...(limit !== undefined ? { limit } : {}) })
      .intoIPCStream();
  } catch (e) {
    throw new DataError('load', `${source}: cannot read Parquet: ${e instanceof Error ? e.message : String(e)}`, {
      source,
    });
  }
  return tableToFrame(tableFromIPC(ipc), source);
}

/**
 * Tensor elements in every form the protocol carries them: JSON values, little-endian bytes
 * (the binary-data extension and gRPC raw contents) and typed arrays (what onnxruntime takes),
 * plus the row operations the batcher needs. Pure functions; each error names the tensor and
 * the element at fault. Byte layouts assume a little-endian host, as every Node platform is.
 */
import { invalid, type Datatype, type Tensor, type TensorData } from './types';

interface Info {
  /** Bytes per element; 0 for BYTES (variable, length-prefixed). */
  readonly size: number;
  readonly alloc: (n: number) => TensorData;
  /** Fixed-size types: the elements over little-endian bytes (an aligned copy). */
  readonly view: (b: ArrayBuffer) => TensorData;
  /** Integer types: inclusive range. */
  readonly range?: readonly [bigint, bigint];
}

type Typed = { new (n: number): TensorData; new (b: ArrayBuffer): TensorData; BYTES_PER_ELEMENT: number };

const typed = (C: Typed, range?: readonly [bigint, bigint]): Info => ({
  size: C.BYTES_PER_ELEMENT,
  alloc: (n) => new C(n),
  view: (b) => new C(b),
  ...(range ? { range } : {}),
});

const int = (bits: number, signed: boolean): readonly [bigint, bigint] =>
  signed ? [-(1n << BigInt(bits - 1)), (1n << BigInt(bits - 1)) - 1n] : [0n, (1n << BigInt(bits)) - 1n];

export const DATATYPES: Readonly<Record<Datatype, Info>> = {
  BOOL: typed(Uint8Array),
  UINT8: typed(Uint8Array, int(8, false)),
  UINT16: typed(Uint16Array, int(16, false)),
  UINT32: typed(Uint32Array, int(32, false)),
  UINT64: typed(BigUint64Array, int(64, false)),
  INT8: typed(Int8Array, int(8, true)),
  INT16: typed(Int16Array, int(16, true)),
  INT32: typed(Int32Array, int(32, true)),
  INT64: typed(BigInt64Array, int(64, true)),
  FP16: typed(Uint16Array),
  FP32: typed(Float32Array),
  FP64: typed(Float64Array),
  BYTES: { size: 0, alloc: (n) => new Array<string>(n).fill(''), view: () => [] },
};

export const isDatatype = (s: unknown): s is Datatype =>
  typeof s === 'string' && Object.prototype.hasOwnProperty.call(DATATYPES, s);

export const elementCount = (shape: readonly number[]): number => shape.reduce((n, d) => n * d, 1);

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Nearest IEEE half (ties away from zero), as raw bits. */
export function toHalf(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) return e < -10 ? sign : sign | ((((mant | 0x800000) >> (1 - e)) + 0x1000) >> 13);
  return sign | ((e << 10) + ((mant + 0x1000) >> 13));
}

export function fromHalf(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 30 ? `${v.slice(0, 30)}…` : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

/**
 * JSON `data` (flat row-major, or nested to match `shape`) → its elements in row-major order.
 * A nested array must have the shape's length at every level.
 */
export function flattenJson(data: unknown, shape: readonly number[], where: string): unknown[] {
  if (!Array.isArray(data)) throw invalid(`${where}: "data" must be an array, got ${describe(data)}`);
  if (data.length === 0 || !Array.isArray(data[0])) return data;
  const out: unknown[] = [];
  const walk = (node: unknown, depth: number, path: number[]): void => {
    if (depth === shape.length) {
      out.push(node);
      return;
    }
    const at = path.length ? `data${path.map((i) => `[${i}]`).join('')}` : 'data';
    if (!Array.isArray(node))
      throw invalid(
        `${where}: ${at} is ${describe(node)}, but shape [${shape.join(',')}] nests ${shape.length} levels deep`,
      );
    if (node.length !== shape[depth])
      throw invalid(
        `${where}: ${at} has ${node.length} elements, but shape [${shape.join(',')}] needs ${shape[depth]} there`,
      );
    node.forEach((child, i) => walk(child, depth + 1, [...path, i]));
  };
  walk(data, 0, []);
  return out;
}

/** JSON values → typed elements of `dt`, with each value's type and range checked. */
export function fromJsonValues(dt: Datatype, values: readonly unknown[], where: string): TensorData {
  const info = DATATYPES[dt];
  const out = info.alloc(values.length);
  const bad = (i: number, want: string): never => {
    throw invalid(`${where}: element ${i} is ${describe(values[i])}; ${dt} data must be ${want}`);
  };
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (dt === 'BYTES') {
      if (typeof v !== 'string') bad(i, 'strings');
      (out as string[])[i] = v as string;
    } else if (dt === 'BOOL') {
      if (typeof v !== 'boolean') bad(i, 'true or false');
      (out as Uint8Array)[i] = v ? 1 : 0;
    } else if (info.range) {
      if (typeof v !== 'number' || !Number.isInteger(v)) bad(i, 'integers');
      const b = BigInt(v as number);
      if (b < info.range[0] || b > info.range[1]) bad(i, `integers in [${info.range[0]}, ${info.range[1]}]`);
      if (dt === 'INT64' || dt === 'UINT64') (out as BigInt64Array)[i] = b;
      else (out as Int32Array)[i] = v as number;
    } else {
      if (typeof v !== 'number') bad(i, 'numbers');
      const stored = dt === 'FP16' ? toHalf(v as number) : (v as number);
      (out as Float32Array)[i] = stored;
      const back = dt === 'FP16' ? fromHalf(stored) : (out as Float32Array)[i]!;
      if (!Number.isFinite(back)) bad(i, `numbers within ${dt}'s range`);
    }
  }
  return out;
}

/** Little-endian bytes → `count` elements of `dt`. BYTES: each element a uint32 length, then its bytes. */
export function fromBytes(dt: Datatype, bytes: Uint8Array, count: number, where: string): TensorData {
  const size = DATATYPES[dt].size;
  if (dt === 'BYTES') {
    const out: string[] = [];
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const text = new TextDecoder();
    let at = 0;
    while (at < bytes.length) {
      if (at + 4 > bytes.length)
        throw invalid(
          `${where}: BYTES element ${out.length} has a truncated 4-byte length at byte ${at} of ${bytes.length}`,
        );
      const len = view.getUint32(at, true);
      if (at + 4 + len > bytes.length)
        throw invalid(
          `${where}: BYTES element ${out.length} declares ${len} bytes at byte ${at}, past the end of its ${bytes.length} bytes`,
        );
      out.push(text.decode(bytes.subarray(at + 4, at + 4 + len)));
      at += 4 + len;
    }
    if (out.length !== count)
      throw invalid(`${where}: the shape needs ${count} BYTES elements, the binary data holds ${out.length}`);
    return out;
  }
  if (bytes.length !== count * size)
    throw invalid(
      `${where}: the shape needs ${count} ${dt} elements = ${count * size} bytes, the binary data has ${bytes.length}`,
    );
  const out = DATATYPES[dt].view(new Uint8Array(bytes).buffer);
  if (dt === 'BOOL') {
    const i = (out as Uint8Array).findIndex((b) => b > 1);
    if (i >= 0)
      throw invalid(`${where}: BOOL element ${i} is the byte ${(out as Uint8Array)[i]}; BOOL bytes must be 0 or 1`);
  }
  return out;
}

/** Typed elements → little-endian bytes, as the binary-data extension and gRPC raw contents carry them. */
export function toBytes(t: Tensor): Uint8Array {
  if (!Array.isArray(t.data)) return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const parts = t.data.map((s) => Buffer.from(s, 'utf8'));
  const out = Buffer.alloc(parts.reduce((n, p) => n + 4 + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.writeUInt32LE(p.length, at);
    p.copy(out, at + 4);
    at += 4 + p.length;
  }
  return out;
}

/** The JSON text of a tensor's `data`: flat, row-major; 64-bit integers exact; NaN/±Infinity as null. */
export function jsonDataText(t: Tensor): string {
  const d = t.data;
  if (Array.isArray(d)) return JSON.stringify(d);
  if (t.datatype === 'BOOL') return `[${Array.from(d as Uint8Array, (b) => (b ? 'true' : 'false')).join(',')}]`;
  if (t.datatype === 'INT64' || t.datatype === 'UINT64') return `[${Array.from(d as BigInt64Array, String).join(',')}]`;
  const num = (v: number): string => (Number.isFinite(v) ? String(v) : 'null');
  if (t.datatype === 'FP16') return `[${Array.from(d as Uint16Array, (h) => num(fromHalf(h))).join(',')}]`;
  return `[${Array.from(d as Float64Array, num).join(',')}]`;
}

/** Index of the first NaN or ±Infinity in a floating-point tensor, or -1. */
export function firstNonFinite(dt: Datatype, data: TensorData): number {
  if (dt === 'FP32' || dt === 'FP64') return (data as Float64Array).findIndex((v) => !Number.isFinite(v));
  if (dt === 'FP16') return (data as Uint16Array).findIndex((h) => (h & 0x7c00) === 0x7c00);
  return -1;
}

/** Stacks tensors of one name and datatype along the first dimension. */
export function concatRows(parts: readonly Tensor[]): Tensor {
  const first = parts[0]!;
  const rows = parts.reduce((n, p) => n + p.shape[0]!, 0);
  const shape = [rows, ...first.shape.slice(1)];
  if (Array.isArray(first.data)) return { ...first, shape, data: parts.flatMap((p) => p.data as string[]) };
  const out = DATATYPES[first.datatype].alloc(elementCount(shape)) as Float32Array;
  let at = 0;
  for (const p of parts) {
    out.set(p.data as Float32Array, at);
    at += p.data.length;
  }
  return { ...first, shape, data: out };
}

/** Rows [start, start + rows) of a tensor, sharing its memory. */
export function sliceRows(t: Tensor, start: number, rows: number): Tensor {
  const per = elementCount(t.shape.slice(1));
  const [from, to] = [start * per, (start + rows) * per];
  const data = Array.isArray(t.data) ? t.data.slice(from, to) : (t.data as Float32Array).subarray(from, to);
  return { ...t, shape: [rows, ...t.shape.slice(1)], data };
}

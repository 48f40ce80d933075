/**
 * Shared by the ONNX parity tests: real pipelines (examples/*.yaml through parseSpec and
 * prepareFolds), onnxruntime-node sessions, onnx's own checker, and the figures compared.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadFrame } from '../../data/load';
import { prepareFolds, type PreparedFold } from '../../data/prepare';
import { parseSpec } from '../../spec';
import type { PipelineSpec } from '../../spec/schema';
import { createRng } from '../../util/random';

const ROOT = path.resolve(__dirname, '../../../..');

export interface Pipeline {
  readonly spec: PipelineSpec;
  readonly fold: PreparedFold;
  readonly records: Record<string, unknown>[];
}

/** An example pipeline's first fold, with the raw records its data came from. */
export async function example(name: 'penguins' | 'cars'): Promise<Pipeline> {
  const file = path.join(ROOT, 'examples', `${name}.yaml`);
  const { spec } = parseSpec(fs.readFileSync(file, 'utf8'), file);
  const bytes = fs.readFileSync(path.resolve(path.dirname(file), spec.data.source));
  const frame = await loadFrame(bytes, 'json', { source: spec.data.source });
  const records = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>[];
  return { spec, fold: prepareFolds(frame, spec).folds[0]!, records };
}

/** A 64-pixel "image" data set (pixel names p0..p63, label h/v/d): a noisy bar per class. */
export function imageRecords(n: number, seed: number): Record<string, unknown>[] {
  const rng = createRng(seed);
  const kinds = ['h', 'v', 'd'];
  return Array.from({ length: n }, (_, i) => {
    const kind = kinds[i % 3]!;
    const at = rng.int(8);
    const record: Record<string, unknown> = { label: kind };
    for (let p = 0; p < 64; p++) {
      const [r, c] = [Math.floor(p / 8), p % 8];
      const on = kind === 'h' ? r === at : kind === 'v' ? c === at : (r + at) % 8 === c;
      record[`p${p}`] = (on ? 1 : 0) + 0.3 * (rng.next() - 0.5);
    }
    return record;
  });
}

export async function imagePipeline(yaml: string): Promise<Pipeline> {
  const records = imageRecords(240, 5);
  const { spec } = parseSpec(yaml, 'images.yaml');
  const frame = await loadFrame(Buffer.from(JSON.stringify(records)), 'json', { source: spec.data.source });
  return { spec, fold: prepareFolds(frame, spec).folds[0]!, records };
}

export interface Outputs {
  readonly label?: BigInt64Array;
  readonly probabilities?: Float32Array;
  readonly prediction?: Float32Array;
}

/**
 * onnxruntime-node in a child process, as replicas run it: under jest the native binding's
 * typed arrays come from another realm than the test's, which onnxruntime's checks refuse.
 * Reads {model, rows, width, data} as JSON on stdin, writes each output's data as JSON.
 */
const ORT_SCRIPT = `
const ort = require('onnxruntime-node');
let text = '';
process.stdin.on('data', (c) => (text += c));
process.stdin.on('end', async () => {
  const { model, rows, width, data } = JSON.parse(text);
  const session = await ort.InferenceSession.create(model);
  const result = await session.run({ features: new ort.Tensor('float32', Float32Array.from(data), [rows, width]) });
  const out = {};
  for (const [name, t] of Object.entries(result)) out[name] = { type: t.type, data: Array.from(t.data, Number) };
  process.stdout.write(JSON.stringify(out));
});
`;

/** Runs the model on rows (features as float32, the model's input type). */
export function runOnnx(bytes: Uint8Array, x: readonly ArrayLike<number>[]): Outputs {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stratum-ort-'));
  const model = path.join(dir, 'model.onnx');
  try {
    fs.writeFileSync(model, bytes);
    const width = x[0]!.length;
    const data = x.flatMap((row) => Array.from(Float32Array.from(Array.from(row))));
    const r = spawnSync(process.execPath, ['-e', ORT_SCRIPT], {
      cwd: ROOT,
      input: JSON.stringify({ model, rows: x.length, width, data }),
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    if (r.status !== 0) throw new Error(`onnxruntime failed: ${r.stderr}`);
    const raw = JSON.parse(r.stdout) as Record<string, { type: string; data: number[] }>;
    const out: Record<string, Float32Array | BigInt64Array> = {};
    for (const [name, t] of Object.entries(raw)) {
      out[name] = t.type === 'int64' ? BigInt64Array.from(t.data, BigInt) : Float32Array.from(t.data);
    }
    return out as Outputs;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** onnx.checker.check_model(full_check=True) from the project's venv; returns its stderr on failure. */
export function onnxCheck(bytes: Uint8Array): { ok: boolean; message: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stratum-onnx-'));
  const file = path.join(dir, 'model.onnx');
  try {
    fs.writeFileSync(file, bytes);
    const script = 'import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)';
    const r = spawnSync(path.join(ROOT, '.venv', 'bin', 'python'), ['-c', script, file], { encoding: 'utf8' });
    return { ok: r.status === 0, message: `${r.stderr ?? ''}${r.error?.message ?? ''}` };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The rows as the ONNX input carries them: each value rounded to float32. Parity is measured
 * on these, since a float64 value and its float32 rounding can sit on either side of a tree's
 * threshold (see trees.ts); tfjs rounds its input the same way itself.
 */
export function asFloat32(x: readonly ArrayLike<number>[]): Float64Array[] {
  return x.map((row) => Float64Array.from(Float32Array.from(Array.from(row))));
}

/** Largest |a[i][j] - b[i][j]| over rows of equal length. */
export function maxAbsDiff(a: readonly ArrayLike<number>[], flat: Float32Array): number {
  let worst = 0;
  let k = 0;
  for (const row of a) for (let j = 0; j < row.length; j++) worst = Math.max(worst, Math.abs(row[j]! - flat[k++]!));
  if (k !== flat.length) throw new Error(`compared ${k} values with ${flat.length}`);
  return worst;
}

/** Max abs differences per trainer, printed once at the end of a suite. */
export const figures: Record<string, number> = {};

export function report(suite: string): void {
  const rows = Object.entries(figures).map(([k, v]) => `  ${k.padEnd(48)} ${v.toExponential(2)}`);
  if (rows.length > 0) process.stdout.write(`${suite}: max |trainer - onnx|\n${rows.join('\n')}\n`);
}

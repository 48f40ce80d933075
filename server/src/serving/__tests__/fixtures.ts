/**
 * Test models: a tiny ONNX graph built here with onnx-proto (fast, no Python), and the
 * scikit-learn penguins classifier made at run time by server/test-fixtures/make_sklearn_onnx.py.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';

import { loadFrame } from '../../data/load';
import { prepareFolds, preprocessRecords } from '../../data/prepare';
import { exportOnnx } from '../../onnx/export';
import { parseSpec } from '../../spec';
import { logisticRegressionTrainer } from '../../trainers/logistic';

export const REPO = join(__dirname, '..', '..', '..', '..');
export const PYTHON = join(REPO, '.venv', 'bin', 'python');
export const FIXTURES = join(REPO, 'server', 'test-fixtures');

/** Weights of the tiny classifier: x [n,4] · W [4,3] + b [3] → softmax. */
export const W = [
  [0.5, -0.2, 0.1],
  [-0.3, 0.8, 0.0],
  [0.2, 0.1, -0.6],
  [0.0, -0.4, 0.9],
];
export const B = [0.1, -0.1, 0.05];

const floats = (name: string, dims: number[], values: number[]): onnx.ITensorProto => ({
  name,
  dims,
  dataType: onnx.TensorProto.DataType.FLOAT,
  floatData: values,
});

const valueInfo = (name: string, dims: (number | string)[]): onnx.IValueInfoProto => ({
  name,
  type: {
    tensorType: {
      elemType: onnx.TensorProto.DataType.FLOAT,
      shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
    },
  },
});

/** FP32 "x" [-1, 4] → FP32 "probabilities" [-1, 3] (MatMul, Add, Softmax), opset 13. */
export function tinyModel(metadata: Record<string, string> = {}): Uint8Array {
  const model: onnx.IModelProto = {
    irVersion: 8,
    producerName: 'stratum-test',
    producerVersion: '1',
    opsetImport: [{ domain: '', version: 13 }],
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    graph: {
      name: 'tiny',
      node: [
        { opType: 'MatMul', input: ['x', 'W'], output: ['xw'] },
        { opType: 'Add', input: ['xw', 'B'], output: ['logits'] },
        {
          opType: 'Softmax',
          input: ['logits'],
          output: ['probabilities'],
          attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: -1 }],
        },
      ],
      initializer: [floats('W', [4, 3], W.flat()), floats('B', [3], B)],
      input: [valueInfo('x', ['batch', 4])],
      output: [valueInfo('probabilities', ['batch', 3])],
    },
  };
  return onnx.ModelProto.encode(model).finish();
}

/** The tiny model's answer in plain JS (float64), to compare with onnxruntime's. */
export function tinyReference(row: readonly number[]): number[] {
  const logits = B.map((b, j) => b + row.reduce((s, v, i) => s + v * W[i]![j]!, 0));
  const m = Math.max(...logits);
  const e = logits.map((l) => Math.exp(l - m));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/** The same model file with metadata_props replaced. */
export function withMetadata(bytes: Uint8Array, metadata: Record<string, string>): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  model.metadataProps = Object.entries(metadata).map(([key, value]) =>
    onnx.StringStringEntryProto.create({ key, value }),
  );
  return onnx.ModelProto.encode(model).finish();
}

export function writeTemp(name: string, bytes: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), 'stratum-serving-'));
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

export interface Expected {
  readonly features: string[];
  readonly classes: string[];
  readonly inputs: number[][];
  readonly labels: string[];
  readonly probabilities: number[][];
}

/** Trains and exports the scikit-learn model into a fresh temp dir. */
export function sklearnFixture(): { dir: string; modelPath: string; expected: Expected } {
  const dir = mkdtempSync(join(tmpdir(), 'stratum-sklearn-'));
  execFileSync(PYTHON, [join(FIXTURES, 'make_sklearn_onnx.py'), dir], { stdio: 'pipe' });
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;
  return { dir, modelPath: join(dir, 'model.onnx'), expected };
}

/**
 * A Stratum-trained model: examples/penguins.yaml prepared (fillMissing, oneHot, standardize),
 * a logistic regression trained on every row, exported with the preprocessor in its metadata.
 * `expected` is the trainer's own answer on the raw records.
 */
export async function stratumPenguins(): Promise<{
  modelPath: string;
  records: Record<string, unknown>[];
  classes: string[];
  labels: string[];
  probabilities: number[][];
}> {
  const file = join(REPO, 'examples', 'penguins.yaml');
  const { spec } = parseSpec(readFileSync(file, 'utf8'), file);
  const bytes = readFileSync(join(REPO, 'node_modules', 'vega-datasets', 'data', 'penguins.json'));
  const frame = await loadFrame(bytes, 'json', { source: 'penguins.json' });
  const { full } = prepareFolds(frame, spec);
  const pre = full.preprocessor;
  const model = await logisticRegressionTrainer.train({
    task: 'classification',
    x: full.data.x,
    y: full.data.y,
    featureNames: pre.featureNames,
    classes: pre.classes,
    params: { numSteps: 300, learningRate: 0.1 },
    seed: 3,
  });
  const all = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>[];
  const records = all.filter((r) => r['Beak Length (mm)'] !== null).slice(0, 40);
  const x = preprocessRecords(pre, records).map((row) => Float64Array.from(Float32Array.from(row)));
  const classes = [...pre.classes!];
  return {
    modelPath: writeTemp('stratum-penguins.onnx', exportOnnx(model, pre)),
    records,
    classes,
    labels: Array.from(model.predict(x), (k) => classes[k]!),
    probabilities: model.predictProba!(x).map((p) => Array.from(p)),
  };
}

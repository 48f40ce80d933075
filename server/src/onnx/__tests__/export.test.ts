/**
 * The uniform signature and metadata of every export, and the round trip serving relies on:
 * the preprocessor read back from the file turns raw records into the input that gives the
 * trainer's predictions.
 */
import { onnx } from 'onnx-proto';
import { preprocessRecords, type Preprocessor } from '../../data/prepare';
import { logisticRegressionTrainer } from '../../trainers/logistic';
import { randomForestTrainer } from '../../trainers/forest';
import type { TrainedModel } from '../../trainers/types';
import { GraphBuilder } from '../builder';
import { OnnxExportError } from '../errors';
import { exportOnnx } from '../export';
import { readOnnxSignature } from '../signature';
import { asFloat32, example, maxAbsDiff, runOnnx, type Pipeline } from './helpers';

let penguins: Pipeline;
let cars: Pipeline;

beforeAll(async () => {
  [penguins, cars] = await Promise.all([example('penguins'), example('cars')]);
});

function trainer(p: Pipeline, plugin: typeof logisticRegressionTrainer, params: Record<string, unknown>) {
  return plugin.train({
    task: p.spec.task,
    x: p.fold.train.x,
    y: p.fold.train.y,
    featureNames: p.fold.preprocessor.featureNames,
    classes: p.fold.preprocessor.classes,
    params,
    seed: 5,
  });
}

/**
 * Raw records as requests would carry them (only the fields the preprocessor asks for), and
 * their original records: those the preprocessor accepts (a null its fillMissing covers is
 * fine; one a dropMissing would have removed is not).
 */
function requests(
  p: Pipeline,
  pre: Preprocessor,
  n: number,
): { records: Record<string, unknown>[]; raw: Record<string, unknown>[] } {
  const raw = p.records.filter((r) => {
    try {
      preprocessRecords(pre, [r]);
      return true;
    } catch {
      return false;
    }
  });
  const picked = raw.slice(0, n);
  return { raw: picked, records: picked.map((r) => Object.fromEntries(pre.inputs.map((i) => [i.name, r[i.name]]))) };
}

describe('exportOnnx', () => {
  it('classifier: features → label + probabilities; metadata round-trips the preprocessor and classes', async () => {
    const model = await trainer(penguins, logisticRegressionTrainer, { numSteps: 300 });
    const pre = penguins.fold.preprocessor;
    const bytes = exportOnnx(model, pre, { metadata: { 'stratum.candidate': 'logistic' } });
    const sig = readOnnxSignature(bytes);
    expect(sig.inputs).toEqual([{ name: 'features', datatype: 'FP32', shape: [-1, pre.featureNames.length] }]);
    expect(sig.outputs).toEqual([
      { name: 'label', datatype: 'INT64', shape: [-1] },
      { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
    ]);
    expect(sig.opset).toBeGreaterThanOrEqual(13);
    expect(sig.producer).toMatch(/^stratum \d+\.\d+\.\d+$/);
    expect(sig.metadata['stratum.trainer']).toBe('logistic-regression');
    expect(sig.metadata['stratum.task']).toBe('classification');
    expect(sig.metadata['stratum.candidate']).toBe('logistic');
    const classes = JSON.parse(sig.metadata['stratum.classes']!) as string[];
    expect(classes).toEqual(['Adelie', 'Chinstrap', 'Gentoo']);

    const restored = JSON.parse(sig.metadata['stratum.preprocessor']!) as Preprocessor;
    expect(restored).toEqual(JSON.parse(JSON.stringify(pre)));
    const { records, raw } = requests(penguins, restored, 150);
    expect(records.some((r) => r.Sex === null)).toBe(true);
    const x = asFloat32(preprocessRecords(restored, records));
    const out = runOnnx(bytes, x);
    const expected = asFloat32(preprocessRecords(pre, records));
    expect(Array.from(out.label!, Number)).toEqual(Array.from(model.predict(expected)));
    expect(maxAbsDiff(model.predictProba!(expected), out.probabilities!)).toBeLessThan(1e-4);
    // Index → label through the file's own class list gives the records' species, nearly always.
    const named = Array.from(out.label!, (k) => classes[Number(k)]);
    const correct = named.filter((species, i) => species === raw[i]!.Species).length;
    expect(correct / named.length).toBeGreaterThan(0.9);
  });

  it('regressor: features → prediction [batch, 1]; raw records with missing horsepower and a derived column', async () => {
    const model = await trainer(cars, randomForestTrainer, { nEstimators: 20, maxDepth: 8 });
    const pre = cars.fold.preprocessor;
    const bytes = exportOnnx(model, pre);
    const sig = readOnnxSignature(bytes);
    expect(sig.outputs).toEqual([{ name: 'prediction', datatype: 'FP32', shape: [-1, 1] }]);
    expect(sig.metadata['stratum.classes']).toBeUndefined();
    expect(sig.metadata['stratum.task']).toBe('regression');
    const restored = JSON.parse(sig.metadata['stratum.preprocessor']!) as Preprocessor;
    const { records } = requests(cars, restored, 400);
    expect(records.some((r) => r.Horsepower === null)).toBe(true);
    const out = runOnnx(bytes, asFloat32(preprocessRecords(restored, records)));
    const expected = model.predict(asFloat32(preprocessRecords(pre, records)));
    expect(
      maxAbsDiff(
        Array.from(expected, (v) => [v]),
        out.prediction!,
      ),
    ).toBeLessThan(1e-4);
  });

  it('imports ONNX-ML only for the tree models, at opset 3 beside the default opset 17', async () => {
    const opsets = (bytes: Uint8Array) =>
      onnx.ModelProto.decode(bytes).opsetImport.map((o) => `${o.domain || 'ai.onnx'}:${Number(o.version)}`);
    const forest = await trainer(cars, randomForestTrainer, { nEstimators: 2, maxDepth: 2 });
    expect(opsets(exportOnnx(forest, cars.fold.preprocessor))).toEqual(['ai.onnx:17', 'ai.onnx.ml:3']);
    const logistic = await trainer(penguins, logisticRegressionTrainer, { numSteps: 2 });
    expect(opsets(exportOnnx(logistic, penguins.fold.preprocessor))).toEqual(['ai.onnx:17']);
  });

  it('refuses what it cannot export, with OnnxExportError', async () => {
    const logistic = await trainer(penguins, logisticRegressionTrainer, { numSteps: 2 });
    const pre = penguins.fold.preprocessor;
    const unknown: TrainedModel = {
      trainer: 'external',
      backend: 'js',
      predict: () => new Float64Array(),
      toJSON: () => ({}),
    };
    expect(() => exportOnnx(unknown, pre)).toThrow(/no exporter for this trainer/);
    const n = pre.featureNames.length;
    expect(() => exportOnnx(logistic, { ...pre, featureNames: pre.featureNames.slice(1) })).toThrow(
      `takes ${n} features, the preprocessor makes ${n - 1}`,
    );
    expect(() => exportOnnx(logistic, { ...pre, classes: ['only'] })).toThrow(OnnxExportError);
    expect(() => exportOnnx(logistic, { ...pre, task: 'regression' })).toThrow(/trained for classification/);
  });
});

describe('GraphBuilder', () => {
  it('makes hinted names unique and refuses a taken exact name', () => {
    const g = new GraphBuilder('t');
    const x = g.input('x', onnx.TensorProto.DataType.FLOAT, ['batch', 2]);
    expect([g.op('Relu', [x], {}, 'y'), g.op('Relu', [x], {}, 'y'), g.op('Relu', [x], {}, 'y')]).toEqual([
      'y',
      'y_1',
      'y_2',
    ]);
    expect(() => g.node('Identity', [x], ['y'], {}, { exact: true })).toThrow(/already taken/);
    expect(() => g.floats('w', [1, 2, 3], [2, 2])).toThrow(/3 values for shape \[2, 2\]/);
  });
});

/**
 * Parity of the classical trainers' ONNX exports with the trainers themselves, on the
 * examples' real pipelines (penguins: classification, cars: regression), held-out rows only.
 */
import { decisionTreeTrainer } from '../../trainers/tree';
import { linearRegressionTrainer } from '../../trainers/linear';
import { logisticRegressionTrainer } from '../../trainers/logistic';
import { randomForestTrainer } from '../../trainers/forest';
import { syntheticTrainer } from '../../trainers/synthetic';
import type { TrainerPlugin } from '../../trainers/types';
import { exportOnnx } from '../export';
import { asFloat32, example, figures, maxAbsDiff, onnxCheck, report, runOnnx, type Pipeline } from './helpers';

const TOLERANCE = 1e-4;

let penguins: Pipeline;
let cars: Pipeline;

beforeAll(async () => {
  [penguins, cars] = await Promise.all([example('penguins'), example('cars')]);
});

afterAll(() => report('classical'));

async function train(plugin: TrainerPlugin, p: Pipeline, params: Record<string, unknown>) {
  const { train: data, preprocessor } = p.fold;
  return plugin.train({
    task: p.spec.task,
    x: data.x,
    y: data.y,
    featureNames: preprocessor.featureNames,
    classes: preprocessor.classes,
    params,
    seed: 13,
  });
}

const CLASSIFIERS: [string, TrainerPlugin, Record<string, unknown>][] = [
  ['random-forest', randomForestTrainer, { nEstimators: 30, maxDepth: 6 }],
  ['decision-tree', decisionTreeTrainer, { maxDepth: 6 }],
  ['logistic-regression', logisticRegressionTrainer, { numSteps: 400, learningRate: 0.1 }],
  ['synthetic', syntheticTrainer, { durationMs: 0, epochs: 1 }],
];

const REGRESSORS: [string, TrainerPlugin, Record<string, unknown>][] = [
  ['random-forest', randomForestTrainer, { nEstimators: 30, maxDepth: 8 }],
  ['decision-tree', decisionTreeTrainer, { maxDepth: 8 }],
  ['linear-regression', linearRegressionTrainer, { ridge: 1 }],
  ['synthetic', syntheticTrainer, { durationMs: 0, epochs: 1 }],
];

describe.each(CLASSIFIERS)('%s classifier → ONNX', (name, plugin, params) => {
  it('gives the trainer’s classes and probabilities on held-out penguins and passes the checker', async () => {
    const model = await train(plugin, penguins, params);
    const bytes = exportOnnx(model, penguins.fold.preprocessor);
    const x = asFloat32(penguins.fold.test.x);
    const out = runOnnx(bytes, x);
    const proba = model.predictProba!(x);
    const diff = maxAbsDiff(proba, out.probabilities!);
    figures[`${name} classifier (probabilities)`] = diff;
    expect(diff).toBeLessThan(TOLERANCE);
    expect(Array.from(out.label!, Number)).toEqual(Array.from(model.predict(x)));
    // Not a degenerate check: the held-out rows cover more than one class (but the constant model).
    if (name !== 'synthetic') expect(new Set(out.label!).size).toBeGreaterThan(1);
    expect(onnxCheck(bytes)).toEqual({ ok: true, message: '' });
  });
});

describe.each(REGRESSORS)('%s regressor → ONNX', (name, plugin, params) => {
  it('gives the trainer’s predictions on held-out cars and passes the checker', async () => {
    const model = await train(plugin, cars, params);
    const bytes = exportOnnx(model, cars.fold.preprocessor);
    const x = asFloat32(cars.fold.test.x);
    const out = runOnnx(bytes, x);
    const predicted = Array.from(model.predict(x), (v) => [v]);
    const diff = maxAbsDiff(predicted, out.prediction!);
    figures[`${name} regressor (prediction)`] = diff;
    expect(out.prediction).toHaveLength(x.length);
    expect(diff).toBeLessThan(TOLERANCE);
    expect(onnxCheck(bytes)).toEqual({ ok: true, message: '' });
  });
});

describe('trees on two classes', () => {
  // onnxruntime has a special path for two-class tree ensembles; the export must stay off it.
  const binary = (p: Pipeline) => {
    const keep = (y: Float64Array) => Array.from(y, (v, i) => (v < 2 ? i : -1)).filter((i) => i >= 0);
    const pick = (d: { x: Float64Array[]; y: Float64Array }) => {
      const rows = keep(d.y);
      return { x: rows.map((i) => d.x[i]!), y: Float64Array.from(rows, (i) => d.y[i]!) };
    };
    const pre = { ...p.fold.preprocessor, classes: p.fold.preprocessor.classes!.slice(0, 2) };
    return { train: pick(p.fold.train), test: pick(p.fold.test), preprocessor: pre };
  };

  it.each([
    ['random-forest', randomForestTrainer, { nEstimators: 15, maxDepth: 3 }],
    ['decision-tree', decisionTreeTrainer, { maxDepth: 3 }],
  ] as const)('%s keeps probabilities and labels', async (_name, plugin, params) => {
    const data = binary(penguins);
    const model = await plugin.train({
      task: 'classification',
      x: data.train.x,
      y: data.train.y,
      featureNames: data.preprocessor.featureNames,
      classes: data.preprocessor.classes,
      params,
      seed: 3,
    });
    const x = asFloat32(data.test.x);
    const out = runOnnx(exportOnnx(model, data.preprocessor), x);
    expect(maxAbsDiff(model.predictProba!(x), out.probabilities!)).toBeLessThan(TOLERANCE);
    expect(Array.from(out.label!, Number)).toEqual(Array.from(model.predict(x)));
  });
});

import { baselineMetrics, evaluate } from '../metrics';
import { decisionTreeTrainer } from '../tree';
import { featureFraction, randomForestTrainer } from '../forest';
import { linearRegressionTrainer, fitLinear } from '../linear';
import { logisticRegressionTrainer } from '../logistic';
import type { TrainerPlugin, TrainInput } from '../types';
import { accuracy, cars, holdout, penguins, viaJson, type Data } from './fixtures';

const penguinSplit = holdout(penguins(), 0.2, 7);
const carSplit = holdout(cars(), 0.2, 7);

function input(data: Data, task: TrainInput['task'], params: Record<string, unknown> = {}, seed = 42): TrainInput {
  return {
    task,
    x: data.x,
    y: data.y,
    featureNames: [],
    ...(data.classes ? { classes: data.classes } : {}),
    params,
    seed,
  };
}

const classifiers: [string, TrainerPlugin, Record<string, unknown>][] = [
  ['random-forest', randomForestTrainer, { nEstimators: 30 }],
  ['decision-tree', decisionTreeTrainer, {}],
  ['logistic-regression', logisticRegressionTrainer, {}],
];

describe.each(classifiers)('%s on penguins', (_name, plugin, params) => {
  const { train, test } = penguinSplit;

  it('reaches 0.9 holdout accuracy with probabilities that sum to 1', async () => {
    const model = await plugin.train(input(train, 'classification', params));
    const predicted = model.predict(test.x);
    expect(accuracy(test.y, predicted)).toBeGreaterThanOrEqual(0.9);
    const proba = model.predictProba!(test.x);
    expect(proba).toHaveLength(test.x.length);
    for (const row of proba) expect(row.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 9);
    const metrics = evaluate('classification', test.y, predicted, proba, 3);
    expect(metrics.accuracy).toBeGreaterThan(baselineMetrics('classification', train.y, test.y, 3).accuracy!);
  });

  it('predicts identically for the same seed and after a JSON round trip', async () => {
    const a = await plugin.train(input(train, 'classification', params, 5));
    const b = await plugin.train(input(train, 'classification', params, 5));
    expect(b.predict(test.x)).toEqual(a.predict(test.x));
    const loaded = await plugin.load(viaJson(a.toJSON()));
    expect(loaded.predict(test.x)).toEqual(a.predict(test.x));
    expect(loaded.predictProba!(test.x)).toEqual(a.predictProba!(test.x));
  });

  it('rejects rows of the wrong width and foreign state', async () => {
    const model = await plugin.train(input(train, 'classification', params));
    expect(() => model.predict([new Float64Array(2)])).toThrow(/row 0 has 2 features, the model takes 4/);
    await expect(plugin.load({ trainer: 'other', version: 1 })).rejects.toMatchObject({ code: 'INVALID_STATE' });
  });
});

const regressors: [string, TrainerPlugin, Record<string, unknown>][] = [
  ['random-forest', randomForestTrainer, { nEstimators: 30 }],
  ['decision-tree', decisionTreeTrainer, { maxDepth: 6 }],
  ['linear-regression', linearRegressionTrainer, {}],
  ['ridge regression', linearRegressionTrainer, { ridge: 5 }],
];

describe.each(regressors)('%s on cars', (_name, plugin, params) => {
  const { train, test } = carSplit;

  it('beats the training-mean baseline and round-trips through JSON', async () => {
    const model = await plugin.train(input(train, 'regression', params));
    const predicted = model.predict(test.x);
    const metrics = evaluate('regression', test.y, predicted);
    const baseline = baselineMetrics('regression', train.y, test.y);
    expect(metrics.rmse).toBeLessThan(0.7 * baseline.rmse!);
    expect(metrics.r2).toBeGreaterThan(0.5);
    expect(model.predictProba).toBeUndefined();
    const loaded = await plugin.load(viaJson(model.toJSON()));
    expect(loaded.predict(test.x)).toEqual(predicted);
  });
});

describe('linear regression', () => {
  it('recovers exact coefficients and intercept', () => {
    const x = [0, 1, 2, 3, 4].map((v) => Float64Array.of(v, v * v));
    const y = x.map((r) => 3 + 2 * r[0]! - 0.5 * r[1]!);
    const fit = fitLinear(x, y, 0, true);
    expect(fit.intercept).toBeCloseTo(3, 9);
    expect(fit.coefficients[0]).toBeCloseTo(2, 9);
    expect(fit.coefficients[1]).toBeCloseTo(-0.5, 9);
  });

  it('shrinks with ridge, fits through the origin without intercept, survives duplicate columns', () => {
    const x = [1, 2, 3, 4].map((v) => Float64Array.of(v));
    const y = [2, 4, 6, 8];
    expect(fitLinear(x, y, 0, false)).toEqual({ coefficients: [expect.closeTo(2, 9)], intercept: 0 });
    expect(Math.abs(fitLinear(x, y, 10, true).coefficients[0]!)).toBeLessThan(2);
    const twins = x.map((r) => Float64Array.of(r[0]!, r[0]!));
    const fit = fitLinear(twins, y, 0, true);
    expect(fit.coefficients[0]! + fit.coefficients[1]!).toBeCloseTo(2, 6);
  });

  it('refuses classification', async () => {
    await expect(linearRegressionTrainer.train(input(penguinSplit.train, 'classification'))).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('does not handle classification'),
    });
  });
});

describe('random forest', () => {
  it('maps the maxFeatures fraction to a count of at least one feature', () => {
    expect(featureFraction(1, 5)).toBe(1);
    expect(Math.floor(5 * featureFraction(0.5, 5))).toBe(2);
    expect(Math.floor(5 * featureFraction(0.01, 5))).toBe(1);
    expect(featureFraction(0.01, 5)).toBeLessThan(1);
  });

  it('gives different forests for different seeds', async () => {
    const { train } = penguinSplit;
    const a = await randomForestTrainer.train(input(train, 'classification', { nEstimators: 5, maxFeatures: 0.5 }, 1));
    const b = await randomForestTrainer.train(input(train, 'classification', { nEstimators: 5, maxFeatures: 0.5 }, 2));
    expect(JSON.stringify(b.toJSON())).not.toEqual(JSON.stringify(a.toJSON()));
  });
});

describe('logistic regression', () => {
  it('stops when aborted', async () => {
    const controller = new AbortController();
    const run = logisticRegressionTrainer.train({
      ...input(penguinSplit.train, 'classification', { numSteps: 1_000_000 }),
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 20);
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
  });
});

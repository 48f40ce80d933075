import type { LayerSpec } from '../../spec/schema';
import { createRng } from '../../util/random';
import { baselineMetrics, evaluate } from '../metrics';
import { tf, tfjsBackend } from '../tfjs-backend';
import { tfjsTrainer, validationRows } from '../tfjs';
import type { TrainInput } from '../types';
import { accuracy, cars, holdout, penguins, viaJson, type Data } from './fixtures';

const { train, test } = holdout(penguins(), 0.2, 7);

const MLP: LayerSpec[] = [
  { dense: { units: '$units', activation: 'relu' } },
  { dropout: { rate: 0.1 } },
  { dense: { units: 8, activation: 'relu' } },
];

function input(data: Data, overrides: Partial<TrainInput> = {}): TrainInput {
  return {
    task: data.classes ? 'classification' : 'regression',
    x: data.x,
    y: data.y,
    featureNames: [],
    ...(data.classes ? { classes: data.classes } : {}),
    params: { epochs: 50, units: 16 },
    layers: MLP,
    seed: 11,
    ...overrides,
  };
}

interface SavedModel {
  backend: string;
  topology: { config: { layers: { class_name: string }[] } };
  weights: { name: string; shape: number[]; data: string }[];
}

/** wasm here (no tfjs-node installed), unless the suite is run with the backend forced. */
const BACKEND = process.env.STRATUM_TFJS_BACKEND || 'wasm';

describe('tfjs trainer', () => {
  it(`runs on the ${BACKEND} backend`, async () => {
    expect(await tfjsBackend()).toBe(BACKEND);
  });

  it('trains an MLP to 0.9 holdout accuracy on penguins, deterministically, and round-trips through JSON', async () => {
    const a = await tfjsTrainer.train(input(train));
    const b = await tfjsTrainer.train(input(train));
    try {
      expect(a.backend).toBe(BACKEND);
      const predicted = a.predict(test.x);
      expect(accuracy(test.y, predicted)).toBeGreaterThanOrEqual(0.9);
      const proba = a.predictProba!(test.x);
      expect(evaluate('classification', test.y, predicted, proba, 3).logloss).toBeLessThan(
        baselineMetrics('classification', train.y, test.y, 3).logloss!,
      );
      expect(b.predictProba!(test.x)).toEqual(proba);
      const saved = viaJson(a.toJSON()) as SavedModel;
      // The head (dense softmax, 3 units) was appended after the three spec layers.
      expect(saved.topology.config.layers.map((l) => l.class_name)).toEqual(['Dense', 'Dropout', 'Dense', 'Dense']);
      expect(saved.weights.map((w) => w.shape)).toEqual([[4, 16], [16], [16, 8], [8], [8, 3], [3]]);
      const loaded = await tfjsTrainer.load(saved);
      expect(loaded.predictProba!(test.x)).toEqual(proba);
      expect(loaded.predict(test.x)).toEqual(predicted);
      loaded.dispose!();
    } finally {
      a.dispose!();
      b.dispose!();
    }
  });

  it('gives different weights for a different seed', async () => {
    const params = { epochs: 1, units: 4 };
    const a = await tfjsTrainer.train(input(train, { params, seed: 1 }));
    const b = await tfjsTrainer.train(input(train, { params, seed: 2 }));
    expect(a.predictProba!(test.x)).not.toEqual(b.predictProba!(test.x));
    a.dispose!();
    b.dispose!();
  });

  it('reports per-epoch metrics and stops at the epoch onEpoch says', async () => {
    const seen: [number, Readonly<Record<string, number>>][] = [];
    const model = await tfjsTrainer.train(
      input(train, {
        onEpoch: async (epoch, metrics) => {
          seen.push([epoch, metrics]);
          return epoch === 3 ? 'stop' : 'continue';
        },
      }),
    );
    model.dispose!();
    expect(seen.map(([e]) => e)).toEqual([1, 2, 3]);
    for (const [, m] of seen) {
      expect(Object.keys(m).sort()).toEqual(['accuracy', 'loss', 'val_accuracy', 'val_loss']);
      expect(Object.values(m).every(Number.isFinite)).toBe(true);
    }
  });

  it('reports no val_loss when validationSplit is 0', async () => {
    const keys: string[][] = [];
    const model = await tfjsTrainer.train(
      input(train, {
        params: { epochs: 1, units: 4, validationSplit: 0 },
        onEpoch: async (_e, m) => (keys.push(Object.keys(m)), 'continue'),
      }),
    );
    model.dispose!();
    expect(keys).toEqual([['loss', 'accuracy']]);
  });

  it('rejects with an AbortError when aborted between or during epochs, leaking no tensors', async () => {
    const before = tf.memory().numTensors;
    const between = new AbortController();
    await expect(
      tfjsTrainer.train(
        input(train, {
          signal: between.signal,
          onEpoch: async (epoch) => {
            if (epoch === 2) between.abort();
            return 'continue';
          },
        }),
      ),
    ).rejects.toMatchObject({ name: 'AbortError', trainer: 'tfjs' });
    const during = new AbortController();
    const run = tfjsTrainer.train(
      input(train, { params: { epochs: 1, batchSize: 1, units: 16 }, signal: during.signal }),
    );
    setTimeout(() => during.abort(), 30);
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    await expect(tfjsTrainer.train(input(train, { signal: AbortSignal.abort() }))).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('frees every tensor across many trials once models are disposed', async () => {
    const before = tf.memory().numTensors;
    for (let seed = 0; seed < 4; seed++) {
      const model = await tfjsTrainer.train(input(train, { params: { epochs: 2, units: 8 }, seed }));
      model.predict(test.x);
      model.predictProba!(test.x);
      model.toJSON();
      const loaded = await tfjsTrainer.load(viaJson(model.toJSON()));
      loaded.predict(test.x);
      loaded.dispose!();
      model.dispose!();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('beats the mean baseline on cars (regression head: dense(1) linear)', async () => {
    const split = holdout(cars(), 0.2, 7);
    const model = await tfjsTrainer.train(
      input(split.train, { params: { epochs: 60, units: 16, learningRate: 0.05 } }),
    );
    const metrics = evaluate('regression', split.test.y, model.predict(split.test.x));
    expect(metrics.rmse).toBeLessThan(0.7 * baselineMetrics('regression', split.train.y, split.test.y).rmse!);
    expect(model.predictProba).toBeUndefined();
    const saved = viaJson(model.toJSON()) as SavedModel;
    expect(saved.weights[saved.weights.length - 2]!.shape).toEqual([8, 1]);
    model.dispose!();
  });

  it('trains a conv2d stack on 8x8 images, flattening before the head by itself', async () => {
    const images = bars(120, 3);
    const layers: LayerSpec[] = [
      { reshape: { targetShape: [8, 8, 1] } },
      { conv2d: { filters: '$filters', kernelSize: 3, padding: 'same', activation: 'relu' } },
      { batchNormalization: {} },
      { maxPooling2d: { poolSize: 2 } },
      { conv2d: { filters: 4, kernelSize: [3, 3], strides: 2, padding: 'same', kernelInitializer: 'heNormal' } },
      { activation: { activation: 'relu' } },
      { averagePooling2d: { poolSize: 2 } },
    ];
    const run = (): Promise<import('../types').TrainedModel> =>
      tfjsTrainer.train(input(images, { layers, params: { epochs: 10, filters: 6, batchSize: 16 }, seed: 3 }));
    const model = await run();
    const again = await run();
    const proba = model.predictProba!(images.x);
    expect(again.predictProba!(images.x)).toEqual(proba);
    expect(accuracy(images.y, model.predict(images.x))).toBeGreaterThan(0.8);
    const saved = viaJson(model.toJSON()) as SavedModel;
    expect(saved.topology.config.layers.slice(-2).map((l) => l.class_name)).toEqual(['Flatten', 'Dense']);
    const loaded = await tfjsTrainer.load(saved);
    expect(loaded.predictProba!(images.x)).toEqual(proba);
    [model, again, loaded].forEach((m) => m.dispose!());
  });

  it('keeps a stack that already ends in a softmax over the classes', async () => {
    const layers: LayerSpec[] = [
      { dense: { units: 8, activation: 'tanh' } },
      { dense: { units: 3, activation: 'softmax' } },
    ];
    const model = await tfjsTrainer.train(input(train, { layers, params: { epochs: 1 } }));
    const saved = viaJson(model.toJSON()) as SavedModel;
    expect(saved.topology.config.layers).toHaveLength(2);
    model.dispose!();
  });

  it('trains a bare softmax regression when the stack is empty', async () => {
    const model = await tfjsTrainer.train(input(train, { layers: [], params: { epochs: 30, learningRate: 0.1 } }));
    expect(accuracy(test.y, model.predict(test.x))).toBeGreaterThanOrEqual(0.9);
    model.dispose!();
  });

  it('names the missing param of a $reference and the layer of a bad stack', async () => {
    await expect(tfjsTrainer.train(input(train, { params: { epochs: 1 } }))).rejects.toMatchObject({
      code: 'INVALID_PARAM',
      param: 'units',
      message: expect.stringContaining('layer 0 (dense): units refers to "$units"'),
    });
    const bad: LayerSpec[] = [{ conv2d: { filters: 2, kernelSize: 3 } }];
    await expect(tfjsTrainer.train(input(train, { layers: bad, params: { epochs: 1 } }))).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringMatching(/^tfjs: layer 0 \(conv2d\): /),
    });
  });

  it('takes validation rows by seed, leaving at least one to train on', () => {
    const a = validationRows(100, 0.2, 1);
    expect(a.validation).toHaveLength(20);
    expect([...a.train, ...a.validation].sort((p, q) => p - q)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(validationRows(100, 0.2, 1)).toEqual(a);
    expect(validationRows(100, 0.2, 2)).not.toEqual(a);
    expect(validationRows(3, 0.99, 1).train).toHaveLength(1);
    expect(validationRows(4, 0.1, 1).validation).toHaveLength(0);
  });
});

/** 8x8 images of one bright row (class 0) or column (class 1) plus noise, flattened to 64 features. */
function bars(n: number, seed: number): Data {
  const rng = createRng(seed);
  const x: Float64Array[] = [];
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const img = Float64Array.from({ length: 64 }, () => 0.3 * rng.next());
    const line = rng.int(8);
    y[i] = i % 2;
    for (let k = 0; k < 8; k++) img[y[i] === 0 ? line * 8 + k : k * 8 + line] = 1;
    x.push(img);
  }
  return { x, y, classes: ['row', 'column'] };
}

describe('tfjs trainer failures', () => {
  it('fails the trial with a hint when the loss diverges', async () => {
    // Targets near 1e20 square past float32's range in the first batch.
    const huge: Data = { x: train.x, y: train.y.map((v) => (v + 1) * 1e20) };
    await expect(
      tfjsTrainer.train(input(huge, { layers: [], params: { epochs: 3, learningRate: 10, optimizer: 'sgd' } })),
    ).rejects.toMatchObject({ code: 'TRAINING_FAILED', message: expect.stringContaining('try a lower learningRate') });
  });
});

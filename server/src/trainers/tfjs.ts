/**
 * The TensorFlow.js trainer. Reproducible by construction: seeded initializers (tfjs-model.ts),
 * a seeded validation split, our own seeded shuffle each epoch (fit runs one epoch at a time
 * with shuffle off) and dropout masks reseeded per batch. Same seed + same backend → same
 * weights and predictions.
 */
import { createRng, deriveSeed, shuffled, type Rng } from '../util/random';
import type { Task } from './catalog';
import { argmax, checkFeatureCount, checkInput, readState } from './common';
import { asTrainerError, throwIfAborted, TrainerError } from './errors';
import { resolveParams } from './params';
import { tf, tfjsBackend } from './tfjs-backend';
import { buildSequential, makeOptimizer } from './tfjs-model';
import type { TrainedModel, TrainerPlugin, TrainInput } from './types';

const NAME = 'tfjs';

interface TfjsParams extends Record<string, unknown> {
  epochs: number;
  batchSize: number;
  learningRate: number;
  optimizer: 'adam' | 'sgd' | 'rmsprop';
  validationSplit: number;
}

/** Weights are little-endian float32 bytes in base64, so the state is plain JSON. */
interface WeightState {
  name: string;
  shape: number[];
  data: string;
}

interface TfjsState {
  trainer: typeof NAME;
  version: 1;
  task: Task;
  features: number;
  nClasses: number;
  /** The backend that trained it; a different backend may round the last bits differently. */
  backend: string;
  /** tfjs's Keras-style model config (LayersModel.toJSON). */
  topology: object;
  weights: WeightState[];
}

/** Rows (in `index` order) as a float32 [n, features] tensor. */
function featureTensor(x: readonly Float64Array[], index: readonly number[], features: number): tf.Tensor2D {
  const flat = new Float32Array(index.length * features);
  index.forEach((row, i) => flat.set(x[row]!, i * features));
  return tf.tensor2d(flat, [index.length, features]);
}

/** One-hot rows (classification) or a [n, 1] column of targets (regression). */
function targetTensor(y: Float64Array, index: readonly number[], task: Task, nClasses: number): tf.Tensor2D {
  if (task === 'regression')
    return tf.tensor2d(
      Float32Array.from(index, (i) => y[i]!),
      [index.length, 1],
    );
  const flat = new Float32Array(index.length * nClasses);
  index.forEach((row, i) => (flat[i * nClasses + y[row]!] = 1));
  return tf.tensor2d(flat, [index.length, nClasses]);
}

/**
 * Validation rows drawn by the seed (never the tail, which may be sorted by class). At least
 * one row is always left to train on; a split too small for one row gives no validation.
 */
export function validationRows(rows: number, split: number, seed: number): { train: number[]; validation: number[] } {
  const order = shuffled(
    Array.from({ length: rows }, (_, i) => i),
    createRng(deriveSeed(seed, 'validation')),
  );
  const n = Math.min(rows - 1, Math.floor(rows * split));
  return { validation: order.slice(0, n).sort((a, b) => a - b), train: order.slice(n).sort((a, b) => a - b) };
}

/**
 * tfjs's dropout draws a fixed mask when its layer has a seed and a Math.random one when not.
 * Giving every dropout layer a fresh seed from our own stream before each batch keeps masks
 * varying between batches and the run reproducible.
 */
function reseedDropout(model: tf.Sequential, rng: Rng): void {
  for (const layer of model.layers) {
    if (layer.getClassName() === 'Dropout') (layer as unknown as { seed: number }).seed = 1 + rng.int(0x7ffffffe);
  }
}

const METRIC_NAMES: Record<string, string> = {
  loss: 'loss',
  val_loss: 'val_loss',
  acc: 'accuracy',
  val_acc: 'val_accuracy',
};

function epochMetrics(history: tf.History, epoch: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, values] of Object.entries(history.history)) {
    const value = Number(values[values.length - 1]);
    // A diverged model predicts garbage; fail the trial with the likely cause instead.
    if ((key === 'loss' || key === 'val_loss') && !Number.isFinite(value)) {
      throw new TrainerError(NAME, `${key} became ${value} at epoch ${epoch}; try a lower learningRate`);
    }
    out[METRIC_NAMES[key] ?? key] = value;
  }
  return out;
}

async function fitModel(model: tf.Sequential, input: TrainInput, params: TfjsParams, nClasses: number): Promise<void> {
  const { task, x, y, seed, signal } = input;
  const features = x[0]!.length;
  const split = validationRows(x.length, params.validationSplit, seed);
  const optimizer = makeOptimizer(params.optimizer, params.learningRate);
  const shuffleRng = createRng(deriveSeed(seed, 'shuffle'));
  const dropoutRng = createRng(deriveSeed(seed, 'dropout'));
  const xAll = featureTensor(x, split.train, features);
  const yAll = targetTensor(y, split.train, task, nClasses);
  const validation: [tf.Tensor2D, tf.Tensor2D] | undefined =
    split.validation.length > 0
      ? [featureTensor(x, split.validation, features), targetTensor(y, split.validation, task, nClasses)]
      : undefined;
  const positions = split.train.map((_, i) => i);
  try {
    model.compile({
      optimizer,
      loss: task === 'classification' ? 'categoricalCrossentropy' : 'meanSquaredError',
      metrics: task === 'classification' ? ['accuracy'] : [],
    });
    for (let epoch = 1; epoch <= params.epochs; epoch++) {
      throwIfAborted(NAME, signal);
      const order = tf.tensor1d(shuffled(positions, shuffleRng), 'int32');
      const xs = tf.gather(xAll, order);
      const ys = tf.gather(yAll, order);
      let history: tf.History;
      try {
        history = await model.fit(xs, ys, {
          epochs: 1,
          batchSize: params.batchSize,
          shuffle: false,
          verbose: 0,
          validationData: validation,
          callbacks: {
            onBatchBegin: async () => reseedDropout(model, dropoutRng),
            // Ends the epoch at the next batch boundary rather than after the whole epoch.
            onBatchEnd: async () => {
              if (signal?.aborted) model.stopTraining = true;
            },
          },
        });
      } finally {
        tf.dispose([order, xs, ys]);
      }
      throwIfAborted(NAME, signal);
      // Computed even without a listener: it is also the divergence check.
      const metrics = epochMetrics(history, epoch);
      const decision = await input.onEpoch?.(epoch, metrics);
      if (decision === 'stop') break;
    }
  } finally {
    tf.dispose([xAll, yAll, ...(validation ?? [])]);
    // The model was compiled with our optimizer instance, so disposing the model leaves it.
    optimizer.dispose();
  }
}

function encodeWeights(model: tf.LayersModel): WeightState[] {
  return model.weights.map((w) => {
    const data = tf.tidy(() => w.read().dataSync() as Float32Array);
    return {
      name: w.originalName,
      shape: w.shape.map((d) => d ?? 0),
      data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'),
    };
  });
}

function decodeWeights(weights: readonly WeightState[]): tf.Tensor[] {
  return weights.map((w) => {
    const bytes = Buffer.from(w.data, 'base64');
    // Copy into a fresh, aligned buffer: Buffer.from may hand back a slice of a shared pool.
    const values = new Float32Array(bytes.byteLength / 4);
    new Uint8Array(values.buffer).set(bytes);
    return tf.tensor(values, w.shape, 'float32');
  });
}

function wrap(model: tf.LayersModel, meta: Omit<TfjsState, 'topology' | 'weights'>, backend: string): TrainedModel {
  let state: TfjsState | undefined;
  const outputs = (x: readonly Float64Array[]): Float32Array => {
    checkFeatureCount(NAME, x, meta.features);
    if (x.length === 0) return new Float32Array(0);
    return tf.tidy(() => {
      const input = featureTensor(
        x,
        Array.from(x, (_, i) => i),
        meta.features,
      );
      return (model.predict(input, { batchSize: 256 }) as tf.Tensor).dataSync() as Float32Array;
    });
  };
  const proba = (x: readonly Float64Array[]): Float64Array[] => {
    const flat = outputs(x);
    const k = meta.nClasses;
    return Array.from(x, (_, i) => Float64Array.from(flat.subarray(i * k, (i + 1) * k)));
  };
  return {
    trainer: NAME,
    backend,
    predict: (x) =>
      meta.task === 'classification' ? Float64Array.from(proba(x), (p) => argmax(p)) : Float64Array.from(outputs(x)),
    ...(meta.task === 'classification' ? { predictProba: proba } : {}),
    toJSON() {
      state ??= { ...meta, topology: model.toJSON(null, false) as object, weights: encodeWeights(model) };
      return state;
    },
    dispose: () => model.dispose(),
  };
}

export const tfjsTrainer: TrainerPlugin = {
  name: NAME,
  async train(input: TrainInput): Promise<TrainedModel> {
    const params = resolveParams<TfjsParams>(NAME, input.params);
    const { features, nClasses } = checkInput(NAME, input);
    throwIfAborted(NAME, input.signal);
    const backend = await tfjsBackend();
    const model = buildSequential(input.layers ?? [], params, { task: input.task, features, nClasses }, input.seed);
    try {
      await fitModel(model, input, params, nClasses);
    } catch (err) {
      model.dispose();
      throw asTrainerError(NAME, err);
    }
    return wrap(model, { trainer: NAME, version: 1, task: input.task, features, nClasses, backend }, backend);
  },
  async load(raw: unknown): Promise<TrainedModel> {
    const state = readState<TfjsState>(NAME, 1, raw);
    const backend = await tfjsBackend();
    let model: tf.LayersModel;
    try {
      model = await tf.models.modelFromJSON({ modelTopology: state.topology } as never);
    } catch (err) {
      throw new TrainerError(NAME, `cannot rebuild the model: ${(err as Error).message}`, {
        code: 'INVALID_STATE',
        cause: err,
      });
    }
    const tensors = decodeWeights(state.weights);
    try {
      model.setWeights(tensors);
    } catch (err) {
      model.dispose();
      throw new TrainerError(NAME, `saved weights do not fit the model: ${(err as Error).message}`, {
        code: 'INVALID_STATE',
        cause: err,
      });
    } finally {
      tf.dispose(tensors);
    }
    const { topology: _t, weights: _w, ...meta } = state;
    return wrap(model, meta, backend);
  },
};

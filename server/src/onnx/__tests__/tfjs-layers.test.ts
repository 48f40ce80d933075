/**
 * Hand-built tfjs models (seeded weights, no training) through the same export: one stack
 * per activation family, the activation layers tfjs has (LeakyReLU, ELU, ReLU with a cap,
 * Softmax), and a CNN whose first layer takes [8, 8, 1] itself, so the graph reshapes the
 * flat features. Refusals name the layer and what is supported.
 */
import type { Preprocessor } from '../../data/prepare';
import { tf, tfjsBackend } from '../../trainers/tfjs-backend';
import { tfjsTrainer } from '../../trainers/tfjs';
import type { TrainedModel } from '../../trainers/types';
import { exportOnnx } from '../export';
import { OnnxExportError } from '../errors';
import { asFloat32, figures, imageRecords, maxAbsDiff, onnxCheck, report, runOnnx } from './helpers';

const TOLERANCE = 1e-4;

afterAll(() => report('tfjs layers'));

function preprocessor(features: number, task: 'classification' | 'regression'): Preprocessor {
  return {
    inputs: Array.from({ length: features }, (_, i) => ({ name: `f${i}`, kind: 'number' as const })),
    fitted: { steps: [] } as unknown as Preprocessor['fitted'],
    featureNames: Array.from({ length: features }, (_, i) => `f${i}`),
    target: 'y',
    task,
    ...(task === 'classification' ? { classes: ['a', 'b', 'c'] } : {}),
  };
}

/** The tfjs trainer's saved state for a model built here (its toJSON format). */
function stateOf(model: tf.Sequential, task: 'classification' | 'regression', features: number) {
  return {
    trainer: 'tfjs',
    version: 1,
    task,
    features,
    nClasses: task === 'classification' ? 3 : 0,
    backend: tf.getBackend(),
    topology: model.toJSON(null, false) as object,
    weights: model.weights.map((w) => {
      const data = w.read().dataSync() as Float32Array;
      return { name: w.originalName, shape: w.shape as number[], data: Buffer.from(data.buffer).toString('base64') };
    }),
  };
}

/**
 * The model's saved state behind the TrainedModel interface, for models the plugin's wrapper
 * cannot feed (an [8, 8, 1] input) or load back (tfjs cannot read its own "gelu_new").
 */
function wrap(model: tf.Sequential, task: 'classification' | 'regression', features: number): TrainedModel {
  const state = stateOf(model, task, features);
  return { trainer: 'tfjs', backend: state.backend, predict: () => new Float64Array(), toJSON: () => state };
}

/** tfjs's own outputs for the rows, fed in the shape the model's input takes. */
function predict(model: tf.Sequential, x: readonly Float64Array[], shape: number[]): Float32Array[] {
  return tf.tidy(() => {
    const input = tf.tensor(Float32Array.from(x.flatMap((row) => Array.from(row))), [x.length, ...shape]);
    const out = model.predict(input) as tf.Tensor;
    const width = out.shape[1]!;
    const flat = out.dataSync() as Float32Array;
    return x.map((_, i) => flat.slice(i * width, (i + 1) * width));
  });
}

const seeded = (seed: number) => tf.initializers.glorotUniform({ seed });

function rows(n: number, width: number, seed: number): Float64Array[] {
  let s = seed;
  const next = (): number => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 4 - 2;
  return Array.from({ length: n }, () => Float64Array.from({ length: width }, next));
}

const ACTIVATIONS = ['relu', 'relu6', 'sigmoid', 'hardSigmoid', 'tanh', 'elu', 'selu', 'softplus', 'softsign'];
const SMOOTH = ['swish', 'mish', 'gelu', 'gelu_new', 'linear', 'softmax', 'logSoftmax'];

describe('hand-built tfjs stacks → ONNX', () => {
  beforeAll(async () => {
    await tfjsBackend();
  });

  it.each([
    ['classic activations', ACTIVATIONS],
    ['smooth activations and a mid-stack softmax', SMOOTH],
  ])('%s match tfjs', async (label, names) => {
    const model = tf.sequential();
    names.forEach((activation, i) =>
      model.add(
        tf.layers.dense({
          units: 6,
          activation: activation as never,
          kernelInitializer: seeded(i + 1),
          biasInitializer: 'ones',
          ...(i === 0 ? { inputShape: [5] } : {}),
        }),
      ),
    );
    model.add(tf.layers.dense({ units: 1, kernelInitializer: seeded(99) }));
    const x = asFloat32(rows(40, 5, 7));
    const out = runOnnx(exportOnnx(wrap(model, 'regression', 5), preprocessor(5, 'regression')), x);
    const diff = maxAbsDiff(predict(model, x, [5]), out.prediction!);
    figures[`tfjs ${label}`] = diff;
    expect(diff).toBeLessThan(TOLERANCE);
    model.dispose();
  });

  it('LeakyReLU, ELU, capped ReLU and Softmax layers match tfjs', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ units: 8, inputShape: [5], kernelInitializer: seeded(1) }),
        tf.layers.leakyReLU({ alpha: 0.1 }),
        tf.layers.dense({ units: 8, kernelInitializer: seeded(2) }),
        tf.layers.elu(),
        tf.layers.dense({ units: 8, kernelInitializer: seeded(3) }),
        tf.layers.reLU({ maxValue: 0.5 }),
        tf.layers.dense({ units: 3, kernelInitializer: seeded(4) }),
        tf.layers.softmax(),
      ],
    });
    // Through the plugin's own load, so the saved state is one the trainer can read back.
    const loaded = await tfjsTrainer.load(stateOf(model, 'classification', 5));
    const x = asFloat32(rows(40, 5, 3));
    const out = runOnnx(exportOnnx(loaded, preprocessor(5, 'classification')), x);
    const diff = maxAbsDiff(loaded.predictProba!(x), out.probabilities!);
    figures['tfjs activation layers (probabilities)'] = diff;
    expect(diff).toBeLessThan(TOLERANCE);
    expect(Array.from(out.label!, Number)).toEqual(Array.from(loaded.predict(x)));
    model.dispose();
    loaded.dispose?.();
  });

  it('a first layer that takes [8, 8, 1] gets the flat features reshaped in the graph', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [8, 8, 1],
          filters: 3,
          kernelSize: [3, 2],
          strides: [2, 3],
          padding: 'same',
          kernelInitializer: seeded(5),
          biasInitializer: 'ones',
        }),
        tf.layers.conv2d({ filters: 2, kernelSize: 2, dilationRate: 2, padding: 'same', kernelInitializer: seeded(6) }),
        tf.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: seeded(7) }),
      ],
    });
    const x = asFloat32(
      imageRecords(30, 9).map((r) => Float64Array.from({ length: 64 }, (_, p) => r[`p${p}`] as number)),
    );
    const bytes = exportOnnx(wrap(model, 'classification', 64), preprocessor(64, 'classification'));
    const out = runOnnx(bytes, x);
    const diff = maxAbsDiff(predict(model, x, [8, 8, 1]), out.probabilities!);
    figures['tfjs [8,8,1] input, strided/dilated conv (probabilities)'] = diff;
    expect(diff).toBeLessThan(TOLERANCE);
    expect(onnxCheck(bytes)).toEqual({ ok: true, message: '' });
    model.dispose();
  });

  it('refuses a layer it cannot translate, naming it', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ units: 4, inputShape: [5] }),
        tf.layers.repeatVector({ n: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 1 }),
      ],
    });
    const wrapped = wrap(model, 'regression', 5);
    expect(() => exportOnnx(wrapped, preprocessor(5, 'regression'))).toThrow(OnnxExportError);
    expect(() => exportOnnx(wrapped, preprocessor(5, 'regression'))).toThrow(/RepeatVector is not supported/);
    model.dispose();
  });
});

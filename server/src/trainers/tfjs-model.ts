/**
 * Turns a candidate's YAML layer stack into a tf.Sequential: `$name` values come from the
 * trial's params, every random initializer is seeded, the input shape comes from the data and
 * the output head fits the task, so a spec only describes the hidden layers.
 */
import type { LayerKind, LayerSpec } from '../spec/schema';
import { deriveSeed } from '../util/random';
import type { Task } from './catalog';
import { TrainerError } from './errors';
import { tf } from './tfjs-backend';

const NAME = 'tfjs';

type Args = Record<string, unknown>;
type Layer = tf.layers.Layer;

const FACTORIES: Record<LayerKind, (args: Args) => Layer> = {
  dense: (a) => tf.layers.dense(a as never),
  conv2d: (a) => tf.layers.conv2d(a as never),
  maxPooling2d: (a) => tf.layers.maxPooling2d(a as never),
  averagePooling2d: (a) => tf.layers.averagePooling2d(a as never),
  flatten: (a) => tf.layers.flatten(a as never),
  dropout: (a) => tf.layers.dropout(a as never),
  batchNormalization: (a) => tf.layers.batchNormalization(a as never),
  activation: (a) => tf.layers.activation(a as never),
  reshape: (a) => tf.layers.reshape(a as never),
};

/** Random initializers by the names tfjs accepts in layer args; each gets a seed. */
const SEEDED_INITIALIZERS: Record<string, (seed: number) => unknown> = {
  glorotUniform: (seed) => tf.initializers.glorotUniform({ seed }),
  glorotNormal: (seed) => tf.initializers.glorotNormal({ seed }),
  heUniform: (seed) => tf.initializers.heUniform({ seed }),
  heNormal: (seed) => tf.initializers.heNormal({ seed }),
  leCunUniform: (seed) => tf.initializers.leCunUniform({ seed }),
  leCunNormal: (seed) => tf.initializers.leCunNormal({ seed }),
  randomUniform: (seed) => tf.initializers.randomUniform({ seed }),
  randomNormal: (seed) => tf.initializers.randomNormal({ seed }),
  truncatedNormal: (seed) => tf.initializers.truncatedNormal({ seed }),
};

/** Layers whose kernel tfjs would otherwise initialise from Math.random. */
const HAS_KERNEL = new Set<LayerKind>(['dense', 'conv2d']);

/** tfjs treats seed 0 as "unseeded", so derived seeds avoid it. */
export function layerSeed(seed: number, label: string): number {
  return deriveSeed(seed, label) || 1;
}

function resolveValue(value: unknown, params: Readonly<Args>, where: string, key: string): unknown {
  if (typeof value !== 'string' || !value.startsWith('$')) return value;
  const name = value.slice(1);
  const resolved = params[name];
  if (resolved === undefined) {
    throw new TrainerError(NAME, `${where}: ${key} refers to "${value}" but the trial has no param "${name}"`, {
      code: 'INVALID_PARAM',
      param: name,
    });
  }
  if (!['number', 'string', 'boolean'].includes(typeof resolved)) {
    throw new TrainerError(NAME, `${where}: param "${name}" must be a number, string or boolean`, {
      code: 'INVALID_PARAM',
      param: name,
    });
  }
  return resolved;
}

/** One spec layer's tfjs args: `$refs` resolved, initializers seeded, dropout seeded. */
export function layerArgs(
  kind: LayerKind,
  spec: Readonly<Args>,
  params: Readonly<Args>,
  seed: number,
  index: number,
): Args {
  const where = `layer ${index} (${kind})`;
  const args: Args = {};
  for (const [key, value] of Object.entries(spec)) {
    const resolved = resolveValue(value, params, where, key);
    const seeded =
      key.endsWith('Initializer') && typeof resolved === 'string' ? SEEDED_INITIALIZERS[resolved] : undefined;
    args[key] = seeded ? seeded(layerSeed(seed, `${index}:${key}`)) : resolved;
  }
  if (HAS_KERNEL.has(kind) && args.kernelInitializer === undefined) {
    args.kernelInitializer = tf.initializers.glorotUniform({ seed: layerSeed(seed, `${index}:kernelInitializer`) });
  }
  if (kind === 'dropout' && args.seed === undefined) args.seed = layerSeed(seed, `${index}:dropout`);
  return args;
}

function splitSpec(spec: LayerSpec, index: number): [LayerKind, Args] {
  const entries = Object.entries(spec);
  const [kind, args] = entries[0] ?? [];
  if (entries.length !== 1 || kind === undefined || !(kind in FACTORIES)) {
    throw new TrainerError(NAME, `layer ${index}: expected one of ${Object.keys(FACTORIES).join(', ')}`, {
      code: 'INVALID_INPUT',
    });
  }
  return [kind as LayerKind, (args ?? {}) as Args];
}

export interface ModelShape {
  readonly task: Task;
  readonly features: number;
  /** Classification only. */
  readonly nClasses: number;
}

/** Whether the model already ends the way the task needs: [batch, units] through `activation`. */
function endsWith(model: tf.Sequential, units: number, activation: string): boolean {
  const shape = model.outputs[0]!.shape;
  if (shape.length !== 2 || shape[1] !== units) return false;
  const last = model.layers[model.layers.length - 1]!;
  const name = last.getClassName();
  if (name !== 'Dense' && name !== 'Activation') return false;
  return (last.getConfig().activation ?? 'linear') === activation;
}

/**
 * Builds the (uncompiled) model. The first layer gets `inputShape: [features]` unless it sets
 * one; the head is a softmax dense of nClasses units (classification) or a linear dense(1)
 * (regression), preceded by a flatten when the stack ends in a feature map, and skipped when
 * the stack already ends that way.
 */
export function buildSequential(
  layers: readonly LayerSpec[],
  params: Readonly<Args>,
  shape: ModelShape,
  seed: number,
): tf.Sequential {
  const model = tf.sequential();
  const add = (kind: LayerKind, args: Args, index: number): void => {
    if (model.layers.length === 0 && args.inputShape === undefined && args.batchInputShape === undefined) {
      args = { ...args, inputShape: [shape.features] };
    }
    try {
      model.add(FACTORIES[kind](args));
    } catch (err) {
      model.dispose();
      throw new TrainerError(NAME, `layer ${index} (${kind}): ${(err as Error).message}`, {
        code: 'INVALID_INPUT',
        cause: err,
      });
    }
  };
  layers.forEach((spec, index) => {
    const [kind, raw] = splitSpec(spec, index);
    add(kind, layerArgs(kind, raw, params, seed, index), index);
  });
  const units = shape.task === 'classification' ? shape.nClasses : 1;
  const activation = shape.task === 'classification' ? 'softmax' : 'linear';
  if (model.layers.length > 0 && endsWith(model, units, activation)) return model;
  const head = layers.length;
  if (model.layers.length > 0 && model.outputs[0]!.shape.length > 2) add('flatten', {}, head);
  add('dense', layerArgs('dense', { units, activation }, {}, seed, head), head);
  return model;
}

export function makeOptimizer(name: 'adam' | 'sgd' | 'rmsprop', learningRate: number): tf.Optimizer {
  if (name === 'sgd') return tf.train.sgd(learningRate);
  if (name === 'rmsprop') return tf.train.rmsprop(learningRate);
  return tf.train.adam(learningRate);
}

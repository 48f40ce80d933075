/**
 * A tfjs Sequential model (the tfjs trainer's saved state: Keras-style topology plus weights
 * as base64 little-endian float32, found by name since tfjs lists non-trainable weights such
 * as batch-norm moving statistics after all the trainable ones) → ONNX nodes, layer by layer.
 *
 * The graph takes the flat feature matrix [N, features]; a model whose first layer expects
 * [H, W, C] gets a Reshape in front, exactly as tfjs would have needed its input shaped.
 * Dense is MatMul + Add (so it also applies to the last axis of higher-rank inputs, as in
 * tfjs); dropout and noise layers are the identity at inference and add no node.
 */
import { activation, activationLayer } from './tfjs-activations';
import { batchNormalization, conv2d, pooling2d } from './tfjs-conv';
import { channelsLast, fail, product, type Context, type Value, type Weight } from './tfjs-layout';
import type { GraphBuilder } from './builder';

/** The tfjs trainer's state (trainers/tfjs.ts). */
export interface TfjsState {
  readonly task: 'classification' | 'regression';
  readonly features: number;
  readonly nClasses: number;
  readonly topology: unknown;
  readonly weights: readonly { readonly name: string; readonly shape: readonly number[]; readonly data: string }[];
}

interface LayerJson {
  readonly class_name: string;
  readonly config: Record<string, unknown>;
}

type Convert = (ctx: Context, v: Value, config: Record<string, unknown>) => Value;

const IDENTITY = new Set([
  'Dropout',
  'SpatialDropout1D',
  'AlphaDropout',
  'GaussianDropout',
  'GaussianNoise',
  'InputLayer',
]);

const LAYERS: Record<string, Convert> = {
  Dense: dense,
  Flatten: flatten,
  Reshape: reshape,
  Activation: (ctx, v, c) => activation(ctx, v, c.activation, String(c.name)),
  Conv2D: conv2d,
  MaxPooling2D: (ctx, v, c) => pooling2d(ctx, v, c, 'max'),
  AveragePooling2D: (ctx, v, c) => pooling2d(ctx, v, c, 'average'),
  BatchNormalization: batchNormalization,
  LeakyReLU: (ctx, v, c) => activationLayer(ctx, v, 'LeakyReLU', c),
  ELU: (ctx, v, c) => activationLayer(ctx, v, 'ELU', c),
  ReLU: (ctx, v, c) => activationLayer(ctx, v, 'ReLU', c),
  Softmax: (ctx, v, c) => activationLayer(ctx, v, 'Softmax', c),
};

function dense(ctx: Context, input: Value, config: Record<string, unknown>): Value {
  const layer = String(config.name);
  const v = channelsLast(ctx, input);
  const kernel = ctx.weight(layer, 'kernel');
  const [inputs, units] = kernel.shape as [number, number];
  if (kernel.shape.length !== 2 || inputs !== v.shape[v.shape.length - 1]) {
    fail(`layer ${layer}: kernel [${kernel.shape.join(', ')}] does not fit input [${v.shape.join(', ')}]`);
  }
  const g = ctx.g;
  let name = g.op('MatMul', [v.name, g.floats(`${layer}/kernel`, kernel.data, [inputs, units])], {}, 'matmul');
  if (config.use_bias !== false) {
    name = g.op('Add', [name, g.floats(`${layer}/bias`, ctx.weight(layer, 'bias').data, [units])], {}, 'dense');
  }
  return activation(ctx, { name, shape: [...v.shape.slice(0, -1), units], nchw: false }, config.activation, layer);
}

function flatten(ctx: Context, input: Value): Value {
  const v = channelsLast(ctx, input);
  if (v.shape.length <= 1) return v;
  return { name: ctx.g.op('Flatten', [v.name], {}, 'flatten'), shape: [product(v.shape)], nchw: false };
}

/** The -1 in a target shape, resolved from the input's size. */
function resolveShape(target: readonly number[], size: number, layer: string): number[] {
  const known = product(target.filter((d) => d !== -1));
  const free = target.filter((d) => d === -1).length;
  const shape = target.map((d) => (d === -1 ? size / known : d));
  if (free > 1 || product(shape) !== size || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    fail(`layer ${layer}: cannot reshape ${size} values to [${target.join(', ')}]`);
  }
  return shape;
}

function reshapeTo(ctx: Context, v: Value, target: readonly number[], layer: string): Value {
  const shape = resolveShape(target, product(v.shape), layer);
  const dims = ctx.g.int64s(`${layer}/shape`, [-1, ...shape]);
  return { name: ctx.g.op('Reshape', [channelsLast(ctx, v).name, dims], {}, 'reshape'), shape, nchw: false };
}

function reshape(ctx: Context, v: Value, config: Record<string, unknown>): Value {
  const target = config.target_shape;
  if (!Array.isArray(target) || !target.every((d) => typeof d === 'number')) {
    fail(`layer ${String(config.name)}: target_shape must be a list of sizes`);
  }
  return reshapeTo(ctx, v, target as number[], String(config.name));
}

function layersOf(topology: unknown): LayerJson[] {
  const t = topology as { class_name?: string; config?: unknown } | null;
  if (t?.class_name !== 'Sequential') fail('only Sequential models are supported');
  const config = t.config as { layers?: unknown } | unknown[];
  const layers = Array.isArray(config) ? config : (config as { layers?: unknown }).layers;
  if (!Array.isArray(layers) || layers.length === 0) fail('the topology lists no layers');
  return layers as LayerJson[];
}

function decode(w: TfjsState['weights'][number]): Weight {
  const bytes = Buffer.from(w.data, 'base64');
  const data = new Float32Array(bytes.byteLength / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(i * 4, true);
  if (data.length !== product(w.shape)) fail(`weight ${w.name} has ${data.length} values for [${w.shape.join(', ')}]`);
  return { shape: w.shape, data };
}

function context(g: GraphBuilder, state: TfjsState): Context {
  const byName = new Map(state.weights.map((w) => [w.name, w]));
  const cache = new Map<string, Weight>();
  return {
    g,
    weight(layer, suffix) {
      const key = `${layer}/${suffix}`;
      const saved = byName.get(key) ?? fail(`the saved weights lack ${key}`);
      let w = cache.get(key);
      if (!w) cache.set(key, (w = decode(saved)));
      return w;
    },
  };
}

/** The shape (without batch) the first layer declares, or the flat feature vector. */
function inputShape(first: LayerJson, features: number): number[] {
  const declared = first.config.batch_input_shape;
  if (!Array.isArray(declared)) return [features];
  const shape = declared.slice(1) as number[];
  if (!shape.every((d) => Number.isInteger(d) && d > 0) || product(shape) !== features) {
    fail(`the model takes input [${shape.join(', ')}], which does not hold ${features} features`);
  }
  return shape;
}

/** [N, features] → the model's output [N, units]: probabilities (classification) or [N, 1]. */
export function tfjsGraph(g: GraphBuilder, x: string, state: TfjsState): string {
  const layers = layersOf(state.topology);
  if (!Array.isArray(state.weights)) fail('the saved state holds no weights');
  const ctx = context(g, state);
  const shape = inputShape(layers[0]!, state.features);
  let v: Value = { name: x, shape: [state.features], nchw: false };
  if (shape.length > 1) v = reshapeTo(ctx, v, shape, 'input');
  for (const layer of layers) {
    if (IDENTITY.has(layer.class_name)) continue;
    const convert = LAYERS[layer.class_name];
    if (!convert) {
      fail(
        `layer ${String(layer.config?.name)}: ${layer.class_name} is not supported (supported: ${Object.keys(LAYERS).join(', ')})`,
      );
    }
    v = convert(ctx, v, layer.config);
  }
  v = channelsLast(ctx, v);
  const units = state.task === 'classification' ? state.nClasses : 1;
  if (v.shape.length !== 1 || v.shape[0] !== units) {
    fail(`the model outputs [${v.shape.join(', ')}] per row, expected [${units}] for ${state.task}`);
  }
  return v.name;
}

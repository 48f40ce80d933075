/**
 * tfjs conv2d, pooling and batch normalisation → ONNX Conv, MaxPool/AveragePool and
 * BatchNormalization. tfjs is NHWC with HWIO kernels; ONNX is NCHW with OIHW kernels, so the
 * input is transposed (tfjs-layout.ts) and the kernel is transposed here, once, at export.
 *
 * Padding is written out explicitly. tfjs 'same' is TensorFlow's SAME: the output has
 * ceil(in / stride) positions and the padding that needs, split with the odd pixel at the
 * end (bottom/right), which matters once stride > 1. 'valid' pads nothing. Average pooling
 * leaves padded cells out of the mean, as TensorFlow does (count_include_pad = 0).
 */
import { attr } from './builder';
import { activation } from './tfjs-activations';
import { channelsFirst, fail, pair, type Context, type Value } from './tfjs-layout';

type Config = Record<string, unknown>;

/** One spatial axis: output size and [before, after] padding for a (dilated) window. */
export function window1d(
  size: number,
  kernel: number,
  stride: number,
  dilation: number,
  padding: string,
): { out: number; pad: [number, number] } {
  const extent = (kernel - 1) * dilation + 1;
  if (padding === 'valid') {
    const out = Math.ceil((size - extent + 1) / stride);
    return { out, pad: [0, 0] };
  }
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + extent - size, 0);
  const before = Math.floor(total / 2);
  return { out, pad: [before, total - before] };
}

function window2d(
  v: Value,
  layer: string,
  kernel: [number, number],
  strides: [number, number],
  dilations: [number, number],
  padding: unknown,
): { out: [number, number]; pads: number[] } {
  if (padding !== 'same' && padding !== 'valid')
    fail(`layer ${layer}: padding ${JSON.stringify(padding)} is not supported`);
  const [h, w] = v.shape as [number, number, number];
  const rows = window1d(h, kernel[0], strides[0], dilations[0], padding);
  const cols = window1d(w, kernel[1], strides[1], dilations[1], padding);
  if (rows.out <= 0 || cols.out <= 0) fail(`layer ${layer}: the window does not fit the ${h}×${w} input`);
  // ONNX pads: all the begins (rows, columns), then all the ends.
  return { out: [rows.out, cols.out], pads: [rows.pad[0], cols.pad[0], rows.pad[1], cols.pad[1]] };
}

function checkChannelsLast(config: Config, layer: string): void {
  const format = config.data_format ?? 'channels_last';
  if (format !== 'channels_last') fail(`layer ${layer}: data_format ${JSON.stringify(format)} is not supported`);
}

/** HWIO → OIHW. */
function oihw(data: Float32Array, [kh, kw, cin, cout]: readonly number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let y = 0; y < kh!; y++)
    for (let x = 0; x < kw!; x++)
      for (let i = 0; i < cin!; i++)
        for (let o = 0; o < cout!; o++)
          out[((o * cin! + i) * kh! + y) * kw! + x] = data[((y * kw! + x) * cin! + i) * cout! + o]!;
  return out;
}

export function conv2d(ctx: Context, input: Value, config: Config): Value {
  const layer = String(config.name);
  checkChannelsLast(config, layer);
  const v = channelsFirst(ctx, input, layer);
  const kernel = ctx.weight(layer, 'kernel');
  const [kh, kw, cin, cout] = kernel.shape as [number, number, number, number];
  if (kernel.shape.length !== 4 || cin !== v.shape[2]) {
    fail(`layer ${layer}: kernel [${kernel.shape.join(', ')}] does not fit input [${v.shape.join(', ')}]`);
  }
  const size = pair(config.kernel_size, 1, `layer ${layer} kernel_size`);
  if (size[0] !== kh || size[1] !== kw) fail(`layer ${layer}: kernel_size disagrees with the kernel's shape`);
  const strides = pair(config.strides, 1, `layer ${layer} strides`);
  const dilations = pair(config.dilation_rate, 1, `layer ${layer} dilation_rate`);
  if ((strides[0] > 1 || strides[1] > 1) && (dilations[0] > 1 || dilations[1] > 1)) {
    fail(`layer ${layer}: strides and dilation_rate both above 1 (tfjs refuses this too)`);
  }
  const { out, pads } = window2d(v, layer, size, strides, dilations, config.padding ?? 'valid');
  const g = ctx.g;
  const inputs = [v.name, g.floats(`${layer}/kernel`, oihw(kernel.data, kernel.shape), [cout, cin, kh, kw])];
  if (config.use_bias !== false) inputs.push(g.floats(`${layer}/bias`, ctx.weight(layer, 'bias').data, [cout]));
  const name = g.op(
    'Conv',
    inputs,
    {
      kernel_shape: attr.ints([kh, kw]),
      strides: attr.ints(strides),
      dilations: attr.ints(dilations),
      pads: attr.ints(pads),
      group: attr.int(1),
    },
    'conv',
  );
  return activation(ctx, { name, shape: [out[0], out[1], cout], nchw: true }, config.activation, layer);
}

export function pooling2d(ctx: Context, input: Value, config: Config, kind: 'max' | 'average'): Value {
  const layer = String(config.name);
  checkChannelsLast(config, layer);
  const v = channelsFirst(ctx, input, layer);
  const size = pair(config.pool_size, 2, `layer ${layer} pool_size`);
  const strides = pair(config.strides ?? size, 1, `layer ${layer} strides`);
  const { out, pads } = window2d(v, layer, size, strides, [1, 1], config.padding ?? 'valid');
  const attributes = { kernel_shape: attr.ints(size), strides: attr.ints(strides), pads: attr.ints(pads) };
  const name =
    kind === 'max'
      ? ctx.g.op('MaxPool', [v.name], attributes, 'maxpool')
      : ctx.g.op('AveragePool', [v.name], { ...attributes, count_include_pad: attr.int(0) }, 'avgpool');
  return { name, shape: [out[0], out[1], v.shape[2]!], nchw: true };
}

/**
 * Inference-time batch normalisation over the channel (last tfjs) axis with the moving mean
 * and variance: (x - mean) / sqrt(variance + epsilon) · gamma + beta, gamma = 1 and beta = 0
 * when the layer was built without `scale` or `center`.
 */
export function batchNormalization(ctx: Context, input: Value, config: Config): Value {
  const layer = String(config.name);
  const rank = input.shape.length + 1;
  const axis = Array.isArray(config.axis) && config.axis.length === 1 ? config.axis[0] : (config.axis ?? -1);
  if (axis !== -1 && axis !== rank - 1)
    fail(`layer ${layer}: normalising over axis ${JSON.stringify(axis)} is not supported`);
  if (rank !== 2 && rank !== 4) fail(`layer ${layer}: batch normalisation of a rank-${rank} tensor is not supported`);
  const v = rank === 4 ? channelsFirst(ctx, input, layer) : input;
  const channels = v.shape[v.shape.length - 1]!;
  const g = ctx.g;
  const param = (suffix: string, enabled: boolean, fill: number): string => {
    const data = enabled ? ctx.weight(layer, suffix).data : new Float32Array(channels).fill(fill);
    if (data.length !== channels) fail(`layer ${layer}: ${suffix} has ${data.length} values for ${channels} channels`);
    return g.floats(`${layer}/${suffix}`, data, [channels]);
  };
  const epsilon = typeof config.epsilon === 'number' ? config.epsilon : 1e-3;
  const name = g.op(
    'BatchNormalization',
    [
      v.name,
      param('gamma', config.scale !== false, 1),
      param('beta', config.center !== false, 0),
      param('moving_mean', true, 0),
      param('moving_variance', true, 1),
    ],
    { epsilon: attr.float(epsilon) },
    'batchnorm',
  );
  return { ...v, name };
}

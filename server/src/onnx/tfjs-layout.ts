/**
 * What the tfjs converter carries from layer to layer: the ONNX tensor, the shape tfjs sees
 * (without the batch), and whether the ONNX tensor holds a feature map in ONNX's NCHW order
 * while tfjs holds it as NHWC. Layers that need one order ask for it and a Transpose is added
 * only when the order changes, so conv → pool → conv chains stay in NCHW.
 */
import { attr, type GraphBuilder } from './builder';
import { OnnxExportError } from './errors';

export const TRAINER = 'tfjs';

const ints = attr.ints;

export interface Value {
  readonly name: string;
  /** The tfjs shape without the batch dimension, e.g. [8, 8, 1] or [16]. */
  readonly shape: readonly number[];
  /** True when `name` holds the NCHW transpose of a rank-4 tfjs NHWC tensor. */
  readonly nchw: boolean;
}

export interface Weight {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface Context {
  readonly g: GraphBuilder;
  /** The weight `${layer}/${suffix}`; throws when the saved state lacks it. */
  weight(layer: string, suffix: string): Weight;
}

export function fail(message: string): never {
  throw new OnnxExportError(TRAINER, message);
}

/** The tensor in tfjs's own (channels-last) order. */
export function channelsLast(ctx: Context, v: Value): Value {
  if (!v.nchw) return v;
  return { ...v, name: ctx.g.op('Transpose', [v.name], { perm: ints([0, 2, 3, 1]) }, 'to_nhwc'), nchw: false };
}

/** A rank-4 tfjs tensor (shape [H, W, C]) as ONNX NCHW, for Conv, pooling and BatchNormalization. */
export function channelsFirst(ctx: Context, v: Value, layer: string): Value {
  if (v.nchw) return v;
  if (v.shape.length !== 3)
    fail(`layer ${layer} needs an [height, width, channels] input, got [${v.shape.join(', ')}]`);
  return { ...v, name: ctx.g.op('Transpose', [v.name], { perm: ints([0, 3, 1, 2]) }, 'to_nchw'), nchw: true };
}

/** A tfjs int-or-pair argument (kernel size, strides, dilation) as [rows, columns]. */
export function pair(value: unknown, fallback: number, what: string): [number, number] {
  const v = value ?? fallback;
  if (typeof v === 'number' && Number.isInteger(v) && v > 0) return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((n) => Number.isInteger(n) && n > 0)) {
    return [v[0] as number, v[1] as number];
  }
  return fail(`${what} must be a positive integer or a pair of them, got ${JSON.stringify(v)}`);
}

export function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

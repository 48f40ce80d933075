/**
 * Models that arrive as ONNX files (the external trainer): check that the file fits Stratum's
 * model contract, add the serving metadata (preprocessor, classes, lineage) to its
 * `metadata_props`, and score it on held-out rows with onnxruntime — the runtime that will
 * serve it, so the metrics describe the model that ships.
 *
 * The metadata is appended as a second serialized ModelProto holding only `metadata_props`:
 * protobuf merges repeated fields on concatenation, so every byte the producer wrote (fields
 * newer than onnx-proto knows included) is kept as it was.
 */
import { onnx } from 'onnx-proto';

import type { Preprocessor } from '../data/prepare';
import { readOnnxSignature, type OnnxSignature, type TensorSpec } from './signature';

export class OnnxContractError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxContractError';
  }
}

const isFloat = (t: TensorSpec): boolean => t.datatype === 'FP32' || t.datatype === 'FP64';
const isInt = (t: TensorSpec): boolean => /^U?INT/.test(t.datatype);

export interface ModelIo {
  readonly signature: OnnxSignature;
  readonly input: TensorSpec;
  /** Classifiers: the class index output. */
  readonly label?: TensorSpec;
  /** Classifiers: probabilities [batch, classes]. Regressors: the predicted values. */
  readonly value?: TensorSpec;
}

/**
 * The model's input and outputs, checked against the contract: one FP32/FP64 input
 * [batch, nFeatures]; a classifier has an integer label output and/or probabilities
 * [batch, nClasses]; a regressor a float output.
 */
export function modelIo(bytes: Uint8Array, task: string, nFeatures: number, nClasses: number): ModelIo {
  const signature = readOnnxSignature(bytes);
  const describe = (ts: readonly TensorSpec[]): string =>
    ts.map((t) => `${t.name} ${t.datatype} [${t.shape.join(',')}]`).join(', ') || 'none';
  const [input, ...more] = signature.inputs;
  if (
    !input ||
    more.length > 0 ||
    !isFloat(input) ||
    input.shape.length !== 2 ||
    ![-1, nFeatures].includes(input.shape[1]!)
  ) {
    throw new OnnxContractError(
      `model.onnx must take one FP32 input [batch, ${nFeatures}]; it takes ${describe(signature.inputs)}`,
    );
  }
  const tensors = signature.outputs.filter((t) => isFloat(t) || isInt(t));
  if (task === 'classification') {
    const label = tensors.find(isInt);
    const value = tensors.find((t) => isFloat(t) && t.shape.length === 2 && [-1, nClasses].includes(t.shape[1]!));
    if (!label && !value) {
      throw new OnnxContractError(
        `model.onnx must output an INT64 label [batch] or FP32 probabilities [batch, ${nClasses}] ` +
          `(skl2onnx: options={"zipmap": False}); it outputs ${describe(signature.outputs)}`,
      );
    }
    return { signature, input, ...(label ? { label } : {}), ...(value ? { value } : {}) };
  }
  const value = tensors.find(isFloat);
  if (!value) {
    throw new OnnxContractError(
      `model.onnx must output FP32 predictions [batch, 1]; it outputs ${describe(signature.outputs)}`,
    );
  }
  return { signature, input, value };
}

/** Adds metadata_props; refuses a file that already sets one of the keys (ONNX forbids duplicates). */
export function stampOnnx(bytes: Uint8Array, metadata: Readonly<Record<string, string>>): Uint8Array {
  const existing = readOnnxSignature(bytes).metadata;
  const clash = Object.keys(metadata).filter((k) => Object.prototype.hasOwnProperty.call(existing, k));
  if (clash.length > 0) {
    throw new OnnxContractError(
      `model.onnx already sets metadata ${clash.join(', ')}: leave stratum.* keys to Stratum`,
    );
  }
  const extra = onnx.ModelProto.encode(
    onnx.ModelProto.create({ metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })) }),
  ).finish();
  const out = new Uint8Array(bytes.length + extra.length);
  out.set(bytes, 0);
  out.set(extra, bytes.length);
  return out;
}

/** The metadata serving needs to take raw records, as `exportOnnx` writes it for built-in trainers. */
export function servingMetadata(pre: Preprocessor, trainer: string): Record<string, string> {
  return {
    'stratum.trainer': trainer,
    'stratum.task': pre.task,
    'stratum.preprocessor': JSON.stringify(pre),
    ...(pre.task === 'classification' ? { 'stratum.classes': JSON.stringify(pre.classes ?? []) } : {}),
  };
}

export interface Scored {
  /** Class index (classification) or value (regression), per row. */
  readonly predictions: Float64Array;
  readonly probabilities?: Float64Array[];
}

/** Runs the model on `x` with onnxruntime (CPU) and reads predictions the way serving does. */
export async function scoreOnnx(bytes: Uint8Array, io: ModelIo, x: readonly Float64Array[]): Promise<Scored> {
  const ort = await import('onnxruntime-node');
  const rows = x.length;
  const width = x[0]?.length ?? 0;
  const flat = io.input.datatype === 'FP64' ? new Float64Array(rows * width) : new Float32Array(rows * width);
  x.forEach((r, i) => flat.set(r, i * width));
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'] });
  try {
    const wanted = [io.label?.name, io.value?.name].filter((n): n is string => n !== undefined);
    const out = await session.run({ [io.input.name]: new ort.Tensor(flat, [rows, width]) }, wanted);
    const numbers = (name: string): Float64Array =>
      Float64Array.from(out[name]!.data as ArrayLike<number | bigint>, Number);
    const value = io.value ? numbers(io.value.name) : undefined;
    // Regressors: one value per row ([batch] or [batch, 1]).
    if (!io.label && io.value && io.value.shape.length < 2) return { predictions: value! };
    const cols = value ? value.length / Math.max(1, rows) : 0;
    if (!io.label && cols === 1) return { predictions: value! };
    const probabilities = value
      ? Array.from({ length: rows }, (_, i) => value.slice(i * cols, (i + 1) * cols))
      : undefined;
    const predictions = io.label ? numbers(io.label.name) : Float64Array.from(probabilities!, argmax);
    return { predictions, ...(probabilities ? { probabilities } : {}) };
  } finally {
    await session.release();
  }
}

function argmax(row: Float64Array): number {
  let best = 0;
  for (let j = 1; j < row.length; j++) if (row[j]! > row[best]!) best = j;
  return best;
}

/** Checks a trainer's ONNX file against the contract and adds the serving metadata: what ships. */
export function shipOnnx(
  bytes: Uint8Array,
  pre: Preprocessor,
  trainer: string,
  extra: Readonly<Record<string, string>> = {},
): Uint8Array {
  modelIo(bytes, pre.task, pre.featureNames.length, pre.classes?.length ?? 0);
  return stampOnnx(bytes, { ...extra, ...servingMetadata(pre, trainer) });
}

/** Scores a trainer's ONNX file on rows laid out as `pre.featureNames`. */
export function scoreWith(bytes: Uint8Array, pre: Preprocessor, x: readonly Float64Array[]): Promise<Scored> {
  return scoreOnnx(bytes, modelIo(bytes, pre.task, pre.featureNames.length, pre.classes?.length ?? 0), x);
}

/**
 * What the registry records about a model file besides its bytes: its signature, opset and
 * producer, and — for models Stratum trained — task, class labels and the raw record fields
 * the serving preprocessor needs. Read from the ONNX graph and its metadata_props.
 */
import { readOnnxSignature, type TensorSpec } from '../onnx/signature';

export interface ModelInfo {
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  readonly opset: number;
  readonly producer: string;
  readonly task: string;
  readonly classes: readonly string[];
  readonly recordFields: readonly string[];
}

export const EMPTY_INFO: ModelInfo = {
  inputs: [],
  outputs: [],
  opset: 0,
  producer: '',
  task: '',
  classes: [],
  recordFields: [],
};

function jsonOr<T>(text: string | undefined, fallback: T): T {
  if (!text) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/** Throws OnnxFormatError when the bytes are not an ONNX model. */
export function describeOnnx(bytes: Uint8Array): ModelInfo {
  const sig = readOnnxSignature(bytes);
  const pre = jsonOr<{ task?: string; inputs?: { name: string }[] } | undefined>(
    sig.metadata['stratum.preprocessor'],
    undefined,
  );
  return {
    inputs: sig.inputs,
    outputs: sig.outputs,
    opset: sig.opset,
    producer: sig.producer,
    task: sig.metadata['stratum.task'] ?? pre?.task ?? '',
    classes: jsonOr<string[]>(sig.metadata['stratum.classes'], []),
    recordFields: (pre?.inputs ?? []).map((i) => i.name),
  };
}

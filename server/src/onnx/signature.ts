/**
 * What an ONNX file promises: its graph inputs and outputs as Open Inference Protocol tensor
 * specs, the default-domain opset, the producer, and the `metadata_props` where Stratum's
 * exporter keeps the serving preprocessor (`stratum.preprocessor`) and class labels
 * (`stratum.classes`). Read from the bytes with onnx-proto, without loading a runtime.
 */
import { onnx } from 'onnx-proto';

export interface TensorSpec {
  readonly name: string;
  /**
   * The OIP datatype (BOOL, UINT8 … UINT64, INT8 … INT64, FP16, FP32, FP64, BYTES). A value
   * that is not a tensor (a sequence or a map, such as scikit-learn's ZipMap output) carries
   * its ONNX type instead, e.g. `seq(map(string,tensor(float)))`; no OIP request can carry it.
   */
  readonly datatype: string;
  /** -1 for a dimension of variable size. */
  readonly shape: number[];
  /** True when the graph declares no shape at all, so any rank is accepted. */
  readonly unknownRank?: boolean;
}

export interface OnnxSignature {
  readonly inputs: TensorSpec[];
  readonly outputs: TensorSpec[];
  /** Version of the default ("ai.onnx") operator set. */
  readonly opset: number;
  /** `producer_name producer_version`, e.g. "skl2onnx 1.20.0". */
  readonly producer: string;
  readonly metadata: Record<string, string>;
}

export type OnnxFormatErrorCode = 'not_onnx' | 'truncated';

export class OnnxFormatError extends Error {
  override readonly name = 'OnnxFormatError';
  constructor(
    readonly code: OnnxFormatErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const ELEMENT = onnx.TensorProto.DataType;

/** ONNX element type → OIP datatype; absent: no OIP name (complex, bfloat16, 4-bit, float8). */
export const OIP_DATATYPE: ReadonlyMap<number, string> = new Map([
  [ELEMENT.BOOL, 'BOOL'],
  [ELEMENT.UINT8, 'UINT8'],
  [ELEMENT.UINT16, 'UINT16'],
  [ELEMENT.UINT32, 'UINT32'],
  [ELEMENT.UINT64, 'UINT64'],
  [ELEMENT.INT8, 'INT8'],
  [ELEMENT.INT16, 'INT16'],
  [ELEMENT.INT32, 'INT32'],
  [ELEMENT.INT64, 'INT64'],
  [ELEMENT.FLOAT16, 'FP16'],
  [ELEMENT.FLOAT, 'FP32'],
  [ELEMENT.DOUBLE, 'FP64'],
  [ELEMENT.STRING, 'BYTES'],
]);

type Long = { toNumber(): number };
const num = (v: number | Long | null | undefined): number => (v == null ? 0 : typeof v === 'number' ? v : v.toNumber());

function elementName(t: number): string {
  return OIP_DATATYPE.get(t) ?? (ELEMENT[t] ?? `element type ${t}`).toLowerCase();
}

/** ONNX's own notation for a type that is not a plain tensor. */
function typeName(t: onnx.ITypeProto | null | undefined): string {
  if (!t) return 'unknown';
  if (t.tensorType) return `tensor(${elementName(t.tensorType.elemType ?? 0).toLowerCase()})`;
  if (t.sequenceType) return `seq(${typeName(t.sequenceType.elemType)})`;
  if (t.mapType) return `map(${elementName(t.mapType.keyType ?? 0).toLowerCase()},${typeName(t.mapType.valueType)})`;
  if (t.optionalType) return `optional(${typeName(t.optionalType.elemType)})`;
  if (t.sparseTensorType) return `sparse_tensor(${elementName(t.sparseTensorType.elemType ?? 0).toLowerCase()})`;
  return 'unknown';
}

function spec(v: onnx.IValueInfoProto): TensorSpec {
  const name = v.name ?? '';
  const tensor = v.type?.tensorType;
  if (!tensor) return { name, datatype: typeName(v.type), shape: [] };
  const datatype = OIP_DATATYPE.get(tensor.elemType ?? 0) ?? typeName(v.type);
  if (!tensor.shape) return { name, datatype, shape: [], unknownRank: true };
  const shape = (tensor.shape.dim ?? []).map((d) => {
    const size = d.dimValue == null ? 0 : num(d.dimValue);
    return d.dimParam || d.dimValue == null || size <= 0 ? -1 : size;
  });
  return { name, datatype, shape };
}

function decode(bytes: Uint8Array): onnx.ModelProto {
  if (bytes.length === 0) throw new OnnxFormatError('not_onnx', 'not an ONNX model: the file is empty');
  try {
    return onnx.ModelProto.decode(bytes);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    // Every ONNX writer puts ir_version (field 1, varint: tag byte 0x08) first, so a decode
    // that runs off the end of bytes starting that way is a cut-short model, not another format.
    if (bytes[0] === 0x08 && (e instanceof RangeError || /index out of range/.test(message))) {
      throw new OnnxFormatError(
        'truncated',
        `the ONNX model is truncated: its protobuf encoding ends early (${bytes.length} bytes read; ${message})`,
      );
    }
    throw new OnnxFormatError('not_onnx', `not an ONNX model: the bytes are not an ONNX ModelProto (${message})`);
  }
}

export function readOnnxSignature(bytes: Uint8Array): OnnxSignature {
  const model = decode(bytes);
  const graph = model.graph;
  if (num(model.irVersion) <= 0) {
    throw new OnnxFormatError('not_onnx', 'not an ONNX model: the bytes decode as protobuf but carry no IR version');
  }
  if (!graph) {
    throw new OnnxFormatError(
      'truncated',
      `the ONNX model is truncated or empty: its ${bytes.length} bytes end before the graph`,
    );
  }
  // Before IR 4 every initializer was also listed as a graph input; those are weights, not inputs.
  const weights = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  const defaultOpset = (model.opsetImport ?? []).filter((o) => !o.domain || o.domain === 'ai.onnx');
  const metadata: Record<string, string> = {};
  for (const p of model.metadataProps ?? []) if (p.key) metadata[p.key] = p.value ?? '';
  return {
    inputs: (graph.input ?? []).filter((v) => !weights.has(v.name ?? '')).map(spec),
    outputs: (graph.output ?? []).map(spec),
    opset: Math.max(0, ...defaultOpset.map((o) => num(o.version))),
    producer: [model.producerName, model.producerVersion].filter(Boolean).join(' '),
    metadata,
  };
}

/**
 * The gRPC side of the Open Inference Protocol as pure functions: a ModelInferRequest (typed
 * `contents` or `raw_input_contents`) → a validated InferRequest, and an InferResponse → a
 * ModelInferResponse with `raw_output_contents`, the form Triton answers and tritonclient reads.
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import { inference } from '@stratum/proto';

import { fromBytes, fromJsonValues, toBytes } from './tensor-data';
import {
  invalid,
  type Datatype,
  type InferRequest,
  type InferResponse,
  type Limits,
  type TensorData,
  type TensorSpec,
} from './types';
import { readShape, resolveInputs, resolveOutputs, type WireInput } from './validate';

type Contents = inference.InferTensorContents;
type ContentsField = Exclude<keyof Contents, '$typeName' | '$unknown'>;

/** Where each datatype's elements live in InferTensorContents (FP16 only travels raw). */
const FIELD: Readonly<Record<Datatype, ContentsField | null>> = {
  BOOL: 'boolContents',
  INT8: 'intContents',
  INT16: 'intContents',
  INT32: 'intContents',
  INT64: 'int64Contents',
  UINT8: 'uintContents',
  UINT16: 'uintContents',
  UINT32: 'uintContents',
  UINT64: 'uint64Contents',
  FP16: null,
  FP32: 'fp32Contents',
  FP64: 'fp64Contents',
  BYTES: 'bytesContents',
};

const FIELDS: readonly ContentsField[] = [
  'boolContents',
  'intContents',
  'int64Contents',
  'uintContents',
  'uint64Contents',
  'fp32Contents',
  'fp64Contents',
  'bytesContents',
];

const snake = (f: string): string => f.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

const filled = (c: Contents | undefined): ContentsField[] => (c ? FIELDS.filter((f) => c[f].length > 0) : []);

function fromContents(dt: Datatype, contents: Contents | undefined, count: number, where: string): TensorData {
  const want = FIELD[dt];
  if (want === null) throw invalid(`${where}: ${dt} data must be sent in raw_input_contents`);
  const other = filled(contents).find((f) => f !== want);
  if (other) throw invalid(`${where}: ${dt} elements belong in contents.${snake(want)}, not contents.${snake(other)}`);
  const values = contents ? contents[want] : [];
  if (values.length !== count)
    throw invalid(`${where}: the shape needs ${count} elements, contents.${snake(want)} has ${values.length}`);
  switch (dt) {
    case 'INT64':
      return BigInt64Array.from(values as bigint[]);
    case 'UINT64':
      return BigUint64Array.from(values as bigint[]);
    case 'FP32':
      return Float32Array.from(values as number[]);
    case 'FP64':
      return Float64Array.from(values as number[]);
    case 'BYTES': {
      const text = new TextDecoder();
      return (values as Uint8Array[]).map((b) => text.decode(b));
    }
    default:
      // BOOL and the narrow integers: the JSON converter checks each value's type and range.
      return fromJsonValues(dt, values as unknown[], where);
  }
}

export function decodeGrpcInfer(
  req: inference.ModelInferRequest,
  signature: { readonly inputs: readonly TensorSpec[]; readonly outputs: readonly TensorSpec[] },
  limits: Pick<Limits, 'allowNonFinite'>,
): InferRequest {
  const raw = req.rawInputContents;
  if (raw.length > 0 && raw.length !== req.inputs.length) {
    throw invalid(
      `raw_input_contents has ${raw.length} entries for ${req.inputs.length} inputs; send one per input, in order`,
    );
  }
  const wire = req.inputs.map((t, k): WireInput => {
    const where = `input "${t.name}"`;
    if (!t.name) throw invalid(`inputs[${k}] has no name`);
    const shape = readShape(t.shape, where);
    if (raw.length === 0)
      return { name: t.name, datatype: t.datatype, shape, read: (dt, n, at) => fromContents(dt, t.contents, n, at) };
    if (filled(t.contents).length > 0)
      throw invalid(`${where} sets contents while the request uses raw_input_contents; use one or the other`);
    return { name: t.name, datatype: t.datatype, shape, read: (dt, n, at) => fromBytes(dt, raw[k]!, n, at) };
  });
  const inputs = resolveInputs(wire, signature.inputs, limits);
  const asked = req.outputs.map((o) => ({ name: o.name, binary: true }));
  return { id: req.id, inputs, outputs: resolveOutputs(asked, signature.outputs, true) };
}

export function encodeGrpcInfer(resp: InferResponse): MessageInitShape<typeof inference.ModelInferResponseSchema> {
  return {
    modelName: resp.modelName,
    modelVersion: resp.modelVersion,
    id: resp.id,
    outputs: resp.outputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape.map(BigInt) })),
    rawOutputContents: resp.outputs.map(toBytes),
  };
}

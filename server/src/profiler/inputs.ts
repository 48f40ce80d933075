/**
 * Request bodies for a sweep, one row each. From the signature: floating-point inputs get
 * random normal values (image-like shapes too), integers small non-negative values, BOOL 0/1,
 * BYTES short words; a variable dimension past the first gets `freeDim`. Or, for a model with a
 * Stratum preprocessor and sample records, the records encoded as training encoded them.
 * Bodies use the OIP binary-data extension, so a large tensor costs no JSON parsing.
 */
import { planPredict, encodeRows } from '../serving/predict';
import { isDatatype, toHalf } from '../serving/tensor-data';
import type { OnnxSignature, TensorSpec } from '../onnx/signature';
import { HEADER_LENGTH } from '../serving/oip-codec';
import { toBytes } from '../serving/tensor-data';
import type { Datatype, Tensor, TensorData } from '../serving/types';
import { createRng, type Rng } from '../util/random';

export interface RequestBody {
  readonly body: Buffer;
  readonly headers: Readonly<Record<string, string>>;
}

export interface SampleRequests {
  readonly bodies: readonly RequestBody[];
  /** What the requests carry, for the profile. */
  readonly description: string;
}

export interface SampleOptions {
  /** Distinct bodies to cycle through. Default 16. */
  readonly count?: number;
  readonly seed?: number;
  /** Size of a variable dimension after the first. Default 8. */
  readonly freeDim?: number;
  /** Raw records for the model's preprocessor (Stratum-trained models). */
  readonly records?: readonly Record<string, unknown>[];
}

function normal(rng: Rng): number {
  const u = Math.max(rng.next(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

function fill(dt: Datatype, n: number, rng: Rng): TensorData {
  switch (dt) {
    case 'FP32':
      return Float32Array.from({ length: n }, () => normal(rng));
    case 'FP64':
      return Float64Array.from({ length: n }, () => normal(rng));
    case 'FP16':
      return Uint16Array.from({ length: n }, () => toHalf(normal(rng)));
    case 'BOOL':
      return Uint8Array.from({ length: n }, () => rng.int(2));
    case 'BYTES':
      return Array.from({ length: n }, () => `w${rng.int(100)}`);
    case 'INT64':
      return BigInt64Array.from({ length: n }, () => BigInt(rng.int(10)));
    case 'UINT64':
      return BigUint64Array.from({ length: n }, () => BigInt(rng.int(10)));
    case 'INT8':
      return Int8Array.from({ length: n }, () => rng.int(10));
    case 'UINT8':
      return Uint8Array.from({ length: n }, () => rng.int(256));
    case 'INT16':
      return Int16Array.from({ length: n }, () => rng.int(10));
    case 'UINT16':
      return Uint16Array.from({ length: n }, () => rng.int(10));
    case 'INT32':
      return Int32Array.from({ length: n }, () => rng.int(10));
    case 'UINT32':
      return Uint32Array.from({ length: n }, () => rng.int(10));
  }
}

/** The shape of one request's tensor: first dimension 1 (one row), other free ones `freeDim`. */
export function rowShape(spec: TensorSpec, freeDim: number): number[] {
  if (spec.unknownRank) return [1];
  return spec.shape.map((d, i) => (i === 0 ? 1 : d < 0 ? freeDim : d));
}

/** One row of synthetic tensors for every input of the signature. */
export function synthesizeInputs(signature: OnnxSignature, rng: Rng, freeDim = 8): Tensor[] {
  return signature.inputs.map((spec) => {
    if (!isDatatype(spec.datatype))
      throw new Error(`input "${spec.name}" is ${spec.datatype}: no request can carry it, so it cannot be profiled`);
    const shape = rowShape(spec, freeDim);
    return {
      name: spec.name,
      datatype: spec.datatype,
      shape,
      data: fill(
        spec.datatype,
        shape.reduce((a, b) => a * b, 1),
        rng,
      ),
    };
  });
}

/** An infer body with every input in the binary section and the named outputs asked for as binary. */
export function encodeInferBody(inputs: readonly Tensor[], outputs: readonly string[]): RequestBody {
  const chunks = inputs.map((t) => toBytes(t));
  const header = JSON.stringify({
    inputs: inputs.map((t, i) => ({
      name: t.name,
      datatype: t.datatype,
      shape: t.shape,
      parameters: { binary_data_size: chunks[i]!.length },
    })),
    outputs: outputs.map((name) => ({ name, parameters: { binary_data: true } })),
  });
  const json = Buffer.from(header);
  return {
    body: Buffer.concat([json, ...chunks]),
    headers: { [HEADER_LENGTH]: String(json.length), 'content-type': 'application/octet-stream' },
  };
}

const shapeText = (t: Tensor): string => `${t.name} ${t.datatype} [${t.shape.join(',')}]`;

/** The bodies a sweep cycles through. */
export function sampleRequests(signature: OnnxSignature, o: SampleOptions = {}): SampleRequests {
  const outputs = signature.outputs.filter((s) => isDatatype(s.datatype)).map((s) => s.name);
  if (outputs.length === 0) throw new Error('the model has no tensor output, so no request can be answered');
  const count = o.count ?? 16;
  if (o.records && o.records.length > 0) {
    const plan = planPredict(signature);
    if (!plan)
      throw new Error('sample records need a model with a Stratum preprocessor (stratum.preprocessor metadata)');
    const bodies = Array.from({ length: Math.min(count, o.records.length) }, (_, i) =>
      encodeInferBody([encodeRows(plan, { rows: [o.records![i]] })], outputs),
    );
    return {
      bodies,
      description: `${bodies.length} sample record${bodies.length === 1 ? '' : 's'} through the model's preprocessor → ${plan.input.name} ${plan.input.datatype} [1,${plan.preprocessor.featureNames.length}]`,
    };
  }
  const rng = createRng(o.seed ?? 1);
  const rows = Array.from({ length: count }, () => synthesizeInputs(signature, rng, o.freeDim ?? 8));
  return {
    bodies: rows.map((inputs) => encodeInferBody(inputs, outputs)),
    description: `synthetic: ${rows[0]!.map(shapeText).join(', ')} (floats random normal, integers 0-9)`,
  };
}

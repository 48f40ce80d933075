/**
 * The REST side of the Open Inference Protocol as pure functions: an infer body (JSON, or JSON
 * followed by binary tensor data when `Inference-Header-Content-Length` says where the JSON
 * ends) → a validated InferRequest; an InferResponse → JSON, with binary outputs appended
 * where the request asked for them. Every malformed request fails with a ServingError of code
 * `invalid_argument` naming the field, tensor and fault.
 */
import { flattenJson, fromBytes, fromJsonValues, jsonDataText, toBytes, isDatatype } from './tensor-data';
import {
  invalid,
  type InferRequest,
  type InferResponse,
  type Limits,
  type RequestedOutput,
  type TensorSpec,
} from './types';
import { readShape, resolveInputs, resolveOutputs, type WireInput } from './validate';

export const HEADER_LENGTH = 'inference-header-content-length';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One decoder for every request: decode() without `stream` keeps no state between calls. */
const UTF8 = new TextDecoder();

/** A JSON document → its value; errors say where the JSON broke and what JSON cannot carry. */
export function parseJson(bytes: Uint8Array, what = 'the request body'): unknown {
  const text = UTF8.decode(bytes);
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    const nonFinite = /(^|[^\w"])(NaN|-?Infinity)([^\w"]|$)/.test(text)
      ? '; JSON has no NaN or Infinity: send such values as binary data'
      : '';
    throw invalid(`malformed JSON in ${what}: ${detail}${nonFinite}`);
  }
}

function field<T>(obj: Json, key: string, where: string, check: (v: unknown) => v is T, want: string): T | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (!check(v)) throw invalid(`${where}: "${key}" must be ${want}, got ${JSON.stringify(v)}`);
  return v;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isSize = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Splits a body at the JSON header length the client declared (absent: all JSON). */
export function splitBody(
  body: Uint8Array,
  headerLength: string | undefined,
): { json: Uint8Array; binary: Uint8Array } {
  if (headerLength === undefined) return { json: body, binary: body.subarray(body.length) };
  const n = /^\d{1,15}$/.test(headerLength.trim()) ? Number(headerLength.trim()) : NaN;
  if (!Number.isSafeInteger(n))
    throw invalid(
      `Inference-Header-Content-Length must be a non-negative integer, got ${JSON.stringify(headerLength)}`,
    );
  if (n > body.length)
    throw invalid(`Inference-Header-Content-Length is ${n}, but the body has only ${body.length} bytes`);
  return { json: body.subarray(0, n), binary: body.subarray(n) };
}

/** Reads a REST infer body against the model's signature. */
export function decodeRestInfer(
  body: Uint8Array,
  headerLength: string | undefined,
  signature: { readonly inputs: readonly TensorSpec[]; readonly outputs: readonly TensorSpec[] },
  limits: Pick<Limits, 'allowNonFinite'>,
): InferRequest {
  const { json, binary } = splitBody(body, headerLength);
  const doc = parseJson(json, headerLength === undefined ? 'the request body' : 'the JSON header of the request');
  if (!isObject(doc))
    throw invalid(
      `the request must be a JSON object with "inputs", got ${Array.isArray(doc) ? 'an array' : typeof doc}`,
    );
  const id = field(doc, 'id', 'the request', isString, 'a string') ?? '';
  const params = field(doc, 'parameters', 'the request', isObject, 'an object') ?? {};
  const binaryOut = field(params, 'binary_data_output', 'the request parameters', isBool, 'true or false') ?? false;
  const rawInputs = doc.inputs;
  if (!Array.isArray(rawInputs))
    throw invalid(`the request needs "inputs", a list of tensors, got ${JSON.stringify(rawInputs) ?? 'nothing'}`);

  let offset = 0;
  const wire = rawInputs.map((raw: unknown, k): WireInput => {
    if (!isObject(raw)) throw invalid(`inputs[${k}] must be an object with name, datatype, shape and data`);
    const name = field(raw, 'name', `inputs[${k}]`, isString, 'a string');
    if (name === undefined) throw invalid(`inputs[${k}] has no "name"`);
    const where = `input "${name}"`;
    const datatype = field(raw, 'datatype', where, isString, 'a string');
    if (datatype === undefined) throw invalid(`${where} has no "datatype"`);
    const shape = readShape(raw.shape, where);
    const p = field(raw, 'parameters', where, isObject, 'an object') ?? {};
    const size = field(p, 'binary_data_size', where, isSize, 'a non-negative integer');
    if (size === undefined) {
      if (raw.data === undefined) throw invalid(`${where} has neither "data" nor parameters.binary_data_size`);
      return {
        name,
        datatype,
        shape,
        read: (dt, count, at) => {
          const values = flattenJson(raw.data, shape, at);
          if (values.length !== count)
            throw invalid(`${at}: shape [${shape.join(',')}] needs ${count} elements, "data" has ${values.length}`);
          return fromJsonValues(dt, values, at);
        },
      };
    }
    if (raw.data !== undefined) throw invalid(`${where} has both "data" and parameters.binary_data_size; send one`);
    if (headerLength === undefined)
      throw invalid(`${where} sets binary_data_size, but the request has no Inference-Header-Content-Length header`);
    if (offset + size > binary.length) {
      throw invalid(
        `${where} declares binary_data_size ${size}, but only ${binary.length - offset} bytes of binary data remain after the earlier inputs`,
      );
    }
    const bytes = binary.subarray(offset, offset + size);
    offset += size;
    return { name, datatype, shape, read: (dt, count, at) => fromBytes(dt, bytes, count, at) };
  });
  if (offset !== binary.length) {
    throw invalid(
      `the body carries ${binary.length} bytes of binary data after the JSON header, but the inputs declare ${offset}`,
    );
  }
  const inputs = resolveInputs(wire, signature.inputs, limits);
  const outputs = resolveOutputs(readRequestedOutputs(doc.outputs, binaryOut), signature.outputs, binaryOut);
  return { id, inputs, outputs };
}

function readRequestedOutputs(raw: unknown, binaryByDefault: boolean): RequestedOutput[] | undefined {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw)) throw invalid(`"outputs" must be a list of {"name": ...}, got ${JSON.stringify(raw)}`);
  return raw.map((o: unknown, k) => {
    if (!isObject(o)) throw invalid(`outputs[${k}] must be an object with a "name"`);
    const name = field(o, 'name', `outputs[${k}]`, isString, 'a string');
    if (name === undefined) throw invalid(`outputs[${k}] has no "name"`);
    const p = field(o, 'parameters', `output "${name}"`, isObject, 'an object') ?? {};
    if (p.classification !== undefined)
      throw invalid(`output "${name}": the classification extension is not supported; ask for the tensor itself`);
    return { name, binary: field(p, 'binary_data', `output "${name}"`, isBool, 'true or false') ?? binaryByDefault };
  });
}

/**
 * An infer response → body bytes. With any binary output the JSON comes first and
 * `headerLength` (for Inference-Header-Content-Length) says where it ends.
 */
export function encodeRestInfer(
  resp: InferResponse,
  requested: readonly RequestedOutput[],
): { body: Buffer; headerLength: number | null } {
  const binary = new Set(requested.filter((o) => o.binary).map((o) => o.name));
  const chunks: Uint8Array[] = [];
  const outputs = resp.outputs.map((t) => {
    const head = `{"name":${JSON.stringify(t.name)},"datatype":"${t.datatype}","shape":[${t.shape.join(',')}]`;
    if (!binary.has(t.name)) return `${head},"data":${jsonDataText(t)}}`;
    const bytes = toBytes(t);
    chunks.push(bytes);
    return `${head},"parameters":{"binary_data_size":${bytes.length}}}`;
  });
  const id = resp.id ? `,"id":${JSON.stringify(resp.id)}` : '';
  const json = Buffer.from(
    `{"model_name":${JSON.stringify(resp.modelName)},"model_version":${JSON.stringify(resp.modelVersion)}${id},"outputs":[${outputs.join(',')}]}`,
  );
  if (chunks.length === 0) return { body: json, headerLength: null };
  return { body: Buffer.concat([json, ...chunks]), headerLength: json.length };
}

/** Model metadata as GET /v2/models/{name} answers it. */
export function modelMetadataJson(
  name: string,
  version: string,
  inputs: readonly TensorSpec[],
  outputs: readonly TensorSpec[],
): Json {
  const spec = (s: TensorSpec) => ({ name: s.name, datatype: s.datatype, shape: s.shape });
  return {
    name,
    versions: [version],
    platform: 'onnxruntime_onnx',
    inputs: inputs.map(spec),
    outputs: outputs.filter((o) => isDatatype(o.datatype)).map(spec),
  };
}

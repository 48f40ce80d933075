/**
 * A small client of a replica's REST side, for the CLI (`stratum predict`) and scripts:
 * raw records to /predict, JSON tensors to /infer. Errors carry the replica's status and message.
 */
import type { Datatype, PredictResponse } from './types';

export class ReplicaClientError extends Error {
  override readonly name = 'ReplicaClientError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ClientOptions {
  /** Ask a specific version (the route gains /versions/{version}). */
  readonly version?: string;
  readonly signal?: AbortSignal;
  /** A deployment's API key, sent as `Authorization: Bearer` (gateways of keyed deployments). */
  readonly apiKey?: string;
}

type Numeric = ArrayLike<number> | ArrayLike<bigint>;

export interface TensorInput {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
  /** Row-major elements (flat or nested); BigInt64Array elements are sent as JSON numbers. */
  readonly data: readonly unknown[] | Numeric;
}

export interface TensorOutput {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: number[];
  readonly data: (number | string | boolean | null)[];
}

export interface InferResult {
  readonly model_name: string;
  readonly model_version: string;
  readonly id?: string;
  readonly outputs: TensorOutput[];
}

function modelUrl(url: string, name: string, version: string | undefined, action: string): string {
  const v = version === undefined ? '' : `/versions/${encodeURIComponent(version)}`;
  return `${url.replace(/\/+$/, '')}/v2/models/${encodeURIComponent(name)}${v}/${action}`;
}

async function post<T>(target: string, body: unknown, signal: AbortSignal | undefined, apiKey?: string): Promise<T> {
  const res = await fetch(target, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const error = (parsed as { error?: unknown } | undefined)?.error;
    throw new ReplicaClientError(
      res.status,
      `${res.status} from ${target}: ${typeof error === 'string' ? error : text.slice(0, 200)}`,
    );
  }
  if (parsed === undefined) throw new ReplicaClientError(res.status, `${target} answered something that is not JSON`);
  return parsed as T;
}

/** Raw records → predictions, with the model's own preprocessing (Stratum-trained models). */
export function predictRows(
  url: string,
  name: string,
  rows: readonly Record<string, unknown>[],
  options: ClientOptions = {},
): Promise<PredictResponse> {
  return post<PredictResponse>(
    modelUrl(url, name, options.version, 'predict'),
    { rows },
    options.signal,
    options.apiKey,
  );
}

/** JSON tensors → the model's outputs (all of them, or those named in `outputs`). */
export function inferTensors(
  url: string,
  name: string,
  inputs: readonly TensorInput[],
  options: ClientOptions & { readonly outputs?: readonly string[]; readonly id?: string } = {},
): Promise<InferResult> {
  const body = {
    ...(options.id ? { id: options.id } : {}),
    inputs: inputs.map((t) => ({
      name: t.name,
      datatype: t.datatype,
      shape: [...t.shape],
      data: Array.isArray(t.data)
        ? t.data
        : Array.from(t.data as ArrayLike<number | bigint>, (v) => (typeof v === 'bigint' ? Number(v) : v)),
    })),
    ...(options.outputs ? { outputs: options.outputs.map((o) => ({ name: o })) } : {}),
  };
  return post<InferResult>(modelUrl(url, name, options.version, 'infer'), body, options.signal, options.apiKey);
}

/**
 * The serving runtime's vocabulary, shared by the codec, the batcher, the REST and gRPC
 * front ends and the replica. Wire types of the gRPC side come from @stratum/proto; these
 * are the decoded, validated forms every layer behind the codec works with.
 */
import type { TensorSpec } from '../onnx/signature';

export type { TensorSpec };

/** Open Inference Protocol datatypes onnxruntime can run. */
export type Datatype =
  | 'BOOL'
  | 'UINT8'
  | 'UINT16'
  | 'UINT32'
  | 'UINT64'
  | 'INT8'
  | 'INT16'
  | 'INT32'
  | 'INT64'
  | 'FP16'
  | 'FP32'
  | 'FP64'
  | 'BYTES';

/** Row-major elements. BOOL is one byte (0/1) per element, FP16 the raw half bits, BYTES UTF-8 text. */
export type TensorData =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigUint64Array
  | BigInt64Array
  | Float32Array
  | Float64Array
  | string[];

export interface Tensor {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

export interface RequestedOutput {
  readonly name: string;
  /** REST only: answer this output in the binary section (gRPC always answers raw bytes). */
  readonly binary: boolean;
}

/** A decoded, validated inference request. */
export interface InferRequest {
  readonly id: string;
  readonly inputs: Tensor[];
  readonly outputs: RequestedOutput[];
}

export interface InferResponse {
  readonly modelName: string;
  readonly modelVersion: string;
  readonly id: string;
  readonly outputs: Tensor[];
}

/** The answer of `POST /v2/models/{name}/predict`, as it goes on the wire. */
export interface PredictResponse {
  readonly model_name: string;
  readonly model_version: string;
  /** Class labels for classifiers, numbers for regressors. */
  readonly predictions: (string | number)[];
  /** Classifiers with a probability output: one row per record, columns in `labels` order. */
  readonly probabilities?: number[][];
  readonly labels?: string[];
}

export type ReplicaState = 'LOADING' | 'READY' | 'UNAVAILABLE' | 'DRAINING';

export type ServingErrorCode = 'invalid_argument' | 'not_found' | 'too_large' | 'unavailable' | 'internal';

/** The one error type of the serving path; the front ends map `code` to a status. */
export class ServingError extends Error {
  override readonly name = 'ServingError';
  constructor(
    readonly code: ServingErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const invalid = (message: string): ServingError => new ServingError('invalid_argument', message);

export const HTTP_STATUS: Readonly<Record<ServingErrorCode, number>> = {
  invalid_argument: 400,
  not_found: 404,
  too_large: 413,
  unavailable: 503,
  internal: 500,
};

export interface Limits {
  /** Largest REST body and gRPC message, in bytes. */
  readonly maxBodyBytes: number;
  /** Requests waiting for the batcher beyond this are refused (503 / UNAVAILABLE). */
  readonly maxQueueSize: number;
  /** Accept NaN and ±Infinity in floating-point inputs (binary or gRPC; JSON cannot carry them). */
  readonly allowNonFinite: boolean;
}

export const DEFAULT_LIMITS: Limits = { maxBodyBytes: 8 << 20, maxQueueSize: 1024, allowNonFinite: false };

export interface BatchingOptions {
  /** Most rows in one run; 1 turns batching off. */
  readonly maxBatchSize: number;
  /**
   * The longest the oldest queued request may be held back for others to join its batch; an
   * upper bound, used only right after a full batch (see batcher.ts). 0: never hold back.
   */
  readonly maxQueueDelayMs: number;
}

export const NO_BATCHING: BatchingOptions = { maxBatchSize: 1, maxQueueDelayMs: 0 };

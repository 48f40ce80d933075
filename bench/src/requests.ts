/**
 * One-row requests for a model, the same rows in every form the benchmarks send them: JSON
 * Open Inference Protocol bodies (what curl, tritonclient's HTTP client and KServe's own
 * examples send), gRPC ModelInfer messages with raw contents, and tensors for an in-process
 * onnxruntime session.
 */
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { inference } from '@stratum/proto';
import { readOnnxSignature, type OnnxSignature } from '@stratum/server/dist/onnx/signature';
import type { RequestBody } from '@stratum/server/dist/profiler/inputs';
import { synthesizeInputs } from '@stratum/server/dist/profiler/inputs';
import type { Task } from '@stratum/server/dist/profiler/loadgen';
import type { ModelRuntime } from '@stratum/server/dist/serving/model-runtime';
import type { Tensor } from '@stratum/server/dist/serving/types';
import { createRng } from '@stratum/server/dist/util/random';
import { readFileSync } from 'node:fs';

export interface SampleRows {
  readonly signature: OnnxSignature;
  /** Each entry: one row for every input of the model. */
  readonly rows: readonly Tensor[][];
  readonly outputs: readonly string[];
  readonly json: readonly RequestBody[];
  /** e.g. "features FP32 [1,10]". */
  readonly description: string;
}

export function sampleRows(modelPath: string, count = 16, seed = 1): SampleRows {
  const signature = readOnnxSignature(readFileSync(modelPath));
  const rng = createRng(seed);
  const rows = Array.from({ length: count }, () => synthesizeInputs(signature, rng));
  const json = rows.map((inputs) => ({
    body: Buffer.from(
      JSON.stringify({
        inputs: inputs.map((t) => ({
          name: t.name,
          datatype: t.datatype,
          shape: t.shape,
          data: Array.from(t.data as ArrayLike<number>),
        })),
      }),
    ),
    headers: { 'content-type': 'application/json' },
  }));
  return {
    signature,
    rows,
    outputs: signature.outputs.map((o) => o.name),
    json,
    description: rows[0]!.map((t) => `${t.name} ${t.datatype} [${t.shape.join(',')}]`).join(', '),
  };
}

/** ModelInfer over gRPC (one HTTP/2 connection), the tensors as raw contents. */
export function grpcTask(url: string, model: string, sample: SampleRows): Task {
  const client = createClient(inference.GRPCInferenceService, createGrpcTransport({ baseUrl: url }));
  const requests = sample.rows.map((inputs) => ({
    modelName: model,
    inputs: inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape.map(BigInt) })),
    rawInputContents: inputs.map((t) => {
      const v = t.data as ArrayBufferView;
      return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    }),
  }));
  let i = 0;
  return () => client.modelInfer(requests[i++ % requests.length]!);
}

/** session.run on this process's event loop, one row per run: the ceiling with no transport at all. */
export function inProcessTask(runtime: ModelRuntime, sample: SampleRows): Task {
  let i = 0;
  return () => runtime.run(sample.rows[i++ % sample.rows.length]!, sample.outputs);
}

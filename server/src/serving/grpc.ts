/**
 * The gRPC front end: `inference.GRPCInferenceService` as a ConnectRPC service, so grpc-js,
 * grpcio and tritonclient clients reach the same service, codec and batcher as REST. Errors
 * leave only as ConnectError with the code the ServingError maps to; a metrics interceptor
 * counts every call.
 */
import { Code, ConnectError, type Interceptor, type ServiceImpl } from '@connectrpc/connect';
import { inference } from '@stratum/proto';

import { decodeGrpcInfer, encodeGrpcInfer } from './grpc-codec';
import type { ReplicaMetrics } from './metrics';
import { modelMetadataJson } from './oip-codec';
import type { ReplicaService } from './service';
import { ServingError, type Limits, type ServingErrorCode, type TensorSpec } from './types';

const GRPC_CODE: Readonly<Record<ServingErrorCode, Code>> = {
  invalid_argument: Code.InvalidArgument,
  not_found: Code.NotFound,
  too_large: Code.ResourceExhausted,
  unavailable: Code.Unavailable,
  internal: Code.Internal,
};

export function toConnectError(e: unknown): ConnectError {
  if (e instanceof ServingError) return new ConnectError(e.message, GRPC_CODE[e.code]);
  return ConnectError.from(e, Code.Internal);
}

async function guard<T>(run: () => T | Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    throw toConnectError(e);
  }
}

export function grpcRoutes(o: {
  readonly service: ReplicaService;
  readonly limits: Pick<Limits, 'allowNonFinite'>;
}): ServiceImpl<typeof inference.GRPCInferenceService> {
  const { service, limits } = o;
  const meta = (s: { name: string; datatype: string; shape: number[] }) => ({ ...s, shape: s.shape.map(BigInt) });
  return {
    serverLive: () => ({ live: true }),
    serverReady: () => ({ ready: service.ready() }),
    modelReady: (req) => ({ ready: service.serves(req.name, req.version) && service.ready() }),
    serverMetadata: () => service.serverMetadata(),
    modelMetadata: (req) =>
      guard(() => {
        const { signature } = service.model(req.name, req.version);
        const m = modelMetadataJson(service.name, service.version, signature.inputs, signature.outputs);
        return { ...m, inputs: (m.inputs as TensorSpec[]).map(meta), outputs: (m.outputs as TensorSpec[]).map(meta) };
      }),
    modelInfer: (req) =>
      guard(async () => {
        const model = service.model(req.modelName, req.modelVersion);
        const request = decodeGrpcInfer(req, model.signature, limits);
        return encodeGrpcInfer(await service.infer(model, request));
      }),
  };
}

/** Counts each call by method and code, and times it. */
export function metricsInterceptor(metrics: ReplicaMetrics): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    const route = `/${req.service.typeName}/${req.method.name}`;
    const seconds = () => (performance.now() - started) / 1000;
    try {
      const res = await next(req);
      metrics.request('grpc', route, 'OK', seconds());
      return res;
    } catch (e) {
      metrics.request('grpc', route, Code[ConnectError.from(e).code], seconds());
      throw e;
    }
  };
}

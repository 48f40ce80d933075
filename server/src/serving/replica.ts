/**
 * A model replica: one ONNX model version behind the Open Inference Protocol, REST (HTTP/1.1)
 * and gRPC (h2c) on one port. It listens first (live, LOADING), loads the session, then is
 * READY; close() drains the batcher before the socket closes. Run it in its own process
 * (replica-main.ts): onnxruntime's run() holds the event loop while it computes.
 */
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { inference } from '@stratum/proto';

import { createDualServer, type DualHandler } from '../api/listener';
import type { OnnxSignature } from '../onnx/signature';
import { createLogger, type Logger } from '../util/log';
import { DynamicBatcher } from './batcher';
import { grpcRoutes, metricsInterceptor } from './grpc';
import { ModelRuntime, type ModelRunner } from './model-runtime';
import { ReplicaMetrics } from './metrics';
import { planPredict } from './predict';
import { restHandler } from './rest';
import { ReplicaService } from './service';
import { DEFAULT_LIMITS, type BatchingOptions, type Limits, type Tensor } from './types';

export const DEFAULT_BATCHING: BatchingOptions = { maxBatchSize: 32, maxQueueDelayMs: 2 };

export interface ReplicaOptions {
  readonly modelPath: string;
  readonly name: string;
  readonly version: string;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** 0 or absent picks a free port. */
  readonly port?: number;
  /** Default DEFAULT_BATCHING; `{ maxBatchSize: 1, maxQueueDelayMs: 0 }` turns batching off. */
  readonly batching?: BatchingOptions;
  readonly limits?: Partial<Limits>;
  readonly intraOpNumThreads?: number;
  /** How long close() waits for answers still being written before it cuts connections. Default 10 s. */
  readonly drainTimeoutMs?: number;
  readonly log?: Logger;
}

export interface Replica {
  readonly url: string;
  readonly service: ReplicaService;
  /** The batching in force: as asked, or off when the model's tensors do not follow a batch dimension. */
  readonly batching: BatchingOptions;
  /** Requests accepted and not yet answered: what a gateway or autoscaler weighs a replica by. */
  inflightCount(): number;
  close(): Promise<void>;
}

/**
 * Batching merges requests along the first dimension, so every input and tensor output must
 * have a variable first dimension; otherwise the replica runs each request alone.
 */
export function batchingFor(
  asked: BatchingOptions,
  signature: OnnxSignature,
): { batching: BatchingOptions; reason?: string } {
  if (asked.maxBatchSize <= 1) return { batching: asked };
  const fixed = [...signature.inputs, ...signature.outputs].find(
    (t) => !t.unknownRank && t.shape.length > 0 && t.shape[0] !== -1,
  );
  const scalar = signature.inputs.find((t) => !t.unknownRank && t.shape.length === 0);
  const odd = fixed ?? scalar;
  if (!odd) return { batching: asked };
  return {
    batching: { maxBatchSize: 1, maxQueueDelayMs: 0 },
    reason: `tensor "${odd.name}" has shape [${odd.shape.join(',')}], without a variable first dimension to batch along`,
  };
}

function timed(runner: ModelRunner, metrics: ReplicaMetrics): ModelRunner {
  return {
    async run(inputs: readonly Tensor[], outputs: readonly string[]) {
      const started = performance.now();
      try {
        return await runner.run(inputs, outputs);
      } finally {
        metrics.run((performance.now() - started) / 1000);
      }
    },
  };
}

/** Counts HTTP exchanges (REST calls and RPCs) until their response closes, so close() can wait for them. */
function exchangeTracker(handler: DualHandler): { handler: DualHandler; idle(timeoutMs: number): Promise<void> } {
  let active = 0;
  const waiters: (() => void)[] = [];
  return {
    handler(req, res) {
      active++;
      res.once('close', () => {
        if (--active === 0) for (const w of waiters.splice(0)) w();
      });
      handler(req, res);
    },
    idle(timeoutMs) {
      if (active === 0) return Promise.resolve();
      return new Promise((resolve) => {
        const timer = setTimeout(resolve, timeoutMs).unref();
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}

export async function startReplica(o: ReplicaOptions): Promise<Replica> {
  const log = o.log ?? createLogger('stratum-replica');
  const limits: Limits = { ...DEFAULT_LIMITS, ...o.limits };
  const service = new ReplicaService(o.name, o.version);
  let batcher: DynamicBatcher | null = null;
  const metrics = new ReplicaMetrics({ name: o.name, version: o.version }, () => batcher?.queueDepth() ?? 0);
  const handler = connectNodeAdapter({
    readMaxBytes: limits.maxBodyBytes,
    interceptors: [metricsInterceptor(metrics)],
    routes(router) {
      router.service(inference.GRPCInferenceService, grpcRoutes({ service, limits }));
    },
    fallback: restHandler({ service, metrics, limits, log }),
  });
  const exchanges = exchangeTracker(handler as DualHandler);
  const dual = createDualServer(exchanges.handler);
  const host = o.host ?? '127.0.0.1';
  const { port } = await dual.listen(o.port ?? 0, host);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let runtime: ModelRuntime;
  let batching: BatchingOptions;
  let running: DynamicBatcher;
  try {
    runtime = await ModelRuntime.load(
      o.modelPath,
      o.intraOpNumThreads ? { intraOpNumThreads: o.intraOpNumThreads } : {},
    );
    const predict = planPredict(runtime.signature);
    const chosen = batchingFor(o.batching ?? DEFAULT_BATCHING, runtime.signature);
    if (chosen.reason) log.warn({ reason: chosen.reason }, 'dynamic batching is off for this model');
    batching = chosen.batching;
    batcher = running = new DynamicBatcher(
      timed(runtime, metrics),
      { ...batching, maxQueueSize: limits.maxQueueSize },
      {
        onBatch: (rows, requests) => metrics.batch(rows, requests),
      },
    );
    service.attach({ signature: runtime.signature, batcher: running, predict });
  } catch (e) {
    service.setState('UNAVAILABLE', e instanceof Error ? e.message : String(e));
    await dual.close();
    throw e;
  }
  log.info({ url, model: o.name, version: o.version, batching }, 'replica ready');

  let closing: Promise<void> | null = null;
  return {
    url,
    service,
    batching,
    inflightCount: () => running.inflightCount(),
    close() {
      closing ??= (async () => {
        service.setState('DRAINING', 'the replica is shutting down');
        await running.stop();
        await exchanges.idle(o.drainTimeoutMs ?? 10000);
        await dual.close();
        await runtime.close();
        service.setState('UNAVAILABLE', 'the replica is closed');
      })();
      return closing;
    },
  };
}

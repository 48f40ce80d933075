/**
 * What every renderer of a plan agrees on: the plan's shape (proto DeploymentPlan fits it), the
 * replica's command line, its batching, probes and routes, and names a cluster accepts.
 */
import { RUNTIME_BASE_MB } from '../checks';
import type { PlanCheckResult, QosAsk, ResourceAmounts } from '../types';
import { DEFAULT_TARGET_CONCURRENCY } from '../types';

/** A plan as renderers read it; the proto `DeploymentPlan` message is one. */
export interface RenderablePlan {
  readonly name: string;
  readonly modelName: string;
  readonly modelVersion: number;
  readonly modelDigest: string;
  readonly tier: string;
  readonly fallbackTiers: readonly string[];
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly initialReplicas: number;
  readonly targetConcurrency: number;
  readonly maxBatchSize: number;
  readonly maxQueueDelayMs: number;
  readonly resources?: { readonly cpus: number; readonly memoryMb: number | bigint; readonly gpus: number } | undefined;
  readonly qos?: QosAsk | undefined;
  readonly inputs: readonly TensorLike[];
  readonly outputs: readonly TensorLike[];
  readonly checks: readonly PlanCheckResult[];
  readonly feasible: boolean;
}

export interface TensorLike {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly (number | bigint)[];
}

/** replica-main's default batch size (serving/replica DEFAULT_BATCHING), without loading onnxruntime here. */
export const DEFAULT_MAX_BATCH_SIZE = 32;

/** The port a replica listens on in a container: REST and gRPC (h2c) share it. */
export const REPLICA_PORT = 8080;
export const READY_PATH = '/v2/health/ready';
export const LIVE_PATH = '/v2/health/live';
export const PROBES = {
  readiness: { path: READY_PATH, periodSeconds: 2, timeoutSeconds: 1, failureThreshold: 2 },
  liveness: { path: LIVE_PATH, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
} as const;

export function resourcesOf(plan: RenderablePlan): ResourceAmounts {
  const r = plan.resources;
  return r
    ? { cpus: r.cpus, memoryMb: Number(r.memoryMb), gpus: r.gpus }
    : { cpus: 1, memoryMb: RUNTIME_BASE_MB, gpus: 0 };
}

/** Batching as replica-main takes it: whole milliseconds, and a batch size of at least 1 (0: the default). */
export function batchingOf(plan: RenderablePlan): { maxBatchSize: number; maxQueueDelayMs: number } {
  return {
    maxBatchSize: plan.maxBatchSize > 0 ? plan.maxBatchSize : DEFAULT_MAX_BATCH_SIZE,
    maxQueueDelayMs: Math.max(0, Math.round(plan.maxQueueDelayMs)),
  };
}

export const targetConcurrencyOf = (plan: RenderablePlan): number =>
  plan.targetConcurrency > 0 ? plan.targetConcurrency : DEFAULT_TARGET_CONCURRENCY;

/** `name:version`, as `stratum replica --model` and the registry take it. */
export const modelRef = (plan: RenderablePlan): string => `${plan.modelName}:${plan.modelVersion}`;

/**
 * `stratum replica` arguments. The replica serves under the deployment's name (and the model's
 * version), so the gateway forwards `/v2/models/{deployment}/...` and gRPC calls unchanged and
 * answers name the deployment the client called.
 */
export function replicaArgs(plan: RenderablePlan, o: { host: string; port: number }): string[] {
  const b = batchingOf(plan);
  return [
    '--model',
    modelRef(plan),
    '--name',
    plan.name,
    '--version',
    String(plan.modelVersion),
    '--host',
    o.host,
    '--port',
    String(o.port),
    '--max-batch-size',
    String(b.maxBatchSize),
    '--max-queue-delay-ms',
    String(b.maxQueueDelayMs),
  ];
}

/** What clients call on the gateway for this deployment. */
export function routesOf(plan: RenderablePlan): { rest: string[]; grpc: string[] } {
  const m = `/v2/models/${encodeURIComponent(plan.name)}`;
  return {
    rest: [`POST ${m}/infer`, `POST ${m}/predict`, `GET ${m}`, `GET ${m}/ready`],
    grpc: ['ModelInfer', 'ModelMetadata', 'ModelReady'].map(
      (rpc) => `inference.GRPCInferenceService/${rpc} model_name="${plan.name}"`,
    ),
  };
}

/** Only the QoS budgets that are set. */
export function qosOf(plan: RenderablePlan): Partial<QosAsk> {
  const q = plan.qos;
  if (!q) return {};
  const keys = ['p50Ms', 'p95Ms', 'p99Ms', 'rps', 'maxCostPerHour'] as const;
  return Object.fromEntries(keys.filter((k) => q[k] > 0).map((k) => [k, q[k]]));
}

export const tensors = (ts: readonly TensorLike[]): { name: string; datatype: string; shape: number[] }[] =>
  ts.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape.map(Number) }));

/**
 * A name Kubernetes accepts for a Deployment and a Service (RFC 1035 label): lowercase letters,
 * digits and '-', starting with a letter, at most 63 characters.
 */
export function dnsLabel(name: string): string {
  let s = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (!/^[a-z]/.test(s)) s = `d-${s}`.replace(/-+$/, '');
  return s.slice(0, 63).replace(/-+$/, '');
}

/** A label value Kubernetes accepts: at most 63 of [A-Za-z0-9-_.], alphanumeric at both ends. */
export function labelValue(value: string): string {
  return value
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
}

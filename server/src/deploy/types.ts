/**
 * The deploy package's vocabulary: what the plan checks read, what they answer, and the
 * resources a replica asks for. Wire types (DeploymentPlan, RoutingTable, DeploymentLoad) come
 * from @stratum/proto; these are the plain inputs the pure policies take, so the control plane
 * maps its records into them once and the policies never see bigint or $typeName.
 */
import type { ResourceAmounts } from '../store/workers';

export type { ResourceAmounts };

/** One check of a plan, as proto `PlanCheck` carries it. */
export interface PlanCheckResult {
  readonly name: string;
  readonly ok: boolean;
  /** What was measured or compared, e.g. "model needs ~180 MiB per replica; largest edge worker offers 128 MiB". */
  readonly message: string;
}

/** An input or output of the model; proto `TensorSpec` and the ONNX signature's both fit. */
export interface SpecLike {
  readonly name: string;
  readonly datatype: string;
}

export interface PlanModel {
  readonly name: string;
  readonly version: number;
  readonly sizeBytes: number;
  readonly inputs: readonly SpecLike[];
  readonly outputs: readonly SpecLike[];
  readonly opset: number;
}

export interface PlanWorker {
  readonly id: string;
  readonly total: ResourceAmounts;
  readonly used: ResourceAmounts;
  /** onnxruntime execution providers the worker offers: "cpu", "cuda", "tensorrt", ... ("cpu" is implied). */
  readonly executionProviders: readonly string[];
  /** Joined and heartbeating now. Default true. */
  readonly ready?: boolean;
}

export interface PlanTier {
  readonly name: string;
  readonly workers: readonly PlanWorker[];
}

export interface QosAsk {
  /** Latency budgets in milliseconds; 0 means none. */
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  /** Requests per second; 0 means none. */
  readonly rps: number;
  readonly maxCostPerHour: number;
}

export interface PlanRequest {
  readonly minReplicas: number;
  /** Already resolved: the caller turns DeployRequest's 0 into DEFAULT_MAX_REPLICAS. */
  readonly maxReplicas: number;
  readonly qos?: QosAsk;
  /** The execution provider the replicas run on. Default "cpu". */
  readonly executionProvider?: string;
}

/** The profiler's verdict on a QoS for this model on this tier. */
export type QosCheck = () => { readonly ok: boolean; readonly message: string };

export interface PlanInput {
  readonly model: PlanModel;
  readonly tier: PlanTier;
  readonly request: PlanRequest;
  /** Per replica; default replicaResources(model, executionProvider). */
  readonly replicaResources?: ResourceAmounts;
  /** Provided once the profiler has measured the model on the tier. */
  readonly qosCheck?: QosCheck;
}

export const DEFAULT_MAX_REPLICAS = 4;
export const DEFAULT_TARGET_CONCURRENCY = 8;

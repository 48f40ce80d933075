/**
 * Deployments' data plane and pure policies, for the control plane, the worker agent and the CLI:
 * plan checks, the autoscaling policy, infrastructure-as-code renderers, the gateway and the
 * warm pool of replica processes. Nothing here loads onnxruntime: replicas run in their own
 * processes.
 */
export {
  checkPlan,
  feasible,
  replicaResources,
  replicasThatFit,
  GPU_PROVIDERS,
  MODEL_FACTOR,
  RUNTIME_BASE_MB,
} from './checks';
export {
  decide,
  initialAutoscalerState,
  recommend,
  DEFAULT_AUTOSCALING,
  type AutoscalerConfig,
  type AutoscalerEventKind,
  type AutoscalerState,
  type Decision,
  type Load,
} from './autoscaler';
export {
  renderIac,
  replicaArgs,
  renderKubernetes,
  renderLocalPlan,
  KUBERNETES_FILE,
  LOCAL_PLAN_FILE,
  type KubernetesOptions,
  type RenderablePlan,
} from './iac';
export { startGateway, type Gateway, type GatewayOptions } from './gateway';
export { WarmPool, WARM_REPLICA_MAIN, type PooledReplica, type WarmPoolOptions } from './warm-pool';
export * from './types';

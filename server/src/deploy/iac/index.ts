/** Infrastructure-as-code for a plan, by the file names proto `DeploymentPlan.iac` uses. */
import type { RenderablePlan } from './common';
import { renderKubernetes, type KubernetesOptions } from './kubernetes';
import { renderLocalPlan } from './local';

export {
  dnsLabel,
  labelValue,
  replicaArgs,
  DEFAULT_MAX_BATCH_SIZE,
  REPLICA_PORT,
  type RenderablePlan,
  type TensorLike,
} from './common';
export {
  cpuQuantity,
  renderKubernetes,
  kubernetesObjects,
  GRPC_SERVICE_PORT,
  TIER_LABEL,
  type KubernetesOptions,
} from './kubernetes';
export { renderLocalPlan, localPlan } from './local';

export const LOCAL_PLAN_FILE = 'local-plan.json';
export const KUBERNETES_FILE = 'kubernetes.yaml';

export function renderIac(plan: RenderablePlan, kubernetes: KubernetesOptions = {}): Record<string, string> {
  return { [LOCAL_PLAN_FILE]: renderLocalPlan(plan), [KUBERNETES_FILE]: renderKubernetes(plan, kubernetes) };
}

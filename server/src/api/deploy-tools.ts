/**
 * Wires the deploy package's pure policies (plan checks, replica sizing, autoscaling,
 * infrastructure-as-code) to the control plane's records: registry models, workers, gateway load.
 */
import type { DeploymentPlan, Model } from '@stratum/proto';

import {
  DEFAULT_AUTOSCALING,
  decide,
  initialAutoscalerState,
  type AutoscalerConfig,
  type AutoscalerState,
} from '../deploy/autoscaler';
import { checkPlan, replicaResources } from '../deploy/checks';
import { renderKubernetes } from '../deploy/iac/kubernetes';
import { renderLocalPlan } from '../deploy/iac/local';
import type { PlanModel } from '../deploy/types';
import type { AutoscalePolicy } from '../scheduler/replicas';
import type { PlanTools } from './deployments';

/** Load older than this (a gateway that stopped reporting) counts as no load. */
const STALE_LOAD_MS = 5000;

function planModel(m: Model): PlanModel {
  return {
    name: m.name,
    version: m.version,
    sizeBytes: Number(m.sizeBytes),
    inputs: m.inputs,
    outputs: m.outputs,
    opset: m.opset,
  };
}

export function planTools(qosCheck?: PlanTools['qosCheck']): PlanTools {
  return {
    replicaResources: (model) => replicaResources(planModel(model)),
    checks: ({ model, tier, workers, minReplicas, maxReplicas, qos, resources }) =>
      checkPlan({
        model: planModel(model),
        tier: {
          name: tier,
          workers: workers.map((w) => ({
            id: w.worker.id,
            total: w.worker.total,
            used: w.used,
            executionProviders: (w.worker.versions.executionProviders ?? 'cpu').split(','),
            ready: w.live,
          })),
        },
        request: { minReplicas, maxReplicas, qos: qos ? { ...qos } : undefined },
        replicaResources: resources,
        qosCheck: qosCheck ? () => qosCheck(model, tier, qos) : undefined,
      }),
    render: (plan: DeploymentPlan) => ({
      'local-plan.json': renderLocalPlan(plan),
      'kubernetes.yaml': renderKubernetes(plan),
    }),
  };
}

export function autoscalePolicy(overrides: Partial<typeof DEFAULT_AUTOSCALING> = {}): AutoscalePolicy {
  return {
    decide(plan, state, load, now) {
      const config: AutoscalerConfig = {
        ...DEFAULT_AUTOSCALING,
        ...overrides,
        minReplicas: plan.minReplicas,
        maxReplicas: plan.maxReplicas,
        targetConcurrency: plan.targetConcurrency,
        targetP95Ms: plan.qos?.p95Ms || undefined,
      };
      const current = (state as AutoscalerState | null) ?? initialAutoscalerState(plan.initialReplicas, now);
      const fresh = load && now - load.at < STALE_LOAD_MS;
      return decide(
        config,
        current,
        fresh
          ? { inflight: load.inflight, rps: load.requestsPerSecond, p95Ms: load.p95Ms, buffered: load.buffered }
          : { inflight: 0, rps: 0, p95Ms: 0, buffered: 0 },
        now,
      );
    },
  };
}

/**
 * `local-plan.json`: what Stratum itself runs for a deployment on its own workers — replicas and
 * their bounds, resources per replica, the replica command with its batching, the routes the
 * gateway answers, and the probes the worker agent polls. The control plane reconciles toward
 * it; a reader sees the same numbers the checks were run against.
 */
import {
  batchingOf,
  LIVE_PATH,
  modelRef,
  PROBES,
  qosOf,
  READY_PATH,
  replicaArgs,
  resourcesOf,
  routesOf,
  targetConcurrencyOf,
  tensors,
  type RenderablePlan,
} from './common';

export const LOCAL_PLAN_KIND = 'LocalDeploymentPlan';

export function localPlan(plan: RenderablePlan): Record<string, unknown> {
  const batching = batchingOf(plan);
  return {
    apiVersion: 'stratum.dev/v1',
    kind: LOCAL_PLAN_KIND,
    deployment: plan.name,
    model: { name: plan.modelName, version: plan.modelVersion, ref: modelRef(plan), digest: plan.modelDigest },
    placement: { tier: plan.tier, fallbackTiers: [...plan.fallbackTiers] },
    replicas: {
      min: plan.minReplicas,
      max: plan.maxReplicas,
      initial: plan.initialReplicas,
      targetConcurrency: targetConcurrencyOf(plan),
      scaleToZero: plan.minReplicas === 0,
    },
    resourcesPerReplica: resourcesOf(plan),
    batching: { ...batching, enabled: batching.maxBatchSize > 1 },
    // Port 0: each worker picks a free port and reports the replica's URL in its heartbeat.
    replica: { command: ['stratum', 'replica', ...replicaArgs(plan, { host: '127.0.0.1', port: 0 })] },
    probes: {
      readiness: {
        path: READY_PATH,
        periodMs: PROBES.readiness.periodSeconds * 1000,
        failureThreshold: PROBES.readiness.failureThreshold,
      },
      liveness: {
        path: LIVE_PATH,
        periodMs: PROBES.liveness.periodSeconds * 1000,
        failureThreshold: PROBES.liveness.failureThreshold,
      },
    },
    routes: routesOf(plan),
    qos: qosOf(plan),
    signature: { inputs: tensors(plan.inputs), outputs: tensors(plan.outputs) },
    checks: plan.checks.map((c) => ({ name: c.name, ok: c.ok, message: c.message })),
    feasible: plan.feasible,
  };
}

export function renderLocalPlan(plan: RenderablePlan): string {
  return JSON.stringify(localPlan(plan), null, 2) + '\n';
}

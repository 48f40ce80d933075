/**
 * Endpoints on a tier through the control plane's DeploymentService: a plan checked before
 * anything starts, a deployment followed until its first replica is ready, the list, removal.
 * A control plane without the service answers Unimplemented: that becomes NotAvailableError.
 */
import {
  Deployment_State,
  type CreateApiKeyResponse,
  PlanDeploymentResponseSchema,
  type Deployment,
  type DeploymentPlan,
  type PlanDeploymentResponse,
} from '@stratum/proto';
import { parseQos, planText } from '@stratum/server/dist/cli/deploy-commands';

import type { DeployOptions } from '../types';
import type { Connection } from './connection';
import { CODE, isConnectError, NotAvailableError, StratumError } from './errors';

export interface WaitOptions {
  readonly signal?: AbortSignal;
  /** Called with the deployment each time it is polled while waiting. */
  readonly onUpdate?: (d: Deployment) => void;
  /** Called once with the first API key of a deployment made with `requireKey`: its only showing. */
  readonly onApiKey?: (k: CreateApiKeyResponse) => void;
}

function request(model: string, o: DeployOptions) {
  return {
    model,
    tier: o.tier,
    qos: o.qos ? parseQos(o.qos) : undefined,
    minReplicas: o.minReplicas ?? 0,
    maxReplicas: o.maxReplicas ?? 0,
    name: o.name ?? '',
    fallbackTiers: [...(o.fallbackTiers ?? [])],
    requireKey: o.requireKey ?? false,
  };
}

/** Runs a DeploymentService call; Unimplemented and refused plans become StratumErrors. */
export async function callDeployments<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (!isConnectError(e)) throw e;
    if (e.code === CODE.Unimplemented) throw new NotAvailableError(what);
    const refused = e.code === CODE.FailedPrecondition ? e.findDetails(PlanDeploymentResponseSchema) : [];
    const plan = (refused as PlanDeploymentResponse[])[0]?.plan;
    if (plan) {
      const failed = plan.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.message}`);
      throw new StratumError(
        'DeployRefused',
        `the plan for ${plan.modelName}:${plan.modelVersion} on ${plan.tier} is not feasible: ${failed.join('; ')}`,
        planText(plan).split('\n'),
      );
    }
    throw e;
  }
}

export function planDeployment(conn: Connection, model: string, o: DeployOptions): Promise<DeploymentPlan> {
  return conn.call((c) =>
    callDeployments('deploying', async () => (await c.deployments.planDeployment(request(model, o))).plan!),
  );
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}

/** Creates a deployment and waits (up to `waitSeconds`, default 120) for it to be ready. */
export async function deploy(
  conn: Connection,
  model: string,
  o: DeployOptions,
  w: WaitOptions = {},
): Promise<Deployment> {
  const { deployment: created, firstKey } = await conn.call((c) =>
    callDeployments('deploying', () => c.deployments.createDeployment(request(model, o))),
  );
  if (firstKey?.key) w.onApiKey?.(firstKey);
  const end = Date.now() + (o.waitSeconds ?? 120) * 1000;
  let d = created!;
  for (;;) {
    w.onUpdate?.(d);
    if (d.state === Deployment_State.READY) return d;
    if (w.signal?.aborted) {
      throw new StratumError('KeyboardInterrupt', `stopped waiting for deployment ${d.name}; it goes on starting`);
    }
    if (Date.now() > end) {
      const why = d.stateReason ? ` (${d.stateReason})` : '';
      throw new StratumError(
        'DeployTimeout',
        `deployment ${d.name} is not ready after ${o.waitSeconds ?? 120}s: ${Deployment_State[d.state]?.toLowerCase()}${why}`,
      );
    }
    await sleep(250, w.signal);
    const name = d.name;
    d = await conn.call(async (c) => (await c.deployments.getDeployment({ name })).deployment!);
  }
}

export async function listDeployments(conn: Connection): Promise<Deployment[]> {
  return conn.call((c) =>
    callDeployments('listing deployments', async () => (await c.deployments.listDeployments({})).deployments),
  );
}

export async function getDeployment(conn: Connection, name: string): Promise<Deployment> {
  return conn.call((c) =>
    callDeployments('looking up deployments', async () => (await c.deployments.getDeployment({ name })).deployment!),
  );
}

export async function undeploy(conn: Connection, name: string): Promise<Deployment> {
  return conn.call((c) =>
    callDeployments('undeploying', async () => (await c.deployments.deleteDeployment({ name })).deployment!),
  );
}

/** The predict route of a deployment: its endpoint (the gateway) and its name. */
export function deploymentUrl(d: Deployment): string {
  if (!d.endpoint) throw new StratumError('PredictError', `deployment ${d.name} has no endpoint yet`);
  return `${d.endpoint.replace(/\/+$/, '')}/v2/models/${encodeURIComponent(d.name)}`;
}

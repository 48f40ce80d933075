/** Bundles for deployment plans and deployments: the CLI's text, HTML beside it. */
import { Deployment_State, Replica_State, type Deployment, type DeploymentPlan } from '@stratum/proto';
import { deploymentsTable, endpointText, planText } from '@stratum/server/dist/cli/deploy-commands';

import type { MimeBundle } from '../types';
import { esc, htmlTable } from './html';

const stateOf = (d: Deployment): string => Deployment_State[d.state]?.toLowerCase().replace(/_/g, ' ') ?? '';

export function planBundle(plan: DeploymentPlan): MimeBundle {
  const checks = plan.checks.map((c) => [c.ok ? '✓' : '✗', c.name, c.message]);
  const title = `plan: ${plan.modelName}:${plan.modelVersion} as "${plan.name}" on ${plan.tier} — ${plan.feasible ? 'feasible' : 'NOT feasible: nothing will start'}`;
  const iac = Object.entries(plan.iac)
    .map(([file, text]) => `<details><summary>${esc(file)}</summary><pre>${esc(text)}</pre></details>`)
    .join('');
  return {
    'text/plain': planText(plan),
    'text/html': htmlTable(['', 'check', 'result'], checks, { caption: title }) + iac,
  };
}

export function deploymentsBundle(ds: readonly Deployment[]): MimeBundle {
  if (ds.length === 0) return { 'text/plain': 'no deployments', 'text/html': '<p>no deployments</p>' };
  const rows = ds.map((d) => [
    d.name,
    `${d.plan?.modelName}:${d.plan?.modelVersion}`,
    d.plan?.tier ?? '',
    stateOf(d),
    `${d.replicas.filter((r) => r.state === Replica_State.READY).length}/${d.desiredReplicas}`,
    d.requestsPerSecond.toFixed(1),
    d.p50Ms.toFixed(1),
    d.p99Ms.toFixed(1),
    d.endpoint ? `${d.endpoint}/v2/models/${d.name}` : '-',
  ]);
  const headers = ['name', 'model', 'tier', 'state', 'replicas ready/desired', 'rps', 'p50 ms', 'p99 ms', 'endpoint'];
  return { 'text/plain': deploymentsTable(ds), 'text/html': htmlTable(headers, rows) };
}

/** One deployment: while it starts, its state; once ready, its plan and how to call it. */
export function deploymentBundle(d: Deployment): MimeBundle {
  const table = deploymentsBundle([d]);
  if (d.state !== Deployment_State.READY || !d.plan) return table;
  const usage = endpointText(d);
  return {
    'text/plain': `${planText(d.plan)}\n\n${usage}`,
    'text/html': `${table['text/html']}<pre>${esc(usage)}</pre>`,
  };
}

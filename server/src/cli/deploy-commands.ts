/** `stratum deploy`, `deployments`, `undeploy`, `scale`, `logs`: endpoints on a tier. */
import { create, toJsonString } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import {
  Deployment_State,
  DeploymentPlanSchema,
  DeploymentSchema,
  PlanDeploymentResponseSchema,
  QosSchema,
  Replica_State,
  type Deployment,
  type DeploymentPlan,
  type Qos,
} from '@stratum/proto';

import { UsageError, type FlagValue } from './args';
import { clientFor, type Io } from './client-commands';
import { keyJson, newKeyText } from './keys-commands';
import { parseQos as parseQosAsk } from './profile-command';
import { table } from './render';

type Flags = Readonly<Record<string, FlagValue>>;

/** "p99=20ms,rps=200,cost=0.5" → Qos, the same syntax as `stratum profile` (and the magics). */
export function parseQos(text: string): Qos {
  try {
    return create(QosSchema, parseQosAsk(text));
  } catch (e) {
    if (e instanceof UsageError) throw new UsageError(e.message, 'deploy');
    throw e;
  }
}

function count(flag: string, v: FlagValue | undefined): number {
  if (v === undefined) return 0;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${flag} expects a whole number ≥ 0, got ${String(v)}`);
  return n;
}

function positive(flag: string, v: FlagValue): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${flag} expects a number > 0, got ${String(v)}`);
  return n;
}

export function planText(plan: DeploymentPlan): string {
  const lines = [
    `plan: ${plan.modelName}:${plan.modelVersion} as "${plan.name}" on ${plan.tier}` +
      (plan.fallbackTiers.length ? ` (fallback ${plan.fallbackTiers.join(', ')})` : ''),
    `  replicas ${plan.minReplicas}..${plan.maxReplicas} (start ${plan.initialReplicas}), ` +
      `${plan.resources?.cpus ?? 0} cpu / ${plan.resources?.memoryMb ?? 0} MiB each, ` +
      `batching ${plan.maxBatchSize} rows / ${plan.maxQueueDelayMs} ms, target ${plan.targetConcurrency} in flight per replica`,
    plan.requireKey ? '  inference needs an API key of the deployment (--require-key; stratum keys)' : '',
    ...plan.checks.map((c) => `  ${c.ok ? '✓' : '✗'} ${c.name}: ${c.message}`),
    plan.feasible ? '  feasible' : '  NOT feasible: nothing will start',
  ];
  return lines.filter(Boolean).join('\n');
}

export function endpointText(d: Deployment): string {
  const url = `${d.endpoint}/v2/models/${d.name}`;
  const fields = d.plan?.inputs.map((i) => i.name).join(', ') ?? '';
  const auth = d.plan?.requireKey ? ` -H "Authorization: Bearer $STRATUM_API_KEY"` : '';
  return [
    `endpoint: ${url}`,
    `  curl -s -X POST ${url}/predict${auth} -H 'content-type: application/json' -d '{"rows": [{...}]}'`,
    `  curl -s -X POST ${url}/infer${auth} -d '{"inputs": [{"name": "${d.plan?.inputs[0]?.name ?? 'features'}", "datatype": "FP32", "shape": [1, N], "data": [...]}]}'`,
    `  // TypeScript: await fetch("${url}/predict", { method: "POST", body: JSON.stringify({ rows }) }).then((r) => r.json())`,
    fields ? `  inputs: ${fields}` : '',
  ]
    .filter(Boolean)
    .join('\n');
}

export function deploymentsTable(ds: readonly Deployment[]): string {
  return table(
    ['name', 'model', 'tier', 'state', 'replicas ready/desired', 'rps', 'p50 ms', 'p99 ms', 'endpoint'],
    ds.map((d) => [
      d.name,
      `${d.plan?.modelName}:${d.plan?.modelVersion}`,
      d.plan?.tier ?? '',
      Deployment_State[d.state]?.toLowerCase().replace(/_/g, ' ') ?? '',
      `${d.replicas.filter((r) => r.state === Replica_State.READY).length}/${d.desiredReplicas}`,
      d.requestsPerSecond.toFixed(1),
      d.p50Ms.toFixed(1),
      d.p99Ms.toFixed(1),
      d.endpoint ? `${d.endpoint}/v2/models/${d.name}` : '-',
    ]),
  );
}

export async function deploy(args: readonly string[], flags: Flags, io: Io): Promise<number> {
  if (!flags.tier) throw new UsageError('deploy needs --tier T (cloud, fog, edge, or a tier of yours)');
  const req = {
    model: args[0]!,
    tier: String(flags.tier),
    qos: flags.qos ? parseQos(String(flags.qos)) : undefined,
    minReplicas: count('min', flags.min),
    maxReplicas: count('max', flags.max),
    name: flags.name ? String(flags.name) : '',
    fallbackTiers: (flags.fallback as string[] | undefined) ?? [],
    targetConcurrency:
      flags['target-concurrency'] !== undefined ? positive('target-concurrency', flags['target-concurrency']) : 0,
    requireKey: flags['require-key'] === true,
  };
  const client = clientFor(flags);
  if (flags['dry-run']) {
    const { plan } = await client.deployments.planDeployment(req);
    if (flags.json) io.out(toJsonString(DeploymentPlanSchema, plan!, { prettySpaces: 2 }));
    else
      io.out(
        `${planText(plan!)}\n\n${Object.entries(plan!.iac)
          .map(([f, text]) => `--- ${f}\n${text}`)
          .join('\n')}`,
      );
    return plan!.feasible ? 0 : 1;
  }
  try {
    const { deployment, firstKey } = await client.deployments.createDeployment(req);
    const ready = await waitReady(client, deployment!.name, Number(flags.wait ?? 120) * 1000);
    // The first key of a keyed deployment is shown here, once.
    const key = firstKey?.key ? firstKey : undefined;
    io.out(
      flags.json
        ? key
          ? JSON.stringify(
              {
                ...JSON.parse(toJsonString(DeploymentSchema, ready)),
                apiKey: { ...keyJson(key.key!), key: key.secret },
              },
              null,
              2,
            )
          : toJsonString(DeploymentSchema, ready, { prettySpaces: 2 })
        : `${planText(ready.plan!)}\n\n${endpointText(ready)}${key ? `\n\n${newKeyText(key, ready.endpoint)}` : ''}`,
    );
    return ready.state === Deployment_State.READY ? 0 : 1;
  } catch (e) {
    if (e instanceof ConnectError && e.code === Code.FailedPrecondition) {
      const plan = e.findDetails(PlanDeploymentResponseSchema)[0]?.plan;
      if (plan) {
        io.err(planText(plan));
        return 1;
      }
    }
    throw e;
  }
}

async function waitReady(client: ReturnType<typeof clientFor>, name: string, timeoutMs: number): Promise<Deployment> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const { deployment } = await client.deployments.getDeployment({ name });
    if (deployment!.state === Deployment_State.READY || Date.now() > end) return deployment!;
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function deployments(flags: Flags, io: Io): Promise<number> {
  const { deployments } = await clientFor(flags).deployments.listDeployments({});
  io.out(
    flags.json
      ? JSON.stringify(
          deployments.map((d) => JSON.parse(toJsonString(DeploymentSchema, d))),
          null,
          2,
        )
      : deploymentsTable(deployments),
  );
  return 0;
}

export async function undeploy(args: readonly string[], flags: Flags, io: Io): Promise<number> {
  const { deployment } = await clientFor(flags).deployments.deleteDeployment({ name: args[0]! });
  io.out(
    flags.json ? toJsonString(DeploymentSchema, deployment!, { prettySpaces: 2 }) : `undeployed ${deployment!.name}`,
  );
  return 0;
}

export async function scale(args: readonly string[], flags: Flags, io: Io): Promise<number> {
  if (flags.min === undefined && flags.max === undefined) throw new UsageError('scale needs --min and/or --max');
  const client = clientFor(flags);
  const { deployment: current } = await client.deployments.getDeployment({ name: args[0]! });
  const min = flags.min !== undefined ? count('min', flags.min) : current!.plan!.minReplicas;
  const max = flags.max !== undefined ? count('max', flags.max) : current!.plan!.maxReplicas;
  const { deployment } = await client.deployments.scaleDeployment({
    name: args[0]!,
    minReplicas: min,
    maxReplicas: max,
  });
  io.out(
    flags.json ? toJsonString(DeploymentSchema, deployment!, { prettySpaces: 2 }) : deploymentsTable([deployment!]),
  );
  return 0;
}

export async function logs(args: readonly string[], flags: Flags, io: Io): Promise<number> {
  const { deployment } = await clientFor(flags).deployments.getDeployment({ name: args[0]! });
  const events = deployment!.events.map((e) => ({
    at: new Date(Number(e.atMs)).toISOString(),
    kind: e.kind,
    message: e.message,
  }));
  io.out(
    flags.json
      ? JSON.stringify(events, null, 2)
      : events.map((e) => `${e.at}  ${e.kind.padEnd(16)} ${e.message}`).join('\n'),
  );
  return 0;
}

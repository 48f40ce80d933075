/** DeploymentService: plans checked before anything starts, then the replica reconciler. */
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, type ServiceImpl } from '@connectrpc/connect';
import {
  DeploymentPlanSchema,
  DeploymentService,
  PlanCheckSchema,
  PlanDeploymentResponseSchema,
  QosSchema,
  ResourcesSchema,
  type DeployRequest,
  type DeploymentPlan,
  type Model,
} from '@stratum/proto';

import type { ReplicaManager } from '../scheduler/replicas';
import type { ApiKeyRepo } from '../store/api-keys';
import type { DeploymentRepo } from '../store/deployments';
import type { ModelRepo } from '../store/models';
import type { WorkerRecord } from '../store/workers';
import type { ResourceAmounts } from '../store/workers';
import { nearest } from '../cli/args';
import { apiKeyRoutes, issueApiKey, type ApiKeyRoutesDeps } from './api-keys';
import { checkModelName } from './models';

/** The pieces of planning that are pure policy (checks, sizing, infrastructure-as-code). */
export interface PlanTools {
  replicaResources(model: Model): ResourceAmounts;
  checks(input: {
    model: Model;
    tier: string;
    workers: ReadonlyArray<{ worker: WorkerRecord; used: ResourceAmounts; live: boolean }>;
    minReplicas: number;
    maxReplicas: number;
    qos: DeployRequest['qos'];
    resources: ResourceAmounts;
  }): { name: string; ok: boolean; message: string }[];
  render(plan: DeploymentPlan): Record<string, string>;
  /** The profiler's verdict on a QoS for a model on a tier, once it has measured it. */
  qosCheck?: (model: Model, tier: string, qos: DeployRequest['qos']) => { ok: boolean; message: string };
}

export interface DeploymentRoutesDeps {
  readonly models: ModelRepo;
  readonly repo: DeploymentRepo;
  readonly keys: ApiKeyRepo;
  readonly manager: ReplicaManager;
  readonly tools: PlanTools;
  readonly tiers: () => string[];
  readonly workers: () => ReadonlyArray<{ worker: WorkerRecord; used: ResourceAmounts; live: boolean }>;
  readonly endpoint: () => string;
}

export const DEFAULT_MAX_REPLICAS = 4;
export const DEFAULT_TARGET_CONCURRENCY = 8;

function resolveModel(models: ModelRepo, ref: string): Model {
  const [name, v, ...rest] = ref.split(':');
  const version = v === undefined ? 0 : Number(v);
  if (!name || rest.length > 0 || !Number.isInteger(version) || version < 0) {
    throw new ConnectError(
      `bad model reference ${JSON.stringify(ref.slice(0, 80))}: use NAME or NAME:VERSION`,
      Code.InvalidArgument,
    );
  }
  const model = models.get(name, version);
  if (!model) throw new ConnectError(`model ${JSON.stringify(ref.slice(0, 80))} not found`, Code.NotFound);
  return model;
}

export function buildPlan(req: DeployRequest, d: DeploymentRoutesDeps): DeploymentPlan {
  const model = resolveModel(d.models, req.model);
  const name = req.name || model.name;
  checkModelName(name);
  const tiers = d.tiers();
  for (const t of [req.tier, ...req.fallbackTiers]) {
    if (!tiers.includes(t)) {
      const hint = nearest(t, tiers);
      throw new ConnectError(
        `unknown tier ${JSON.stringify(t.slice(0, 40))}${hint ? ` (did you mean "${hint}"?)` : ''}; tiers: ${tiers.join(', ')}`,
        Code.InvalidArgument,
      );
    }
  }
  const minReplicas = req.minReplicas;
  const maxReplicas = req.maxReplicas || Math.max(DEFAULT_MAX_REPLICAS, minReplicas);
  const workers = d.workers().filter((w) => [req.tier, ...req.fallbackTiers].includes(w.worker.tier));
  // A replica takes up to a core; on a tier of smaller workers (edge boxes) it takes a whole
  // worker, which is also how the profiler measured it there.
  const sized = d.tools.replicaResources(model);
  const largest = Math.max(0, ...workers.filter((w) => w.worker.tier === req.tier).map((w) => w.worker.total.cpus));
  const resources = { ...sized, cpus: largest > 0 ? Math.min(sized.cpus, largest) : sized.cpus };
  const checks = d.tools.checks({ model, tier: req.tier, workers, minReplicas, maxReplicas, qos: req.qos, resources });
  const plan = create(DeploymentPlanSchema, {
    name,
    modelName: model.name,
    modelVersion: model.version,
    modelDigest: model.digest,
    tier: req.tier,
    fallbackTiers: req.fallbackTiers,
    minReplicas,
    maxReplicas,
    // Start warm with one replica even when the floor is zero; the autoscaler takes it down when idle.
    initialReplicas: Math.min(maxReplicas, Math.max(minReplicas, 1)),
    targetConcurrency: req.targetConcurrency || DEFAULT_TARGET_CONCURRENCY,
    maxBatchSize: req.maxBatchSize || 32,
    maxQueueDelayMs: req.maxQueueDelayMs || 2,
    resources: create(ResourcesSchema, {
      cpus: resources.cpus,
      memoryMb: BigInt(Math.ceil(resources.memoryMb)),
      gpus: resources.gpus,
    }),
    qos: create(QosSchema, req.qos ?? {}),
    inputs: model.inputs,
    outputs: model.outputs,
    checks: checks.map((c) => create(PlanCheckSchema, c)),
    feasible: checks.every((c) => c.ok),
    requireKey: req.requireKey,
  });
  plan.iac = d.tools.render(plan);
  return plan;
}

function failing(plan: DeploymentPlan): string {
  return plan.checks
    .filter((c) => !c.ok)
    .map((c) => `  ✗ ${c.name}: ${c.message}`)
    .join('\n');
}

function find(d: DeploymentRoutesDeps, name: string) {
  const row = d.repo.row(name);
  if (!row) throw new ConnectError(`deployment ${JSON.stringify(name.slice(0, 80))} not found`, Code.NotFound);
  return row;
}

export function deploymentRoutes(d: DeploymentRoutesDeps): ServiceImpl<typeof DeploymentService> {
  const view = (name: string) => d.repo.toDeployment(find(d, name), d.endpoint(), d.manager.load(name));
  const keyDeps: ApiKeyRoutesDeps = { repo: d.repo, keys: d.keys, keysChanged: () => d.manager.keysChanged() };
  return {
    planDeployment(req) {
      return create(PlanDeploymentResponseSchema, { plan: buildPlan(req, d) });
    },

    createDeployment(req) {
      const plan = buildPlan(req, d);
      if (d.repo.row(plan.name)) {
        throw new ConnectError(
          `deployment "${plan.name}" exists: undeploy it first or pick another --name`,
          Code.AlreadyExists,
        );
      }
      if (!plan.feasible) {
        throw new ConnectError(
          `deployment of ${plan.modelName}:${plan.modelVersion} on ${plan.tier} refused; failing checks:\n${failing(plan)}`,
          Code.FailedPrecondition,
          undefined,
          [{ desc: PlanDeploymentResponseSchema, value: { plan } }],
        );
      }
      // Keys of an earlier deployment of this name must not open the new one.
      d.keys.removeAll(plan.name);
      d.manager.create(plan);
      // A keyed deployment with no key would refuse everyone: make the first one now.
      const firstKey = plan.requireKey ? issueApiKey(keyDeps, plan.name, 'first key') : undefined;
      return { deployment: view(plan.name), ...(firstKey ? { firstKey } : {}) };
    },

    listDeployments() {
      return { deployments: d.repo.rows().map((r) => view(r.name)) };
    },

    getDeployment(req) {
      return { deployment: view(req.name) };
    },

    deleteDeployment(req) {
      const before = view(req.name);
      d.manager.remove(req.name);
      d.keys.removeAll(req.name);
      return { deployment: before };
    },

    scaleDeployment(req) {
      find(d, req.name);
      const max = req.maxReplicas || DEFAULT_MAX_REPLICAS;
      if (req.minReplicas > max) {
        throw new ConnectError(`--min ${req.minReplicas} is above --max ${max}`, Code.InvalidArgument);
      }
      d.manager.scale(req.name, req.minReplicas, max);
      return { deployment: view(req.name) };
    },

    async *watchRoutes(_req, ctx) {
      yield* d.manager.watchRoutes(ctx.signal);
    },

    reportGatewayMetrics(req) {
      d.manager.onGatewayLoad(req.gatewayId || 'gateway', req.loads);
      return {};
    },

    ...apiKeyRoutes(keyDeps),
  };
}

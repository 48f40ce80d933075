/**
 * A small control plane for the extension's model tests: real Connect clients over an in-memory
 * router transport, with a DeploymentService whose plans fail a QoS check whenever a p99 is asked
 * (as a control plane without a profile does) and a ProfileService that knows one profile.
 */
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient, createRouterTransport, type ConnectRouter } from '@connectrpc/connect';
import {
  ClusterService,
  DeploymentPlanSchema,
  DeploymentSchema,
  DeploymentService,
  Deployment_State,
  ModelProfileSchema,
  ModelService,
  PlanDeploymentResponseSchema,
  ProfileService,
  RunService,
  type DeployRequest,
  type Deployment,
  type DeploymentPlan,
} from '@stratum/proto';

import type { IStratumApi } from '../tokens';

export interface IFakeOptions {
  /** Leave DeploymentService and ProfileService out, as an older control plane does. */
  readonly withoutEngine?: boolean;
  /** Plans are feasible in this fake until this is set, whatever the QoS. */
  readonly refuseCreate?: boolean;
}

export function fakePlan(req: DeployRequest): DeploymentPlan {
  const qosOk = !(req.qos?.p99Ms || req.qos?.rps);
  const boundsOk = req.minReplicas <= (req.maxReplicas || 4);
  const checks = [
    { name: 'replica bounds', ok: boundsOk, message: `${req.minReplicas} to ${req.maxReplicas || 4} replicas` },
    {
      name: 'memory fits',
      ok: true,
      message: 'model needs ~144 MiB per replica; largest cloud worker offers 1024 MiB',
    },
    {
      name: 'QoS reachable',
      ok: qosOk,
      message: qosOk ? 'no QoS asked' : `no profile of penguins on ${req.tier}: run \`stratum profile penguins\``,
    },
  ];
  return create(DeploymentPlanSchema, {
    name: req.name || req.model.split(':')[0],
    modelName: req.model.split(':')[0],
    modelVersion: Number(req.model.split(':')[1] ?? 1),
    tier: req.tier,
    minReplicas: req.minReplicas,
    maxReplicas: req.maxReplicas || 4,
    initialReplicas: Math.max(1, req.minReplicas),
    maxBatchSize: 32,
    maxQueueDelayMs: 2,
    targetConcurrency: 8,
    resources: { cpus: 1, memoryMb: 144n, gpus: 0 },
    qos: req.qos,
    checks,
    feasible: checks.every((c) => c.ok),
    iac: { 'kubernetes.yaml': 'kind: Deployment\n', 'local-plan.json': '{}\n' },
  });
}

export class FakeControlPlane {
  constructor(options: IFakeOptions = {}) {
    this.options = options;
    this.refuseCreate = options.refuseCreate ?? false;
    const transport = createRouterTransport((router) => this._routes(router));
    this.api = {
      baseUrl: 'memory:',
      cluster: createClient(ClusterService, transport),
      runs: createClient(RunService, transport),
      models: createClient(ModelService, transport),
      deployments: createClient(DeploymentService, transport),
      profiles: createClient(ProfileService, transport),
    };
  }

  readonly options: IFakeOptions;
  readonly api: IStratumApi;
  readonly deployments = new Map<string, Deployment>();
  readonly calls: string[] = [];
  refuseCreate: boolean;

  private _routes(router: ConnectRouter): void {
    router.service(ClusterService, { getCluster: () => ({ tiers: [{ name: 'cloud' }, { name: 'edge' }] }) });
    if (this.options.withoutEngine) return;
    router.service(DeploymentService, {
      planDeployment: (req) => (this.calls.push('plan'), { plan: fakePlan(req) }),
      createDeployment: (req) => {
        this.calls.push('create');
        const plan = fakePlan(req);
        if (this.refuseCreate) plan.checks[1] = { ...plan.checks[1]!, ok: false, message: 'no worker has joined' };
        plan.feasible = plan.checks.every((c) => c.ok);
        if (!plan.feasible) {
          throw new ConnectError('refused', Code.FailedPrecondition, undefined, [
            { desc: PlanDeploymentResponseSchema, value: { plan } },
          ]);
        }
        const d = create(DeploymentSchema, {
          name: plan.name,
          plan,
          state: Deployment_State.READY,
          desiredReplicas: plan.initialReplicas,
          endpoint: 'http://127.0.0.1:9001',
          requestsPerSecond: 2,
          p50Ms: 1,
          p99Ms: 3,
        });
        this.deployments.set(d.name, d);
        return { deployment: d };
      },
      listDeployments: () => (this.calls.push('list'), { deployments: [...this.deployments.values()] }),
      scaleDeployment: (req) => {
        const d = this.deployments.get(req.name);
        if (!d?.plan) throw new ConnectError(`deployment "${req.name}" not found`, Code.NotFound);
        d.plan.minReplicas = req.minReplicas;
        d.plan.maxReplicas = req.maxReplicas;
        return { deployment: d };
      },
      deleteDeployment: (req) => {
        const d = this.deployments.get(req.name);
        this.deployments.delete(req.name);
        return { deployment: d };
      },
    });
    router.service(ProfileService, {
      getProfile: (req) => {
        if (req.model !== 'penguins:1') throw new ConnectError(`model ${req.model} has no profile yet`, Code.NotFound);
        return { profile: create(ModelProfileSchema, { id: 'p1', modelName: 'penguins', modelVersion: 1 }) };
      },
    });
  }
}

/**
 * The control plane process: one HTTP/2 server (h2c, with HTTP/1.1 allowed) answering gRPC,
 * gRPC-Web and Connect/JSON from the same handlers, plus /healthz and /metrics.
 */
import { connectNodeAdapter } from '@connectrpc/connect-node';
import {
  ClusterService,
  DeploymentService,
  ModelService,
  ProfileService,
  RunService,
  WorkerService,
} from '@stratum/proto';
import { join } from 'node:path';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

import { ensureDir, ensureSecrets, type Secrets } from '../config/home';
import {
  DEFAULT_SCHEDULER_OPTIONS,
  Scheduler,
  systemClock,
  type Clock,
  type SchedulerOptions,
} from '../scheduler/controller';
import { EventHub } from '../scheduler/events';
import { STRATUM_VERSION } from '../scheduler/finalize';
import { ArtifactStore } from '../store/artifacts';
import { openDb, type Db } from '../store/db';
import { describeOnnx, EMPTY_INFO, type ModelInfo } from '../store/model-info';
import { ModelRepo } from '../store/models';
import { RunRepo } from '../store/runs';
import { WorkerRepo } from '../store/workers';
import { createLogger, type Logger } from '../util/log';
import { authInterceptor } from './auth';
import { createDualServer } from './listener';
import { addResources, NO_RESOURCES } from '../scheduler/placement';
import { ReplicaManager } from '../scheduler/replicas';
import { ApiKeyRepo } from '../store/api-keys';
import { DeploymentRepo } from '../store/deployments';
import { clusterRoutes, clusterView } from './cluster';
import { autoscalePolicy, planTools } from './deploy-tools';
import { deploymentRoutes } from './deployments';
import { profileQosCheck, profileRoutes } from './profiles';
import { loadTiers } from '../config/tiers';
import { ProfileRepo } from '../profiler/repo';
import { candidateProfiler } from '../profiler/candidates';
import { ProfileLock } from '../profiler/lock';
import { modelRoutes } from './models';
import { runRoutes } from './runs';
import { workerRoutes } from './workers';

export interface Limits {
  readonly maxSpecBytes: number;
  readonly maxUploadBytes: number;
  readonly maxModelBytes: number;
  readonly maxActiveRuns: number;
  readonly maxTrialsPerRun: number;
  readonly maxLeaseWaitMs: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxSpecBytes: 1 << 20,
  maxUploadBytes: 512 << 20,
  maxModelBytes: 256 << 20,
  maxActiveRuns: 64,
  maxTrialsPerRun: 10000,
  maxLeaseWaitMs: 30000,
};

export interface ControlPlaneOptions {
  readonly home: string;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  readonly scheduler?: Partial<SchedulerOptions>;
  readonly limits?: Partial<Limits>;
  readonly clock?: Clock;
  readonly log?: Logger;
  readonly tickMs?: number;
  /** Overrides of the autoscaler's windows (tests shorten the quiet and idle periods). */
  readonly autoscaling?: Parameters<typeof autoscalePolicy>[0];
}

export interface ControlPlane {
  readonly url: string;
  readonly secrets: Secrets;
  readonly scheduler: Scheduler;
  readonly db: Db;
  readonly replicas: ReplicaManager;
  /** Where deployments answer: the gateway's URL, once it runs. */
  setEndpoint(url: string): void;
  close(): Promise<void>;
}

export async function startControlPlane(o: ControlPlaneOptions): Promise<ControlPlane> {
  const log = o.log ?? createLogger('stratum-control-plane');
  const home = ensureDir(o.home);
  const secrets = ensureSecrets(home);
  const limits: Limits = { ...DEFAULT_LIMITS, ...o.limits };
  const options: SchedulerOptions = { ...DEFAULT_SCHEDULER_OPTIONS, ...o.scheduler };
  const db = openDb(join(home, 'stratum.db'));
  const artifacts = new ArtifactStore(join(home, 'artifacts'), db);
  const runs = new RunRepo(db);
  const workers = new WorkerRepo(db);
  const models = new ModelRepo(db);
  const events = new EventHub();
  const describeModel = (digest: string, format: string): ModelInfo => {
    if (format !== 'onnx') return EMPTY_INFO;
    try {
      return describeOnnx(artifacts.get(digest));
    } catch (e) {
      log.warn({ digest, err: (e as Error).message }, 'cannot read the model signature');
      return EMPTY_INFO;
    }
  };
  const clock = o.clock ?? systemClock;
  const deployments = new DeploymentRepo(db);
  const apiKeys = new ApiKeyRepo(db);
  const profiles = new ProfileRepo(db);
  const profileLock = new ProfileLock();
  const tierNames = (): string[] => loadTiers(home).map((t) => t.name);
  // The two reconcilers share workers: each reads the other's resource use through a closure.
  const manager: ReplicaManager = new ReplicaManager({
    repo: deployments,
    workers: () => workers.all(),
    isLive: (id) => scheduler.isLive(id),
    trialUsage: () => scheduler.usage(),
    wakeWorker: (id) => scheduler.wake(id),
    autoscaler: autoscalePolicy(o.autoscaling),
    clock,
    log,
    keyHashes: () => apiKeys.enabledHashes(),
  });
  const scheduler: Scheduler = new Scheduler({
    runs,
    workers,
    models,
    events,
    clock,
    log,
    options,
    describeModel,
    otherUsage: () => manager.replicaUsage(),
    qos: {
      profile: candidateProfiler({
        modelPath: (digest) => artifacts.pathOf(digest),
        tiers: () => loadTiers(home),
        lock: profileLock,
      }),
      saveProfile: (p) => profiles.save(p),
    },
  });
  scheduler.recover();
  let endpoint = '';

  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: 'stratum_control_plane_' });
  new Gauge({
    name: 'stratum_trials_running',
    help: 'Trials holding a lease',
    registers: [metrics],
    collect() {
      this.set([...scheduler.usage().values()].reduce((n, u) => n + u.running.length, 0));
    },
  });

  const handler = connectNodeAdapter({
    interceptors: [authInterceptor(secrets)],
    readMaxBytes: limits.maxUploadBytes,
    routes(router) {
      router.service(
        RunService,
        runRoutes({ scheduler, runs, events, artifacts, columnCache: new Map(), limits, tiers: tierNames }),
      );
      router.service(
        WorkerService,
        workerRoutes({
          scheduler,
          replicas: manager,
          artifacts,
          heartbeatIntervalMs: options.heartbeatIntervalMs,
          leaseTtlMs: options.leaseTtlMs,
          limits,
        }),
      );
      router.service(
        ClusterService,
        clusterRoutes({ scheduler, workers, artifacts, version: STRATUM_VERSION, limits }),
      );
      router.service(ModelService, modelRoutes({ models, artifacts, limits }));
      router.service(
        ProfileService,
        profileRoutes({ models, artifacts, profiles, tiers: () => loadTiers(home), lock: profileLock }),
      );
      router.service(
        DeploymentService,
        deploymentRoutes({
          models,
          repo: deployments,
          keys: apiKeys,
          manager,
          tools: planTools(profileQosCheck(profiles)),
          tiers: () => clusterView({ scheduler, workers }).tiers.map((t) => t.name),
          workers: () => {
            const trialUse = scheduler.usage();
            const replicaUse = manager.replicaUsage();
            return workers.all().map((w) => ({
              worker: w,
              used: addResources(trialUse.get(w.id)?.used ?? NO_RESOURCES, replicaUse.get(w.id) ?? NO_RESOURCES),
              live: scheduler.isLive(w.id),
            }));
          },
          endpoint: () => endpoint,
        }),
      );
    },
    fallback(req, res) {
      if (req.url === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('ok\n');
      } else if (req.url === '/metrics') {
        void metrics.metrics().then((text) => {
          res.writeHead(200, { 'content-type': metrics.contentType });
          res.end(text);
        });
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found\n');
      }
    },
  });

  const dual = createDualServer(handler);
  const host = o.host ?? '127.0.0.1';
  const address = await dual.listen(o.port ?? 0, host);
  const port = address.port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const timer = setInterval(() => {
    scheduler.tick();
    manager.reconcileAll();
  }, o.tickMs ?? 250);
  log.info({ url }, 'control plane listening');

  return {
    url,
    secrets,
    scheduler,
    db,
    replicas: manager,
    setEndpoint(url) {
      endpoint = url;
    },
    async close() {
      clearInterval(timer);
      scheduler.close();
      await dual.close();
      db.close();
    },
  };
}

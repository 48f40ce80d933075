/** WorkerService: join, heartbeat, long-poll leases, progress, results, artifacts. */
import { Code, ConnectError, type ServiceImpl } from '@connectrpc/connect';
import { WorkerService } from '@stratum/proto';

import { UnknownWorkerError, type Scheduler } from '../scheduler/controller';
import type { ReplicaManager } from '../scheduler/replicas';
import type { ArtifactStore } from '../store/artifacts';

export interface WorkerRoutesDeps {
  readonly scheduler: Scheduler;
  readonly replicas: ReplicaManager;
  readonly artifacts: ArtifactStore;
  readonly heartbeatIntervalMs: number;
  readonly leaseTtlMs: number;
  readonly limits: { readonly maxModelBytes: number; readonly maxLeaseWaitMs: number };
}

const CHUNK = 1 << 20;

/** Scheduler errors about unknown workers become NOT_FOUND so the agent knows to re-join. */
function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof UnknownWorkerError) throw new ConnectError(e.message, Code.NotFound);
    throw e;
  }
}

export function workerRoutes(d: WorkerRoutesDeps): ServiceImpl<typeof WorkerService> {
  return {
    join(req) {
      const r = req.resources;
      if (!r || r.cpus <= 0) throw new ConnectError('join needs resources with cpus > 0', Code.InvalidArgument);
      if (!req.tier) throw new ConnectError('join needs a tier', Code.InvalidArgument);
      const workerId = d.scheduler.join({
        name: req.name || 'worker',
        tier: req.tier,
        total: { cpus: r.cpus, memoryMb: Number(r.memoryMb), gpus: r.gpus },
        labels: req.labels,
        versions: req.versions,
        trainers: req.trainers,
        previousId: req.previousId || undefined,
      });
      return { workerId, heartbeatIntervalMs: d.heartbeatIntervalMs, leaseTtlMs: d.leaseTtlMs };
    },

    heartbeat(req) {
      return guard(() => ({
        abortTrialIds: d.scheduler.heartbeat(req.workerId, req.leases),
        replicas: d.replicas.onHeartbeat(req.workerId, req.replicas),
      }));
    },

    async leaseTrial(req, ctx) {
      const wait = Math.min(req.waitMs, d.limits.maxLeaseWaitMs);
      return guard(() => d.scheduler.lease(req.workerId, wait, ctx.signal));
    },

    reportProgress(req) {
      return guard(() =>
        d.scheduler.progress({
          workerId: req.workerId,
          trialId: req.trialId,
          leaseId: req.leaseId,
          epoch: req.epoch,
          progress: req.progress,
          metrics: req.metrics,
        }),
      );
    },

    completeTrial(req) {
      if (req.model.byteLength > d.limits.maxModelBytes) {
        throw new ConnectError(
          `model is ${req.model.byteLength} bytes, over the limit of ${d.limits.maxModelBytes} bytes`,
          Code.InvalidArgument,
        );
      }
      const digest = req.ok && req.model.byteLength > 0 ? d.artifacts.put(req.model, `trial ${req.trialId}`) : '';
      return guard(() =>
        d.scheduler.complete({
          workerId: req.workerId,
          trialId: req.trialId,
          leaseId: req.leaseId,
          ok: req.ok,
          error: req.error,
          metrics: req.metrics,
          modelDigest: digest,
          modelFormat: req.modelFormat,
          modelSize: req.model.byteLength,
          backend: req.backend,
          note: req.note,
        }),
      );
    },

    leave(req) {
      guard(() => d.scheduler.leave(req.workerId));
      return {};
    },

    async *fetchArtifact(req) {
      if (!d.artifacts.has(req.digest)) {
        throw new ConnectError(`artifact ${req.digest.slice(0, 80)} not found`, Code.NotFound);
      }
      const bytes = d.artifacts.get(req.digest);
      for (let off = 0; off < bytes.byteLength || off === 0; off += CHUNK) {
        yield { data: bytes.subarray(off, off + CHUNK), totalBytes: BigInt(bytes.byteLength) };
        if (bytes.byteLength === 0) break;
      }
    },
  };
}

/** ClusterService: tiers and workers with their free and used resources; artifact upload. */
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, type ServiceImpl } from '@connectrpc/connect';
import { ClusterService, TierSchema, Worker_Status, type Tier, type Worker } from '@stratum/proto';

import { addResources, NO_RESOURCES } from '../scheduler/placement';
import type { Scheduler } from '../scheduler/controller';
import type { ArtifactStore } from '../store/artifacts';
import { toResources, toWorker, type WorkerRepo } from '../store/workers';

export interface ClusterRoutesDeps {
  readonly scheduler: Scheduler;
  readonly workers: WorkerRepo;
  readonly artifacts: ArtifactStore;
  readonly version: string;
  readonly limits: { readonly maxUploadBytes: number };
}

/** Tiers that exist even before any worker joins them. */
export const DEFAULT_TIERS = ['cloud', 'fog', 'edge'] as const;

export function clusterView(d: Pick<ClusterRoutesDeps, 'scheduler' | 'workers'>): { tiers: Tier[]; workers: Worker[] } {
  const usage = d.scheduler.usage();
  const workers = d.workers.all().map((w) => {
    const u = usage.get(w.id);
    return toWorker(w, u?.used ?? NO_RESOURCES, u?.running ?? []);
  });
  const names = new Set<string>([...DEFAULT_TIERS, ...workers.map((w) => w.tier)]);
  const tiers = [...names].map((name) => {
    const ready = d.workers.all().filter((w) => w.tier === name && w.status === Worker_Status.READY);
    const total = ready.reduce((a, w) => addResources(a, w.total), NO_RESOURCES);
    const used = ready.reduce((a, w) => addResources(a, usage.get(w.id)?.used ?? NO_RESOURCES), NO_RESOURCES);
    return create(TierSchema, {
      name,
      total: toResources(total),
      used: toResources(used),
      workersReady: ready.length,
    });
  });
  return { tiers, workers };
}

export function clusterRoutes(d: ClusterRoutesDeps): ServiceImpl<typeof ClusterService> {
  return {
    getCluster() {
      return { ...clusterView(d), version: d.version };
    },

    async uploadArtifact(reqs) {
      const chunks: Uint8Array[] = [];
      let size = 0;
      let name = '';
      for await (const r of reqs) {
        if (r.name && !name) name = r.name.slice(0, 200);
        size += r.data.byteLength;
        if (size > d.limits.maxUploadBytes) {
          throw new ConnectError(
            `upload exceeds the limit of ${d.limits.maxUploadBytes} bytes`,
            Code.ResourceExhausted,
          );
        }
        chunks.push(r.data);
      }
      const digest = d.artifacts.put(Buffer.concat(chunks), name);
      return { digest, sizeBytes: BigInt(size) };
    },
  };
}

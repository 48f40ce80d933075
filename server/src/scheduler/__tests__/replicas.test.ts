import { create } from '@bufbuild/protobuf';
import {
  Deployment_State,
  DeploymentPlanSchema,
  Replica_State,
  ReplicaStatusSchema,
  Worker_Status,
} from '@stratum/proto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { openDb } from '../../store/db';
import { DeploymentRepo } from '../../store/deployments';
import type { WorkerRecord } from '../../store/workers';
import { silentLogger } from '../../util/log';
import { pickReplicaWorker, ReplicaManager, type AutoscalePolicy } from '../replicas';

/** Desired = the plan's initial count, clamped to its bounds: scaling by hand only. */
const fixedPolicy: AutoscalePolicy = {
  decide: (plan) => ({
    desired: Math.min(plan.maxReplicas, Math.max(plan.minReplicas, plan.initialReplicas)),
    state: null,
  }),
};

const worker = (id: string, tier: string, cpus = 2, memoryMb = 2048): WorkerRecord => ({
  id,
  name: id,
  tier,
  status: Worker_Status.READY,
  total: { cpus, memoryMb, gpus: 0 },
  labels: {},
  versions: {},
  trainers: [],
  joinedAt: 0,
  lastSeen: 0,
});

function setup(workers: WorkerRecord[]) {
  const repo = new DeploymentRepo(openDb(join(mkdtempSync(join(tmpdir(), 'stratum-replicas-')), 'db.sqlite')));
  const live = new Set(workers.map((w) => w.id));
  const woken: string[] = [];
  const clock = {
    t: 1000,
    now() {
      return this.t;
    },
  };
  const m = new ReplicaManager({
    repo,
    workers: () => workers,
    isLive: (id) => live.has(id),
    trialUsage: () => new Map(),
    wakeWorker: (id) => woken.push(id),
    autoscaler: fixedPolicy,
    clock,
    log: silentLogger(),
  });
  return { repo, m, live, woken, clock };
}

const plan = (over: Partial<Parameters<typeof create<typeof DeploymentPlanSchema>>[1]> = {}) =>
  create(DeploymentPlanSchema, {
    name: 'penguins',
    modelName: 'penguins',
    modelVersion: 1,
    modelDigest: 'sha256:' + 'b'.repeat(64),
    tier: 'edge',
    minReplicas: 1,
    maxReplicas: 4,
    initialReplicas: 2,
    resources: { cpus: 0.5, memoryMb: 256n, gpus: 0 },
    maxBatchSize: 8,
    ...over,
  });

const ready = (id: string, url: string) => create(ReplicaStatusSchema, { replicaId: id, state: 'ready', url });

describe('ReplicaManager', () => {
  it('spreads replicas over the tier, serves them in routes once ready, and reports the state', () => {
    const { m, repo, woken } = setup([worker('w1', 'edge'), worker('w2', 'edge'), worker('c1', 'cloud')]);
    m.create(plan());
    const replicas = repo.replicas('penguins');
    expect(replicas.map((r) => r.worker_id).sort()).toEqual(['w1', 'w2']);
    expect(woken.sort()).toEqual(['w1', 'w2']);
    expect(m.routingTable().routes[0]!.targets).toEqual([]);
    const [a1] = m.assignmentsFor('w1');
    expect(a1!.modelDigest).toMatch(/^sha256:/);
    m.onHeartbeat('w1', [ready(a1!.replicaId, 'http://127.0.0.1:9001')]);
    expect(repo.row('penguins')!.state).toBe(Deployment_State.DEGRADED);
    const [a2] = m.assignmentsFor('w2');
    m.onHeartbeat('w2', [ready(a2!.replicaId, 'http://127.0.0.1:9002')]);
    expect(repo.row('penguins')!.state).toBe(Deployment_State.READY);
    expect(
      m
        .routingTable()
        .routes[0]!.targets.map((t) => t.url)
        .sort(),
    ).toEqual(['http://127.0.0.1:9001', 'http://127.0.0.1:9002']);
  });

  it('moves the replicas of a lost worker to another worker of the tier', () => {
    const { m, repo, live } = setup([worker('w1', 'edge'), worker('w2', 'edge'), worker('w3', 'edge')]);
    m.create(plan({ initialReplicas: 1 }));
    const first = repo.replicas('penguins')[0]!;
    live.delete(first.worker_id);
    m.reconcileAll();
    const after = repo.replicas('penguins');
    expect(after).toHaveLength(1);
    expect(after[0]!.worker_id).not.toBe(first.worker_id);
    expect(repo.events('penguins').map((e) => e.kind)).toEqual(
      expect.arrayContaining(['replica-lost', 'replica-moved']),
    );
  });

  it('falls back to another tier when the plan allows it, and waits for capacity otherwise', () => {
    const small = [worker('e1', 'edge', 0.25, 128), worker('f1', 'fog')];
    const withFallback = setup(small);
    withFallback.m.create(plan({ initialReplicas: 1, fallbackTiers: ['fog'] }));
    expect(withFallback.repo.replicas('penguins')[0]!.worker_id).toBe('f1');
    const without = setup(small);
    without.m.create(plan({ initialReplicas: 1 }));
    expect(without.repo.replicas('penguins')).toHaveLength(0);
    expect(without.repo.row('penguins')!.state_reason).toMatch(/waiting for capacity on edge/);
  });

  it("moves a lost worker's replica to a fallback tier, and the event says so", () => {
    const { m, repo, live } = setup([worker('e1', 'edge'), worker('f1', 'fog')]);
    m.create(plan({ initialReplicas: 1, fallbackTiers: ['fog'] }));
    expect(repo.replicas('penguins')[0]!.worker_id).toBe('e1');
    live.delete('e1');
    m.reconcileAll();
    expect(repo.replicas('penguins').map((r) => r.worker_id)).toEqual(['f1']);
    const moved = repo.events('penguins').find((e) => e.kind === 'replica-moved')!;
    expect(moved.message).toMatch(/on f1, fallback tier fog \(no room on edge\)/);
  });

  it("keeps a replica over its tier's memory with the reason, instead of replacing it in a loop", () => {
    const { m, repo } = setup([worker('e1', 'edge')]);
    m.create(plan({ initialReplicas: 1 }));
    const r = repo.replicas('penguins')[0]!;
    const reason = "does not fit: reached 180 MiB, over the tier's 128 MiB memory";
    m.onHeartbeat('e1', [create(ReplicaStatusSchema, { replicaId: r.id, state: 'unavailable', reason })]);
    m.reconcileAll();
    m.reconcileAll();
    expect(repo.replicas('penguins').map((x) => x.id)).toEqual([r.id]);
    expect(repo.row('penguins')!.state).toBe(Deployment_State.DEGRADED);
    expect(repo.row('penguins')!.state_reason).toBe(`replica ${r.id} on e1: ${reason}`);
    expect(repo.events('penguins').filter((e) => e.kind === 'replica-does-not-fit')).toHaveLength(1);
  });

  it('drains replicas beyond the goal, then removes them', () => {
    const { m, repo, clock } = setup([worker('w1', 'edge'), worker('w2', 'edge')]);
    m.create(plan({ initialReplicas: 2 }));
    m.scale('penguins', 1, 1);
    const states = repo.replicas('penguins').map((r) => r.state);
    expect(states.filter((s) => s === Replica_State.DRAINING)).toHaveLength(1);
    clock.t += 5000;
    m.reconcileAll();
    expect(repo.replicas('penguins')).toHaveLength(1);
  });

  it('streams the routing table to gateways as it changes', async () => {
    const { m } = setup([worker('w1', 'edge')]);
    const ac = new AbortController();
    const it = m.watchRoutes(ac.signal)[Symbol.asyncIterator]();
    expect((await it.next()).value!.routes).toEqual([]);
    m.create(plan({ initialReplicas: 1 }));
    const added = (await it.next()).value!;
    expect(added.routes.map((r) => [r.deployment, r.scaledToZero])).toEqual([['penguins', true]]);
    const [a] = m.assignmentsFor('w1');
    const next = it.next();
    m.onHeartbeat('w1', [ready(a!.replicaId, 'http://127.0.0.1:9009')]);
    const table = (await next).value!;
    expect(table.routes[0]!.targets[0]!.url).toBe('http://127.0.0.1:9009');
    expect(table.generation).toBeGreaterThan(added.generation);
    ac.abort();
  });

  it('places on the worker with the fewest replicas of the deployment, then the most free cpu', () => {
    const c = (id: string, used: number, same: number) => ({
      id,
      tier: 'edge',
      total: { cpus: 4, memoryMb: 4096, gpus: 0 },
      used: { cpus: used, memoryMb: 0, gpus: 0 },
      same,
    });
    const need = { cpus: 1, memoryMb: 256, gpus: 0 };
    expect(pickReplicaWorker(['edge'], [c('a', 0, 1), c('b', 3, 0)], need)).toBe('b');
    expect(pickReplicaWorker(['edge'], [c('a', 1, 0), c('b', 0, 0)], need)).toBe('b');
    expect(pickReplicaWorker(['edge'], [c('a', 3.5, 0)], need)).toBeUndefined();
  });
});

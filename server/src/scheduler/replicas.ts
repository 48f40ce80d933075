/**
 * The deployment reconciler: for every deployment, compare the goal (desired replicas, from
 * the autoscaler) with what runs (replicas the workers report) and close the gap, one
 * idempotent `reconcile()` per tick, in numbered steps.
 *
 * Workers learn their goal state from heartbeat responses (woken early through their lease
 * poll when it changes) and report the actual state back in the next heartbeat. Gateways get
 * the routing table (ready replicas only) as a stream and report load for the autoscaler.
 */
import { create } from '@bufbuild/protobuf';
import {
  Deployment_State,
  Replica_State,
  ReplicaAssignmentSchema,
  ResourcesSchema,
  RouteSchema,
  RouteTargetSchema,
  RoutingTableSchema,
  type DeploymentLoad,
  type DeploymentPlan,
  type ReplicaAssignment,
  type ReplicaStatus,
  type RoutingTable,
} from '@stratum/proto';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';

import type { DeploymentRepo, DeploymentRow, Load, ReplicaRow } from '../store/deployments';
import type { ResourceAmounts, WorkerRecord } from '../store/workers';
import type { Logger } from '../util/log';
import type { Clock } from './controller';
import { addResources, doesNotFit, fits, freeOf, NO_RESOURCES } from './placement';

/** The autoscaling policy, injected: a pure function of plan, state, load and time. */
export interface AutoscalePolicy {
  decide(
    plan: DeploymentPlan,
    state: unknown,
    load: AggregatedLoad | undefined,
    now: number,
  ): { desired: number; state: unknown; event?: { kind: string; message: string } };
}

export interface AggregatedLoad extends Load {
  readonly buffered: number;
  readonly p95Ms: number;
  readonly requests: number;
  readonly at: number;
  readonly coldStartMs: readonly number[];
}

export interface ReplicaManagerDeps {
  readonly repo: DeploymentRepo;
  readonly workers: () => readonly WorkerRecord[];
  readonly isLive: (workerId: string) => boolean;
  /** Resources trials hold per worker. */
  readonly trialUsage: () => ReadonlyMap<string, { used: ResourceAmounts }>;
  /** Tells a worker its replica goal state changed (answers its lease poll). */
  readonly wakeWorker: (workerId: string) => void;
  readonly autoscaler: AutoscalePolicy;
  readonly clock: Clock;
  readonly log: Logger;
  readonly drainMs?: number;
  /** Hashes of the enabled API keys per deployment, sent with the routes of keyed deployments. */
  readonly keyHashes?: () => ReadonlyMap<string, readonly string[]>;
}

const STATE_OF_STATUS: Record<string, Replica_State> = {
  loading: Replica_State.LOADING,
  ready: Replica_State.READY,
  unavailable: Replica_State.UNAVAILABLE,
  draining: Replica_State.DRAINING,
};

export function replicaNeed(plan: DeploymentPlan): ResourceAmounts {
  return {
    cpus: plan.resources?.cpus ?? 0.5,
    memoryMb: Number(plan.resources?.memoryMb ?? 256n),
    gpus: plan.resources?.gpus ?? 0,
  };
}

/**
 * Where a new replica goes, pure: a live worker of the first tier (then fallbacks) that fits
 * it, preferring the worker with the fewest replicas of this deployment, then the most free cpu.
 */
export function pickReplicaWorker(
  tiers: readonly string[],
  candidates: ReadonlyArray<{ id: string; tier: string; total: ResourceAmounts; used: ResourceAmounts; same: number }>,
  need: ResourceAmounts,
): string | undefined {
  for (const tier of tiers) {
    const fitting = candidates.filter((c) => c.tier === tier && fits(need, freeOf(c)));
    fitting.sort((a, b) => a.same - b.same || freeOf(b).cpus - freeOf(a).cpus);
    if (fitting[0]) return fitting[0].id;
  }
  return undefined;
}

export class ReplicaManager {
  private readonly loads = new Map<string, Map<string, AggregatedLoad & { gatewayId: string }>>();
  private readonly autoscalerState = new Map<string, unknown>();
  /** Replicas lost and not yet replaced, per deployment: their replacements are moves. */
  private readonly toMove = new Map<string, number>();
  private readonly routes = new EventEmitter();
  private generation = 0n;
  private lastRoutes = '';

  constructor(private readonly d: ReplicaManagerDeps) {
    this.routes.setMaxListeners(0);
  }

  // ---- inputs ------------------------------------------------------------------------------

  /** A worker's heartbeat: record the replicas' actual state, answer with its goal state. */
  onHeartbeat(workerId: string, statuses: readonly ReplicaStatus[]): ReplicaAssignment[] {
    const now = this.d.clock.now();
    let changed = false;
    for (const s of statuses) {
      const row = this.d.repo.replicas().find((r) => r.id === s.replicaId);
      if (!row || row.worker_id !== workerId || row.state === Replica_State.DRAINING) continue;
      const state = STATE_OF_STATUS[s.state] ?? Replica_State.UNAVAILABLE;
      if (state === row.state && s.url === row.url && s.pid === (row.pid ?? 0)) continue;
      const fields: Partial<ReplicaRow> = { state, url: s.url, reason: s.reason, pid: s.pid };
      if (state === Replica_State.READY && !row.ready_at) {
        fields.ready_at = now;
        this.d.repo.addEvent(
          row.deployment,
          now,
          'replica-ready',
          `replica ${row.id} ready on ${workerId} in ${now - row.started_at} ms`,
        );
      }
      if (state === Replica_State.UNAVAILABLE) {
        const kind = doesNotFit(s.reason) ? 'replica-does-not-fit' : 'replica-failed';
        this.d.repo.addEvent(row.deployment, now, kind, `replica ${row.id} on ${workerId}: ${s.reason}`);
      }
      this.d.repo.updateReplica(row.id, fields);
      changed = true;
    }
    if (changed) this.reconcileAll();
    return this.assignmentsFor(workerId);
  }

  onGatewayLoad(gatewayId: string, loads: readonly DeploymentLoad[]): void {
    const now = this.d.clock.now();
    let wake = false;
    for (const l of loads) {
      const byGateway = this.loads.get(l.deployment) ?? new Map();
      byGateway.set(gatewayId, {
        gatewayId,
        requestsPerSecond: l.requestsPerSecond,
        inflight: l.inflight,
        buffered: l.buffered,
        p50Ms: l.p50Ms,
        p95Ms: l.p95Ms,
        p99Ms: l.p99Ms,
        requests: Number(l.requests),
        at: now,
        coldStartMs: l.coldStartMs,
      });
      this.loads.set(l.deployment, byGateway);
      for (const ms of l.coldStartMs) {
        this.d.repo.addEvent(
          l.deployment,
          now,
          'cold-start',
          `first response after scale-from-zero in ${ms.toFixed(0)} ms`,
        );
      }
      if (l.buffered > 0) wake = true;
    }
    // Requests are waiting for a replica: do not wait for the next tick.
    if (wake) this.reconcileAll();
  }

  // ---- goal state ---------------------------------------------------------------------------

  create(plan: DeploymentPlan): void {
    const now = this.d.clock.now();
    this.d.repo.insert(plan, plan.initialReplicas, now);
    this.d.repo.addEvent(
      plan.name,
      now,
      'created',
      `model ${plan.modelName}:${plan.modelVersion} on ${plan.tier}, ${plan.initialReplicas} replica(s) to start`,
    );
    this.reconcileAll();
  }

  scale(name: string, min: number, max: number): void {
    const row = this.d.repo.row(name);
    if (!row) return;
    const plan = this.d.repo.plan(row);
    plan.minReplicas = min;
    plan.maxReplicas = max;
    const desired = Math.min(max, Math.max(min, row.desired));
    this.d.repo.updatePlan(name, plan);
    this.d.repo.update(name, { min_replicas: min, max_replicas: max, desired });
    this.d.repo.addEvent(name, this.d.clock.now(), 'scaled', `bounds set to min ${min}, max ${max}`);
    this.reconcileAll();
  }

  remove(name: string): void {
    const workers = new Set(this.d.repo.replicas(name).map((r) => r.worker_id));
    this.d.repo.addEvent(name, this.d.clock.now(), 'deleted', 'undeployed');
    this.d.repo.remove(name);
    this.autoscalerState.delete(name);
    this.loads.delete(name);
    this.toMove.delete(name);
    for (const w of workers) this.d.wakeWorker(w);
    this.publishRoutes();
  }

  // ---- reconciliation -------------------------------------------------------------------------

  reconcileAll(): void {
    for (const row of this.d.repo.rows()) this.reconcile(row);
    this.publishRoutes();
  }

  /** Replicas' resources per worker (what trials cannot use). */
  replicaUsage(): Map<string, ResourceAmounts> {
    const out = new Map<string, ResourceAmounts>();
    const plans = new Map(this.d.repo.rows().map((r) => [r.name, replicaNeed(this.d.repo.plan(r))]));
    for (const r of this.d.repo.replicas()) {
      const need = plans.get(r.deployment) ?? NO_RESOURCES;
      out.set(r.worker_id, addResources(out.get(r.worker_id) ?? NO_RESOURCES, need));
    }
    return out;
  }

  load(name: string): AggregatedLoad | undefined {
    const byGateway = this.loads.get(name);
    if (!byGateway || byGateway.size === 0) return undefined;
    const all = [...byGateway.values()];
    return {
      requestsPerSecond: all.reduce((a, l) => a + l.requestsPerSecond, 0),
      inflight: all.reduce((a, l) => a + l.inflight, 0),
      buffered: all.reduce((a, l) => a + l.buffered, 0),
      requests: all.reduce((a, l) => a + l.requests, 0),
      p50Ms: Math.max(...all.map((l) => l.p50Ms)),
      p95Ms: Math.max(...all.map((l) => l.p95Ms)),
      p99Ms: Math.max(...all.map((l) => l.p99Ms)),
      at: Math.max(...all.map((l) => l.at)),
      coldStartMs: all.flatMap((l) => l.coldStartMs),
    };
  }

  private reconcile(row: DeploymentRow): void {
    const now = this.d.clock.now();
    const plan = this.d.repo.plan(row);
    const name = row.name;
    const event = (kind: string, message: string) => this.d.repo.addEvent(name, now, kind, message);

    // 1. The autoscaler's goal.
    const load = this.load(name);
    const state = this.autoscalerState.has(name) ? this.autoscalerState.get(name) : JSON.parse(row.autoscaler_json);
    const decision = this.d.autoscaler.decide(plan, state, load, now);
    this.autoscalerState.set(name, decision.state);
    if (decision.event) event(decision.event.kind, decision.event.message);
    const desired = decision.desired;

    // 2. Replicas on workers that are gone, or that failed, are removed (and replaced below).
    for (const r of this.d.repo.replicas(name)) {
      if (!this.d.isLive(r.worker_id)) {
        event('replica-lost', `worker ${r.worker_id} lost; replica ${r.id} will be moved`);
        this.d.repo.removeReplica(r.id);
        this.toMove.set(name, (this.toMove.get(name) ?? 0) + 1);
      } else if (r.state === Replica_State.UNAVAILABLE && !doesNotFit(r.reason)) {
        // A failed replica is replaced; one over its tier's memory is kept with its reason
        // (below), since a replacement would not fit either.
        this.d.repo.removeReplica(r.id);
        this.d.wakeWorker(r.worker_id);
      } else if (r.state === Replica_State.DRAINING && now - r.ready_at >= (this.d.drainMs ?? 2000)) {
        // ready_at holds the drain start for draining replicas.
        this.d.repo.removeReplica(r.id);
        this.d.wakeWorker(r.worker_id);
      }
    }
    const active = this.d.repo.replicas(name).filter((r) => r.state !== Replica_State.DRAINING);

    // 3. Too few: place new replicas on the tier's workers (then fallback tiers).
    let waiting = '';
    for (let n = active.length; n < desired; n++) {
      const workerId = this.place(plan, name);
      if (!workerId) {
        waiting = `waiting for capacity on ${[plan.tier, ...plan.fallbackTiers].join(', ')}`;
        break;
      }
      const id = `r-${randomUUID().slice(0, 8)}`;
      this.d.repo.insertReplica({
        id,
        deployment: name,
        worker_id: workerId,
        state: Replica_State.LOADING,
        url: '',
        reason: '',
        started_at: now,
        ready_at: 0,
      });
      const moves = this.toMove.get(name) ?? 0;
      if (moves > 0) this.toMove.set(name, moves - 1);
      const tier = this.d.workers().find((w) => w.id === workerId)?.tier ?? plan.tier;
      const where = tier === plan.tier ? `tier ${tier}` : `fallback tier ${tier} (no room on ${plan.tier})`;
      event(moves > 0 ? 'replica-moved' : 'replica-started', `replica ${id} on ${workerId}, ${where}`);
      this.d.wakeWorker(workerId);
    }

    // 4. Too many: drain the newest first (least warmed up); the gateway stops routing to them now.
    const surplus = active.length - desired;
    if (surplus > 0) {
      const victims = active
        .slice()
        .sort((a, b) => b.started_at - a.started_at)
        .slice(0, surplus);
      for (const v of victims) {
        this.d.repo.updateReplica(v.id, { state: Replica_State.DRAINING, ready_at: now });
        event('replica-draining', `replica ${v.id} on ${v.worker_id}`);
      }
    }

    // 5. The deployment's own state, for people.
    const ready = this.d.repo.replicas(name).filter((r) => r.state === Replica_State.READY).length;
    const unfit = this.d.repo.replicas(name).find((r) => r.state === Replica_State.UNAVAILABLE && doesNotFit(r.reason));
    const next =
      desired === 0
        ? Deployment_State.SCALED_TO_ZERO
        : ready >= desired
          ? Deployment_State.READY
          : ready === 0 && row.state === Deployment_State.PENDING && !unfit
            ? Deployment_State.PENDING
            : Deployment_State.DEGRADED;
    const reason =
      waiting ||
      (unfit ? `replica ${unfit.id} on ${unfit.worker_id}: ${unfit.reason}` : `${ready}/${desired} replicas ready`);
    if (next !== row.state || reason !== row.state_reason || desired !== row.desired) {
      this.d.repo.update(name, {
        state: next,
        state_reason: reason,
        desired,
        autoscaler_json: JSON.stringify(decision.state ?? null),
      });
    }
  }

  private place(plan: DeploymentPlan, deployment: string): string | undefined {
    const trial = this.d.trialUsage();
    const replicaUse = this.replicaUsage();
    const same = new Map<string, number>();
    for (const r of this.d.repo.replicas(deployment)) same.set(r.worker_id, (same.get(r.worker_id) ?? 0) + 1);
    const candidates = this.d
      .workers()
      .filter((w) => this.d.isLive(w.id))
      .map((w) => ({
        id: w.id,
        tier: w.tier,
        total: w.total,
        used: addResources(trial.get(w.id)?.used ?? NO_RESOURCES, replicaUse.get(w.id) ?? NO_RESOURCES),
        same: same.get(w.id) ?? 0,
      }));
    return pickReplicaWorker([plan.tier, ...plan.fallbackTiers], candidates, replicaNeed(plan));
  }

  assignmentsFor(workerId: string): ReplicaAssignment[] {
    const plans = new Map(this.d.repo.rows().map((r) => [r.name, this.d.repo.plan(r)]));
    return this.d.repo
      .replicas()
      .filter((r) => r.worker_id === workerId && plans.has(r.deployment))
      .map((r) => {
        const p = plans.get(r.deployment)!;
        return create(ReplicaAssignmentSchema, {
          replicaId: r.id,
          deployment: r.deployment,
          modelName: p.modelName,
          modelVersion: p.modelVersion,
          modelDigest: p.modelDigest,
          maxBatchSize: p.maxBatchSize,
          maxQueueDelayMs: p.maxQueueDelayMs,
          resources: create(ResourcesSchema, p.resources ?? {}),
        });
      });
  }

  // ---- routes for gateways -----------------------------------------------------------------

  routingTable(): RoutingTable {
    const hashes = this.d.keyHashes?.() ?? new Map<string, readonly string[]>();
    const routes = this.d.repo.rows().map((row) => {
      const plan = this.d.repo.plan(row);
      const targets = this.d.repo
        .replicas(row.name)
        .filter((r) => r.state === Replica_State.READY && r.url)
        .map((r) => create(RouteTargetSchema, { replicaId: r.id, url: r.url }));
      return create(RouteSchema, {
        deployment: row.name,
        modelName: plan.modelName,
        modelVersion: plan.modelVersion,
        targets,
        scaledToZero: targets.length === 0,
        requireKey: plan.requireKey,
        keyHashes: plan.requireKey ? [...(hashes.get(row.name) ?? [])] : [],
      });
    });
    return create(RoutingTableSchema, { routes, generation: this.generation });
  }

  private publishRoutes(): void {
    const table = this.routingTable();
    const key = JSON.stringify(table.routes.map((r) => [r.deployment, r.targets.map((t) => t.url), r.keyHashes]));
    if (key === this.lastRoutes) return;
    this.lastRoutes = key;
    this.generation++;
    this.routes.emit('routes');
  }

  /** A deployment's API keys changed: gateways get the new hashes with the next table. */
  keysChanged(): void {
    this.publishRoutes();
  }

  /** The current table, then the table after every change, until the signal aborts. */
  async *watchRoutes(signal: AbortSignal): AsyncGenerator<RoutingTable> {
    let wake: (() => void) | undefined;
    const onChange = (): void => wake?.();
    this.routes.on('routes', onChange);
    signal.addEventListener('abort', onChange, { once: true });
    try {
      let sent = -1n;
      while (!signal.aborted) {
        if (sent !== this.generation) {
          sent = this.generation;
          yield this.routingTable();
          continue;
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      this.routes.off('routes', onChange);
    }
  }
}

/** Deployments, their replicas and their event log in SQLite, read back as stratum/v1 types. */
import { create, fromJsonString, toJsonString } from '@bufbuild/protobuf';
import {
  DeploymentEventSchema,
  DeploymentPlanSchema,
  DeploymentSchema,
  Deployment_State,
  Replica_State,
  ReplicaSchema,
  type Deployment,
  type DeploymentEvent,
  type DeploymentPlan,
} from '@stratum/proto';

import type { Db } from './db';

export interface DeploymentRow {
  name: string;
  plan_json: string;
  state: Deployment_State;
  state_reason: string;
  desired: number;
  min_replicas: number;
  max_replicas: number;
  created_at: number;
  autoscaler_json: string;
}

export interface ReplicaRow {
  id: string;
  deployment: string;
  worker_id: string;
  state: Replica_State;
  url: string;
  reason: string;
  started_at: number;
  ready_at: number;
  pid?: number;
}

export interface Load {
  readonly requestsPerSecond: number;
  readonly inflight: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export class DeploymentRepo {
  constructor(private readonly db: Db) {}

  insert(plan: DeploymentPlan, desired: number, now: number): void {
    this.db
      .prepare(
        `INSERT INTO deployments (name, plan_json, state, desired, min_replicas, max_replicas, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        plan.name,
        toJsonString(DeploymentPlanSchema, plan),
        Deployment_State.PENDING,
        desired,
        plan.minReplicas,
        plan.maxReplicas,
        now,
      );
  }

  row(name: string): DeploymentRow | undefined {
    return this.db.prepare('SELECT * FROM deployments WHERE name = ?').get(name) as DeploymentRow | undefined;
  }

  rows(): DeploymentRow[] {
    return this.db.prepare('SELECT * FROM deployments ORDER BY created_at').all() as DeploymentRow[];
  }

  plan(row: DeploymentRow): DeploymentPlan {
    return fromJsonString(DeploymentPlanSchema, row.plan_json);
  }

  updatePlan(name: string, plan: DeploymentPlan): void {
    this.update(name, { plan_json: toJsonString(DeploymentPlanSchema, plan) });
  }

  update(name: string, fields: Partial<DeploymentRow>): void {
    const keys = Object.keys(fields);
    if (keys.length === 0) return;
    this.db.prepare(`UPDATE deployments SET ${keys.map((k) => `${k} = @${k}`).join(', ')} WHERE name = @name`).run({
      ...fields,
      name,
    });
  }

  /** Removes the deployment with its replicas; the event log stays for `stratum logs`. */
  remove(name: string): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM replicas WHERE deployment = ?').run(name);
      this.db.prepare('DELETE FROM deployments WHERE name = ?').run(name);
    })();
  }

  replicas(deployment?: string): ReplicaRow[] {
    return (
      deployment
        ? this.db.prepare('SELECT * FROM replicas WHERE deployment = ? ORDER BY started_at').all(deployment)
        : this.db.prepare('SELECT * FROM replicas ORDER BY started_at').all()
    ) as ReplicaRow[];
  }

  insertReplica(r: ReplicaRow): void {
    this.db
      .prepare(
        `INSERT INTO replicas (id, deployment, worker_id, state, url, reason, started_at, ready_at, pid)
         VALUES (@id, @deployment, @worker_id, @state, @url, @reason, @started_at, @ready_at, @pid)`,
      )
      .run({ pid: 0, ...r });
  }

  updateReplica(id: string, fields: Partial<ReplicaRow>): void {
    const keys = Object.keys(fields);
    if (keys.length === 0) return;
    this.db.prepare(`UPDATE replicas SET ${keys.map((k) => `${k} = @${k}`).join(', ')} WHERE id = @id`).run({
      ...fields,
      id,
    });
  }

  removeReplica(id: string): void {
    this.db.prepare('DELETE FROM replicas WHERE id = ?').run(id);
  }

  addEvent(deployment: string, at: number, kind: string, message: string): void {
    this.db
      .prepare('INSERT INTO deployment_events (deployment, at, kind, message) VALUES (?, ?, ?, ?)')
      .run(deployment, at, kind, message);
  }

  events(deployment: string, limit = 50): DeploymentEvent[] {
    const rows = this.db
      .prepare('SELECT at, kind, message FROM deployment_events WHERE deployment = ? ORDER BY id DESC LIMIT ?')
      .all(deployment, limit) as { at: number; kind: string; message: string }[];
    return rows
      .reverse()
      .map((e) => create(DeploymentEventSchema, { atMs: BigInt(e.at), kind: e.kind, message: e.message }));
  }

  toDeployment(row: DeploymentRow, endpoint: string, load: Load | undefined): Deployment {
    return create(DeploymentSchema, {
      name: row.name,
      plan: this.plan(row),
      state: row.state,
      stateReason: row.state_reason,
      desiredReplicas: row.desired,
      replicas: this.replicas(row.name).map((r) =>
        create(ReplicaSchema, {
          id: r.id,
          workerId: r.worker_id,
          url: r.url,
          state: r.state,
          reason: r.reason,
          startedAtMs: BigInt(r.started_at),
          readyAtMs: BigInt(r.ready_at),
          pid: r.pid ?? 0,
        }),
      ),
      endpoint,
      events: this.events(row.name),
      createdAtMs: BigInt(row.created_at),
      requestsPerSecond: load?.requestsPerSecond ?? 0,
      inflight: load?.inflight ?? 0,
      p50Ms: load?.p50Ms ?? 0,
      p99Ms: load?.p99Ms ?? 0,
    });
  }
}

/** Workers that joined, persisted so they keep their identity across control plane restarts. */
import { create } from '@bufbuild/protobuf';
import { ResourcesSchema, WorkerSchema, Worker_Status, type Worker } from '@stratum/proto';

import type { Db } from './db';

export interface ResourceAmounts {
  cpus: number;
  memoryMb: number;
  gpus: number;
}

export interface WorkerRow {
  id: string;
  name: string;
  tier: string;
  status: Worker_Status;
  resources_json: string;
  labels_json: string;
  versions_json: string;
  trainers_json: string;
  joined_at: number;
  last_seen: number;
}

export interface WorkerRecord {
  readonly id: string;
  readonly name: string;
  readonly tier: string;
  readonly status: Worker_Status;
  readonly total: ResourceAmounts;
  readonly labels: Record<string, string>;
  readonly versions: Record<string, string>;
  readonly trainers: readonly string[];
  readonly joinedAt: number;
  readonly lastSeen: number;
}

export class WorkerRepo {
  constructor(private readonly db: Db) {}

  upsert(w: WorkerRecord): void {
    this.db
      .prepare(
        `INSERT INTO workers (id, name, tier, status, resources_json, labels_json, versions_json, trainers_json, joined_at, last_seen)
         VALUES (@id, @name, @tier, @status, @resources, @labels, @versions, @trainers, @joinedAt, @lastSeen)
         ON CONFLICT(id) DO UPDATE SET name = @name, tier = @tier, status = @status, resources_json = @resources,
           labels_json = @labels, versions_json = @versions, trainers_json = @trainers, joined_at = @joinedAt, last_seen = @lastSeen`,
      )
      .run({
        ...w,
        resources: JSON.stringify(w.total),
        labels: JSON.stringify(w.labels),
        versions: JSON.stringify(w.versions),
        trainers: JSON.stringify(w.trainers),
      });
  }

  setStatus(id: string, status: Worker_Status, lastSeen?: number): void {
    if (lastSeen === undefined) this.db.prepare('UPDATE workers SET status = ? WHERE id = ?').run(status, id);
    else this.db.prepare('UPDATE workers SET status = ?, last_seen = ? WHERE id = ?').run(status, lastSeen, id);
  }

  get(id: string): WorkerRecord | undefined {
    const row = this.db.prepare('SELECT * FROM workers WHERE id = ?').get(id) as WorkerRow | undefined;
    return row ? fromRow(row) : undefined;
  }

  all(): WorkerRecord[] {
    return (this.db.prepare('SELECT * FROM workers ORDER BY joined_at').all() as WorkerRow[]).map(fromRow);
  }
}

function fromRow(row: WorkerRow): WorkerRecord {
  return {
    id: row.id,
    name: row.name,
    tier: row.tier,
    status: row.status,
    total: JSON.parse(row.resources_json) as ResourceAmounts,
    labels: JSON.parse(row.labels_json) as Record<string, string>,
    versions: JSON.parse(row.versions_json) as Record<string, string>,
    trainers: JSON.parse(row.trainers_json) as string[],
    joinedAt: row.joined_at,
    lastSeen: row.last_seen,
  };
}

export function toResources(r: ResourceAmounts) {
  return create(ResourcesSchema, { cpus: r.cpus, memoryMb: BigInt(Math.round(r.memoryMb)), gpus: r.gpus });
}

export function toWorker(w: WorkerRecord, used: ResourceAmounts, running: readonly string[]): Worker {
  return create(WorkerSchema, {
    id: w.id,
    name: w.name,
    tier: w.tier,
    status: w.status,
    total: toResources(w.total),
    used: toResources(used),
    labels: w.labels,
    versions: w.versions,
    joinedAtMs: BigInt(w.joinedAt),
    lastSeenMs: BigInt(w.lastSeen),
    runningTrialIds: [...running],
    trainers: [...w.trainers],
  });
}

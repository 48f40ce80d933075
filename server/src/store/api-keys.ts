/** API keys of deployments in SQLite: hashes only, read back as stratum/v1 `ApiKey`. */
import { create } from '@bufbuild/protobuf';
import { ApiKeySchema, type ApiKey } from '@stratum/proto';

import type { Db } from './db';

interface ApiKeyRow {
  id: string;
  deployment: string;
  label: string;
  hash: string;
  created_at: number;
  revoked_at: number;
}

const toApiKey = (r: ApiKeyRow): ApiKey =>
  create(ApiKeySchema, {
    id: r.id,
    deployment: r.deployment,
    label: r.label,
    createdAtMs: BigInt(r.created_at),
    revokedAtMs: BigInt(r.revoked_at),
  });

export class ApiKeyRepo {
  constructor(private readonly db: Db) {}

  insert(k: { id: string; deployment: string; label: string; hash: string }, now: number): ApiKey {
    this.db
      .prepare('INSERT INTO api_keys (id, deployment, label, hash, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(k.id, k.deployment, k.label, k.hash, now);
    return this.get(k.deployment, k.id)!;
  }

  get(deployment: string, id: string): ApiKey | undefined {
    const row = this.db.prepare('SELECT * FROM api_keys WHERE deployment = ? AND id = ?').get(deployment, id) as
      | ApiKeyRow
      | undefined;
    return row && toApiKey(row);
  }

  list(deployment: string): ApiKey[] {
    const rows = this.db
      .prepare('SELECT * FROM api_keys WHERE deployment = ? ORDER BY created_at, id')
      .all(deployment) as ApiKeyRow[];
    return rows.map(toApiKey);
  }

  /** Hashes of the keys not revoked, per deployment: what gateways check against. */
  enabledHashes(): Map<string, string[]> {
    const rows = this.db.prepare('SELECT deployment, hash FROM api_keys WHERE revoked_at = 0 ORDER BY id').all() as {
      deployment: string;
      hash: string;
    }[];
    const out = new Map<string, string[]>();
    for (const r of rows) out.set(r.deployment, [...(out.get(r.deployment) ?? []), r.hash]);
    return out;
  }

  /** Marks the key revoked (kept for the listing); false when it was already. */
  revoke(deployment: string, id: string, now: number): boolean {
    return (
      this.db
        .prepare('UPDATE api_keys SET revoked_at = ? WHERE deployment = ? AND id = ? AND revoked_at = 0')
        .run(now, deployment, id).changes > 0
    );
  }

  /** Deletes a deployment's keys: a later deployment of the same name starts with none. */
  removeAll(deployment: string): void {
    this.db.prepare('DELETE FROM api_keys WHERE deployment = ?').run(deployment);
  }
}

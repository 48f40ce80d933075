/** Profiles stored with their model: the `profiles` table, one row per profile, the profile as proto JSON. */
import { fromJsonString, toJsonString } from '@bufbuild/protobuf';
import { ModelProfileSchema } from '@stratum/proto';

import type { Db } from '../store/db';
import type { ModelProfile } from './types';
import { profileFromWire, profileToWire } from './wire';

interface Row {
  profile_json: string;
}

export class ProfileRepo {
  constructor(private readonly db: Db) {}

  save(p: ModelProfile): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO profiles (id, model_name, model_version, model_digest, created_at, tiers, profile_json)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        p.id,
        p.model.name,
        p.model.version,
        p.model.digest,
        Math.round(p.createdAtMs),
        p.tiers.map((t) => t.tier.name).join(','),
        toJsonString(ModelProfileSchema, profileToWire(p)),
      );
  }

  get(id: string): ModelProfile | undefined {
    const row = this.db.prepare('SELECT profile_json FROM profiles WHERE id = ?').get(id) as Row | undefined;
    return row ? this.parse(row) : undefined;
  }

  /** Newest first; `version` 0 means any version. */
  list(modelName?: string, version = 0): ModelProfile[] {
    const where = [modelName !== undefined ? 'model_name = @name' : '', version > 0 ? 'model_version = @version' : '']
      .filter(Boolean)
      .join(' AND ');
    const rows = this.db
      .prepare(
        `SELECT profile_json FROM profiles ${where ? `WHERE ${where}` : ''} ORDER BY created_at DESC, rowid DESC`,
      )
      .all({ name: modelName ?? '', version }) as Row[];
    return rows.map((r) => this.parse(r));
  }

  /** The newest profile of this model version that measured `tier` (any tier when absent). */
  latest(modelName: string, version: number, tier?: string): ModelProfile | undefined {
    return this.list(modelName, version).find((p) => !tier || p.tiers.some((t) => t.tier.name === tier));
  }

  private parse(row: Row): ModelProfile {
    return profileFromWire(fromJsonString(ModelProfileSchema, row.profile_json, { ignoreUnknownFields: true }));
  }
}

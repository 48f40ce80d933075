/** The model registry: named, versioned models with their lineage. */
import { create } from '@bufbuild/protobuf';
import { LineageSchema, ModelSchema, TensorSpecSchema, type Model } from '@stratum/proto';

import { EMPTY_INFO, type ModelInfo } from './model-info';

import type { Db } from './db';

interface ModelRow {
  name: string;
  version: number;
  format: string;
  digest: string;
  size: number;
  created_at: number;
  metrics_json: string;
  lineage_json: string;
  info_json: string;
  source: string;
  description: string;
}

export interface LineageRecord {
  runId: string;
  trialId: string;
  specHash: string;
  dataHash: string;
  paramsJson: string;
  trainer: string;
  backend: string;
  candidate: string;
  versions: Record<string, string>;
}

export interface NewModel {
  readonly name: string;
  readonly format: string;
  readonly digest: string;
  readonly size: number;
  readonly metrics: Record<string, number>;
  readonly lineage: LineageRecord;
  readonly info: ModelInfo;
  readonly source: 'trained' | 'imported';
  readonly description?: string;
}

export class ModelRepo {
  constructor(private readonly db: Db) {}

  /** Registers the next version of a model name; returns that version. */
  register(m: NewModel, now: number): number {
    return this.db.transaction(() => {
      const { v } = this.db
        .prepare('SELECT COALESCE(MAX(version), 0) + 1 AS v FROM models WHERE name = ?')
        .get(m.name) as {
        v: number;
      };
      this.db
        .prepare(
          `INSERT INTO models (name, version, format, digest, size, created_at, metrics_json, lineage_json, info_json, source, description)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          m.name,
          v,
          m.format,
          m.digest,
          m.size,
          now,
          JSON.stringify(m.metrics),
          JSON.stringify(m.lineage),
          JSON.stringify(m.info),
          m.source,
          m.description ?? '',
        );
      return v;
    })();
  }

  list(name?: string): Model[] {
    const rows = (
      name
        ? this.db.prepare('SELECT * FROM models WHERE name = ? ORDER BY version DESC').all(name)
        : this.db.prepare('SELECT * FROM models ORDER BY created_at DESC, name, version DESC').all()
    ) as ModelRow[];
    return rows.map(toModel);
  }

  /** Version 0 means the latest. */
  get(name: string, version = 0): Model | undefined {
    const row = (
      version > 0
        ? this.db.prepare('SELECT * FROM models WHERE name = ? AND version = ?').get(name, version)
        : this.db.prepare('SELECT * FROM models WHERE name = ? ORDER BY version DESC LIMIT 1').get(name)
    ) as ModelRow | undefined;
    return row ? toModel(row) : undefined;
  }
}

function toModel(row: ModelRow): Model {
  const lineage = JSON.parse(row.lineage_json) as LineageRecord;
  const info: ModelInfo = { ...EMPTY_INFO, ...(JSON.parse(row.info_json) as Partial<ModelInfo>) };
  const tensor = (t: ModelInfo['inputs'][number]) =>
    create(TensorSpecSchema, { name: t.name, datatype: t.datatype, shape: t.shape.map(BigInt) });
  return create(ModelSchema, {
    name: row.name,
    version: row.version,
    format: row.format,
    digest: row.digest,
    sizeBytes: BigInt(row.size),
    createdAtMs: BigInt(row.created_at),
    metrics: JSON.parse(row.metrics_json) as Record<string, number>,
    lineage: create(LineageSchema, lineage),
    inputs: info.inputs.map(tensor),
    outputs: info.outputs.map(tensor),
    source: row.source,
    opset: info.opset,
    producer: info.producer,
    task: info.task,
    classes: [...info.classes],
    recordFields: [...info.recordFields],
    description: row.description,
  });
}

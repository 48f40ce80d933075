/** Runs and trials in SQLite, read back as the wire types of stratum/v1. */
import { create } from '@bufbuild/protobuf';
import {
  BestModelSchema,
  EpochMetricsSchema,
  ResourcesSchema,
  RunSchema,
  State,
  TrialSchema,
  type Resources,
  type Run,
  type Trial,
} from '@stratum/proto';

import type { Db } from './db';

export interface NewRun {
  readonly id: string;
  readonly name: string;
  readonly specYaml: string;
  readonly specFile: string;
  readonly specHash: string;
  readonly specJson: string;
  readonly dataJson: string;
  readonly dataHash: string;
  readonly task: string;
  readonly metric: string;
  readonly goal: string;
  readonly earlyStoppingJson: string;
  readonly createdAt: number;
}

export interface NewTrial {
  readonly id: string;
  readonly index: number;
  readonly candidate: string;
  readonly trainer: string;
  readonly paramsJson: string;
  readonly seed: number;
  readonly resources: { cpus: number; memoryMb: number; gpus: number };
}

/** A trial row with the scheduling fields the wire type does not carry. */
export interface TrialRow {
  id: string;
  run_id: string;
  idx: number;
  candidate: string;
  trainer: string;
  params_json: string;
  seed: number;
  state: State;
  state_reason: string;
  worker_id: string;
  lease_id: string;
  lease_deadline: number;
  attempt: number;
  metrics_json: string;
  progress: number;
  started_at: number;
  finished_at: number;
  resources_json: string;
  history_json: string;
  backend: string;
  model_digest: string;
  model_format: string;
  model_size: number;
  excluded_reason: string;
  stop_requested: number;
}

export interface RunRow {
  id: string;
  name: string;
  state: State;
  state_reason: string;
  spec_yaml: string;
  spec_file: string;
  spec_hash: string;
  spec_json: string;
  data_json: string;
  data_hash: string;
  task: string;
  metric: string;
  goal: string;
  created_at: number;
  started_at: number;
  finished_at: number;
  best_trial_id: string;
  model_name: string;
  model_version: number;
  baseline_json: string;
  early_stopping_json: string;
}

export const TERMINAL: ReadonlySet<State> = new Set([State.SUCCEEDED, State.FAILED, State.CANCELLED]);

export class RunRepo {
  constructor(private readonly db: Db) {}

  insert(run: NewRun, trials: readonly NewTrial[]): void {
    const seq = (this.db.prepare('SELECT COALESCE(MAX(seq), 0) + 1 AS n FROM runs').get() as { n: number }).n;
    const insertRun = this.db.prepare(
      `INSERT INTO runs (id, name, state, spec_yaml, spec_file, spec_hash, spec_json, data_json, data_hash, task, metric, goal,
        early_stopping_json, created_at, seq) VALUES (@id, @name, ${State.PENDING}, @specYaml, @specFile, @specHash, @specJson,
        @dataJson, @dataHash, @task, @metric, @goal, @earlyStoppingJson, @createdAt, @seq)`,
    );
    const insertTrial = this.db.prepare(
      `INSERT INTO trials (id, run_id, idx, candidate, trainer, params_json, seed, state, resources_json)
       VALUES (?, ?, ?, ?, ?, ?, ?, ${State.PENDING}, ?)`,
    );
    this.db.transaction(() => {
      insertRun.run({ ...run, seq });
      for (const t of trials) {
        insertTrial.run(
          t.id,
          run.id,
          t.index,
          t.candidate,
          t.trainer,
          t.paramsJson,
          t.seed,
          JSON.stringify(t.resources),
        );
      }
    })();
  }

  runRow(id: string): RunRow | undefined {
    return this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
  }

  trialRow(id: string): TrialRow | undefined {
    return this.db.prepare('SELECT * FROM trials WHERE id = ?').get(id) as TrialRow | undefined;
  }

  trialRows(runId: string): TrialRow[] {
    return this.db.prepare('SELECT * FROM trials WHERE run_id = ? ORDER BY idx').all(runId) as TrialRow[];
  }

  /** Pending trials in queue order: oldest run first, then trial index. */
  pendingTrials(): TrialRow[] {
    return this.db
      .prepare(
        `SELECT t.* FROM trials t JOIN runs r ON r.id = t.run_id WHERE t.state = ${State.PENDING} ORDER BY r.seq, t.idx`,
      )
      .all() as TrialRow[];
  }

  trialsInState(state: State): TrialRow[] {
    return this.db.prepare('SELECT * FROM trials WHERE state = ?').all(state) as TrialRow[];
  }

  runsInState(state: State): RunRow[] {
    return this.db.prepare('SELECT * FROM runs WHERE state = ?').all(state) as RunRow[];
  }

  updateTrial(id: string, fields: Partial<TrialRow>): void {
    const keys = Object.keys(fields);
    if (keys.length === 0) return;
    const sets = keys.map((k) => `${k} = @${k}`).join(', ');
    this.db.prepare(`UPDATE trials SET ${sets} WHERE id = @id`).run({ ...fields, id });
  }

  updateRun(id: string, fields: Partial<RunRow>): void {
    const keys = Object.keys(fields);
    if (keys.length === 0) return;
    const sets = keys.map((k) => `${k} = @${k}`).join(', ');
    this.db.prepare(`UPDATE runs SET ${sets} WHERE id = @id`).run({ ...fields, id });
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  listRuns(limit: number): Run[] {
    const rows = this.db.prepare('SELECT * FROM runs ORDER BY seq DESC LIMIT ?').all(limit) as RunRow[];
    return rows.map((r) => toRun(r, this.trialRows(r.id)));
  }

  getRun(id: string): Run | undefined {
    const row = this.runRow(id);
    return row ? toRun(row, this.trialRows(id)) : undefined;
  }

  /** Finds a run by id or by unique id prefix (users type short ids). */
  resolveRunId(idOrPrefix: string): string | undefined {
    if (this.runRow(idOrPrefix)) return idOrPrefix;
    const rows = this.db
      .prepare("SELECT id FROM runs WHERE id LIKE ? ESCAPE '\\' LIMIT 2")
      .all(idOrPrefix.replace(/[\\%_]/g, (c) => '\\' + c) + '%') as { id: string }[];
    return rows.length === 1 ? rows[0]!.id : undefined;
  }
}

function resourcesOf(json: string): Resources {
  const r = JSON.parse(json) as { cpus: number; memoryMb: number; gpus: number };
  return create(ResourcesSchema, { cpus: r.cpus, memoryMb: BigInt(r.memoryMb), gpus: r.gpus });
}

export function toTrial(row: TrialRow): Trial {
  const history = JSON.parse(row.history_json) as { epoch: number; metrics: Record<string, number> }[];
  return create(TrialSchema, {
    id: row.id,
    runId: row.run_id,
    index: row.idx,
    candidate: row.candidate,
    trainer: row.trainer,
    paramsJson: row.params_json,
    state: row.state,
    stateReason: row.state_reason,
    workerId: row.worker_id,
    attempt: row.attempt,
    metrics: JSON.parse(row.metrics_json) as Record<string, number>,
    progress: row.progress,
    startedAtMs: BigInt(row.started_at),
    finishedAtMs: BigInt(row.finished_at),
    resources: resourcesOf(row.resources_json),
    history: history.map((h) => create(EpochMetricsSchema, h)),
    backend: row.backend,
    modelSizeBytes: BigInt(row.model_size),
    excludedReason: row.excluded_reason,
  });
}

export function toRun(row: RunRow, trials: readonly TrialRow[]): Run {
  const best = trials.find((t) => t.id === row.best_trial_id);
  return create(RunSchema, {
    id: row.id,
    name: row.name,
    state: row.state,
    stateReason: row.state_reason,
    specYaml: row.spec_yaml,
    specFile: row.spec_file,
    specHash: row.spec_hash,
    dataHash: row.data_hash,
    task: row.task,
    metric: row.metric,
    goal: row.goal,
    createdAtMs: BigInt(row.created_at),
    startedAtMs: BigInt(row.started_at),
    finishedAtMs: BigInt(row.finished_at),
    trials: trials.map(toTrial),
    baseline: JSON.parse(row.baseline_json) as Record<string, number>,
    best: best
      ? create(BestModelSchema, {
          trialId: best.id,
          modelName: row.model_name,
          modelVersion: row.model_version,
          candidate: best.candidate,
          metrics: JSON.parse(best.metrics_json) as Record<string, number>,
          paramsJson: best.params_json,
        })
      : undefined,
  });
}

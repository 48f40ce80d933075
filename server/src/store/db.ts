/** The metadata database: one SQLite file, WAL mode, schema migrated on open. */
import Database from 'better-sqlite3';

// An interface (not an alias) so declaration files can name it.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface Db extends Database.Database {}

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE runs (
     id TEXT PRIMARY KEY, name TEXT NOT NULL, state INTEGER NOT NULL, state_reason TEXT NOT NULL DEFAULT '',
     spec_yaml TEXT NOT NULL, spec_file TEXT NOT NULL, spec_hash TEXT NOT NULL, spec_json TEXT NOT NULL,
     data_json TEXT NOT NULL, data_hash TEXT NOT NULL, task TEXT NOT NULL, metric TEXT NOT NULL, goal TEXT NOT NULL,
     created_at INTEGER NOT NULL, started_at INTEGER NOT NULL DEFAULT 0, finished_at INTEGER NOT NULL DEFAULT 0,
     best_trial_id TEXT NOT NULL DEFAULT '', model_name TEXT NOT NULL DEFAULT '', model_version INTEGER NOT NULL DEFAULT 0,
     baseline_json TEXT NOT NULL DEFAULT '{}', early_stopping_json TEXT NOT NULL DEFAULT 'null', seq INTEGER NOT NULL)`,
  `CREATE TABLE trials (
     id TEXT PRIMARY KEY, run_id TEXT NOT NULL REFERENCES runs(id), idx INTEGER NOT NULL, candidate TEXT NOT NULL,
     trainer TEXT NOT NULL, params_json TEXT NOT NULL, seed INTEGER NOT NULL, state INTEGER NOT NULL,
     state_reason TEXT NOT NULL DEFAULT '', worker_id TEXT NOT NULL DEFAULT '', lease_id TEXT NOT NULL DEFAULT '',
     lease_deadline INTEGER NOT NULL DEFAULT 0, attempt INTEGER NOT NULL DEFAULT 0, metrics_json TEXT NOT NULL DEFAULT '{}',
     progress REAL NOT NULL DEFAULT 0, started_at INTEGER NOT NULL DEFAULT 0, finished_at INTEGER NOT NULL DEFAULT 0,
     resources_json TEXT NOT NULL, history_json TEXT NOT NULL DEFAULT '[]', backend TEXT NOT NULL DEFAULT '',
     model_digest TEXT NOT NULL DEFAULT '', model_format TEXT NOT NULL DEFAULT '', model_size INTEGER NOT NULL DEFAULT 0,
     excluded_reason TEXT NOT NULL DEFAULT '', stop_requested INTEGER NOT NULL DEFAULT 0)`,
  `CREATE INDEX trials_by_run ON trials(run_id, idx)`,
  `CREATE INDEX trials_by_state ON trials(state)`,
  `CREATE TABLE workers (
     id TEXT PRIMARY KEY, name TEXT NOT NULL, tier TEXT NOT NULL, status INTEGER NOT NULL,
     resources_json TEXT NOT NULL, labels_json TEXT NOT NULL, versions_json TEXT NOT NULL, trainers_json TEXT NOT NULL,
     joined_at INTEGER NOT NULL, last_seen INTEGER NOT NULL)`,
  `CREATE TABLE models (
     name TEXT NOT NULL, version INTEGER NOT NULL, format TEXT NOT NULL, digest TEXT NOT NULL, size INTEGER NOT NULL,
     created_at INTEGER NOT NULL, metrics_json TEXT NOT NULL, lineage_json TEXT NOT NULL, PRIMARY KEY (name, version))`,
  `CREATE TABLE artifacts (digest TEXT PRIMARY KEY, size INTEGER NOT NULL, name TEXT NOT NULL, created_at INTEGER NOT NULL)`,
  `ALTER TABLE models ADD COLUMN info_json TEXT NOT NULL DEFAULT '{}'`,
  `ALTER TABLE models ADD COLUMN source TEXT NOT NULL DEFAULT 'trained'`,
  `ALTER TABLE models ADD COLUMN description TEXT NOT NULL DEFAULT ''`,
  `CREATE TABLE deployments (
     name TEXT PRIMARY KEY, plan_json TEXT NOT NULL, state INTEGER NOT NULL, state_reason TEXT NOT NULL DEFAULT '',
     desired INTEGER NOT NULL, min_replicas INTEGER NOT NULL, max_replicas INTEGER NOT NULL, created_at INTEGER NOT NULL,
     autoscaler_json TEXT NOT NULL DEFAULT 'null')`,
  `CREATE TABLE replicas (
     id TEXT PRIMARY KEY, deployment TEXT NOT NULL, worker_id TEXT NOT NULL, state INTEGER NOT NULL,
     url TEXT NOT NULL DEFAULT '', reason TEXT NOT NULL DEFAULT '', started_at INTEGER NOT NULL, ready_at INTEGER NOT NULL DEFAULT 0)`,
  `CREATE INDEX replicas_by_deployment ON replicas(deployment)`,
  `CREATE TABLE deployment_events (
     id INTEGER PRIMARY KEY AUTOINCREMENT, deployment TEXT NOT NULL, at INTEGER NOT NULL, kind TEXT NOT NULL, message TEXT NOT NULL)`,
  `CREATE INDEX events_by_deployment ON deployment_events(deployment, id)`,
  `CREATE TABLE profiles (
     id TEXT PRIMARY KEY, model_name TEXT NOT NULL, model_version INTEGER NOT NULL, model_digest TEXT NOT NULL,
     created_at INTEGER NOT NULL, tiers TEXT NOT NULL, profile_json TEXT NOT NULL);
   CREATE INDEX profiles_by_model ON profiles(model_name, model_version, created_at)`,
  `ALTER TABLE replicas ADD COLUMN pid INTEGER NOT NULL DEFAULT 0`,
  // API keys of deployments: only the SHA-256 of each key, never the key.
  `CREATE TABLE api_keys (
     id TEXT PRIMARY KEY, deployment TEXT NOT NULL, label TEXT NOT NULL DEFAULT '', hash TEXT NOT NULL UNIQUE,
     created_at INTEGER NOT NULL, revoked_at INTEGER NOT NULL DEFAULT 0);
   CREATE INDEX api_keys_by_deployment ON api_keys(deployment, created_at)`,
];

export function openDb(path: string): Db {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  migrate(db);
  return db;
}

function migrate(db: Db): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  const apply = db.transaction(() => {
    for (let i = version; i < MIGRATIONS.length; i++) db.exec(MIGRATIONS[i]!);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  });
  apply();
}

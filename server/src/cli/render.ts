/** Terminal rendering of runs, leaderboards and the cluster: pure functions, proto in, text out. */
import {
  State,
  Worker_Status,
  type GetClusterResponse,
  type Model,
  type Resources,
  type Run,
  type Trial,
} from '@stratum/proto';

import { rankTrials } from '../scheduler/selection';

export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (c ?? '').padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export const stateName = (s: State): string => State[s]?.toLowerCase() ?? 'unknown';

export function fmtMetric(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '-';
  return Math.abs(v) >= 1000 ? v.toFixed(1) : v.toFixed(4);
}

function fmtParams(json: string): string {
  const p = JSON.parse(json || '{}') as Record<string, unknown>;
  return Object.entries(p)
    .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(3) : String(v)}`)
    .join(' ');
}

const clip = (s: string, n: number): string => (s.length > n ? s.slice(0, n - 1) + '…' : s);

function duration(t: Trial): string {
  const start = Number(t.startedAtMs);
  const end = Number(t.finishedAtMs) || (t.state === State.RUNNING ? Date.now() : start);
  return start ? `${((end - start) / 1000).toFixed(1)}s` : '-';
}

export const LEADERBOARD_HEADERS = ['rank', 'trial', 'candidate', 'params', 'state', 'metric', 'time', 'note'];

/**
 * The leaderboard's cells, ranked by the run's metric and goal (unscored trials last), for
 * every rendering: terminal, notebook HTML. `best` is the row of the selected trial, if any.
 */
export function leaderboardRows(run: Run): { headers: string[]; rows: string[][]; best: number } {
  const rule = { metric: run.metric, goal: run.goal as 'maximize' | 'minimize' };
  const ranked = rankTrials(
    run.trials.map((t) => ({ trial: t, id: t.id, metrics: t.metrics, modelSizeBytes: Number(t.modelSizeBytes) })),
    rule,
  ).map((c) => c.trial);
  const rows = ranked.map((t, i) => [
    t.metrics[run.metric] !== undefined ? String(i + 1) : '-',
    `#${t.index}`,
    t.candidate,
    fmtParams(t.paramsJson),
    stateName(t.state) + (t.state === State.RUNNING ? ` ${Math.round(t.progress * 100)}%` : ''),
    fmtMetric(t.metrics[run.metric]),
    duration(t),
    t.id === run.best?.trialId ? '★ best' : t.excludedReason ? `set aside: ${t.excludedReason}` : t.stateReason,
  ]);
  const headers = LEADERBOARD_HEADERS.map((h) => (h === 'metric' ? run.metric : h));
  return { headers, rows, best: ranked.findIndex((t) => t.id === run.best?.trialId) };
}

export function leaderboard(run: Run): string {
  const { headers, rows } = leaderboardRows(run);
  return table(
    headers,
    rows.map((r) => r.map((cell, i) => (i === 3 ? clip(cell, 48) : i === 7 ? cell.slice(0, 60) : cell))),
  );
}

export function progressBar(run: Run, width = 30): string {
  const n = run.trials.length || 1;
  const done = run.trials.filter((t) => [State.SUCCEEDED, State.FAILED, State.CANCELLED].includes(t.state)).length;
  const partial = run.trials.filter((t) => t.state === State.RUNNING).reduce((a, t) => a + t.progress, 0);
  const frac = Math.min(1, (done + partial) / n);
  const filled = Math.round(frac * width);
  const running = run.trials.filter((t) => t.state === State.RUNNING).length;
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${String(Math.round(frac * 100)).padStart(3)}%  ${done}/${n} done, ${running} running`;
}

export function runSummary(run: Run): string {
  const lines = [
    `run ${run.id}  ${run.name}  ${stateName(run.state)}${run.stateReason ? ` (${run.stateReason})` : ''}`,
  ];
  if (run.best) {
    const m = run.best.metrics[run.metric];
    const base = run.baseline[run.metric];
    lines.push(
      `best: ${run.best.candidate} (trial ${run.best.trialId.slice(0, 8)}) ${run.metric}=${fmtMetric(m)}` +
        (base !== undefined ? `  baseline ${run.metric}=${fmtMetric(base)}` : '') +
        `  → model ${run.best.modelName}:${run.best.modelVersion}`,
    );
  }
  return lines.join('\n');
}

/** A table's cells, before rendering: the terminal and the notebook's HTML draw the same grid. */
export interface Grid {
  readonly headers: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

const when = (ms: bigint): string => new Date(Number(ms)).toISOString().replace('T', ' ').slice(0, 19);

export function runsGrid(runs: readonly Run[]): Grid {
  return {
    headers: ['id', 'name', 'state', 'trials', 'metric', 'best', 'created'],
    rows: runs.map((r) => [
      r.id.slice(0, 8),
      r.name,
      stateName(r.state),
      String(r.trials.length),
      r.metric,
      r.best ? fmtMetric(r.best.metrics[r.metric]) : '-',
      when(r.createdAtMs),
    ]),
  };
}

export function clusterGrids(c: GetClusterResponse): { tiers: Grid; workers: Grid } {
  const used = (u?: Resources, t?: Resources) => [
    `${u?.cpus ?? 0}/${t?.cpus ?? 0}`,
    `${u?.memoryMb ?? 0}/${t?.memoryMb ?? 0}`,
    `${u?.gpus ?? 0}/${t?.gpus ?? 0}`,
  ];
  return {
    tiers: {
      headers: ['tier', 'workers', 'cpus used/total', 'memory MiB used/total', 'gpus used/total'],
      rows: c.tiers.map((t) => [t.name, String(t.workersReady), ...used(t.used, t.total)]),
    },
    workers: {
      headers: ['id', 'name', 'tier', 'status', 'cpus', 'memory MiB', 'gpus', 'running'],
      rows: c.workers.map((w) => [
        w.id,
        w.name,
        w.tier,
        Worker_Status[w.status]?.toLowerCase() ?? '?',
        ...used(w.used, w.total),
        String(w.runningTrialIds.length),
      ]),
    },
  };
}

export function modelsGrid(models: readonly Model[]): Grid {
  return {
    headers: ['name', 'version', 'format', 'size', 'metrics', 'trainer', 'run'],
    rows: models.map((m) => [
      m.name,
      String(m.version),
      m.format,
      `${(Number(m.sizeBytes) / 1024).toFixed(1)} KiB`,
      Object.entries(m.metrics)
        .map(([k, v]) => `${k}=${fmtMetric(v)}`)
        .join(' '),
      m.lineage?.trainer ?? '',
      (m.lineage?.runId ?? '').slice(0, 8),
    ]),
  };
}

const drawn = (g: Grid): string => table(g.headers, g.rows);

export const runsTable = (runs: readonly Run[]): string => drawn(runsGrid(runs));

export function clusterTable(c: GetClusterResponse): string {
  const { tiers, workers } = clusterGrids(c);
  return `${drawn(tiers)}\n\n${drawn(workers)}`;
}

export const modelsTable = (models: readonly Model[]): string => drawn(modelsGrid(models));

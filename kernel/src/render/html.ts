/**
 * HTML for notebook outputs: pure functions, proto in, markup out. Every bundle also carries the
 * CLI's text rendering as `text/plain`, so the two never disagree on what a table says.
 */
import { State, type GetClusterResponse, type Model, type Run } from '@stratum/proto';
import {
  clusterGrids,
  fmtMetric,
  leaderboardRows,
  modelsGrid,
  runsGrid,
  stateName,
  type Grid,
} from '@stratum/server/dist/cli/render';

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = 'border-collapse:collapse;font-family:var(--jp-code-font-family,monospace);font-size:12px;margin:4px 0';
const CELL = 'padding:2px 8px;text-align:left;border-bottom:1px solid var(--jp-border-color2,#ddd)';

export interface TableOptions {
  /** Rows (by index) to emphasise, e.g. the best trial. */
  readonly strong?: ReadonlySet<number>;
  readonly caption?: string;
}

export function htmlTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  o: TableOptions = {},
): string {
  const head = headers.map((h) => `<th style="${CELL}">${esc(h)}</th>`).join('');
  const body = rows
    .map((r, i) => {
      const style = o.strong?.has(i) ? ' style="font-weight:bold"' : '';
      return `<tr${style}>${r.map((c) => `<td style="${CELL}">${esc(c)}</td>`).join('')}</tr>`;
    })
    .join('');
  const caption = o.caption ? `<caption style="text-align:left">${esc(o.caption)}</caption>` : '';
  return `<table class="stratum-table" style="${STYLE}">${caption}<thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

const gridHtml = (g: Grid, o: TableOptions = {}): string => htmlTable(g.headers, g.rows, o);

const DONE: ReadonlySet<State> = new Set([State.SUCCEEDED, State.FAILED, State.CANCELLED]);

/** Fraction of the run's work done, counting running trials by their progress. */
export function runFraction(run: Run): number {
  if (run.trials.length === 0) return DONE.has(run.state) ? 1 : 0;
  const done = run.trials.filter((t) => DONE.has(t.state)).length;
  const partial = run.trials.filter((t) => t.state === State.RUNNING).reduce((a, t) => a + t.progress, 0);
  return Math.min(1, (done + partial) / run.trials.length);
}

export function progressHtml(run: Run): string {
  const pct = Math.round(runFraction(run) * 100);
  const done = run.trials.filter((t) => DONE.has(t.state)).length;
  const running = run.trials.filter((t) => t.state === State.RUNNING).length;
  const color = run.state === State.FAILED ? '#c62828' : run.state === State.SUCCEEDED ? '#2e7d32' : '#1565c0';
  return (
    `<div class="stratum-progress" style="margin:4px 0">` +
    `<div style="display:inline-block;width:240px;height:10px;background:#e0e0e0;vertical-align:middle">` +
    `<div style="width:${pct}%;height:100%;background:${color}"></div></div>` +
    ` <span>${pct}% · ${done}/${run.trials.length} done, ${running} running · ${esc(stateName(run.state))}</span></div>`
  );
}

/** The leaderboard (ranked by the run's metric and goal), its title and progress. */
export function leaderboardHtml(run: Run): string {
  const { headers, rows, best } = leaderboardRows(run);
  const title = `run ${run.id.slice(0, 8)} · ${run.name} · ${run.task} · ${run.goal} ${run.metric}`;
  return `<div class="stratum-run">${progressHtml(run)}${htmlTable(headers, rows, { strong: new Set(best >= 0 ? [best] : []), caption: title })}${summaryHtml(run)}</div>`;
}

function summaryHtml(run: Run): string {
  if (!DONE.has(run.state)) return '';
  const reason = run.stateReason ? ` (${run.stateReason})` : '';
  if (!run.best) return `<p>run ${esc(stateName(run.state) + reason)}</p>`;
  const base = run.baseline[run.metric];
  return (
    `<p>best: <b>${esc(run.best.candidate)}</b> ${esc(run.metric)}=${fmtMetric(run.best.metrics[run.metric])}` +
    (base !== undefined ? ` (baseline ${fmtMetric(base)})` : '') +
    ` → model <code>${esc(`${run.best.modelName}:${run.best.modelVersion}`)}</code></p>`
  );
}

export const runsHtml = (runs: readonly Run[]): string => gridHtml(runsGrid(runs));

export const modelsHtml = (models: readonly Model[]): string => gridHtml(modelsGrid(models));

export function clusterHtml(c: GetClusterResponse): string {
  const { tiers, workers } = clusterGrids(c);
  return gridHtml(tiers, { caption: 'tiers' }) + gridHtml(workers, { caption: 'workers' });
}

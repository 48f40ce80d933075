/**
 * MIME bundles for every kind of output: the CLI's text rendering as `text/plain`, HTML beside
 * it, and Vega-Lite learning curves when trials report per-epoch metrics.
 */
import { State, type GetClusterResponse, type Model, type Run } from '@stratum/proto';
import {
  clusterTable,
  leaderboard,
  modelsTable,
  progressBar,
  runsTable,
  runSummary,
  table,
} from '@stratum/server/dist/cli/render';

import type { MimeBundle, PredictResponse, Row } from '../types';
import { clusterHtml, esc, htmlTable, leaderboardHtml, modelsHtml, runsHtml } from './html';

export const VEGA_LITE = 'application/vnd.vegalite.v5+json';

const DONE: ReadonlySet<State> = new Set([State.SUCCEEDED, State.FAILED, State.CANCELLED]);

export function runBundle(run: Run): MimeBundle {
  const text = [progressBar(run), leaderboard(run), ...(DONE.has(run.state) ? ['', runSummary(run)] : [])].join('\n');
  return { 'text/plain': text, 'text/html': leaderboardHtml(run) };
}

export function runsBundle(runs: readonly Run[]): MimeBundle {
  if (runs.length === 0) return { 'text/plain': 'no runs yet', 'text/html': '<p>no runs yet</p>' };
  return { 'text/plain': runsTable(runs), 'text/html': runsHtml(runs) };
}

export function modelsBundle(models: readonly Model[]): MimeBundle {
  if (models.length === 0) return { 'text/plain': 'no models yet', 'text/html': '<p>no models yet</p>' };
  return { 'text/plain': modelsTable(models), 'text/html': modelsHtml(models) };
}

export function clusterBundle(c: GetClusterResponse): MimeBundle {
  return { 'text/plain': clusterTable(c), 'text/html': clusterHtml(c) };
}

export function messageBundle(text: string): MimeBundle {
  return { 'text/plain': text, 'text/html': `<p>${esc(text)}</p>` };
}

const cell = (v: unknown): string => (typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(4) : String(v));

export function predictionsBundle(rows: readonly Row[], r: PredictResponse): MimeBundle {
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const headers = [...columns, 'prediction', ...(r.probabilities ? ['probability'] : [])];
  const body = rows.map((row, i) => [
    ...columns.map((c) => cell(row[c] ?? '')),
    cell(r.predictions[i] ?? ''),
    ...(r.probabilities ? [cell(Math.max(...(r.probabilities[i] ?? [NaN])))] : []),
  ]);
  const title = `model ${r.model_name}${r.model_version ? `:${r.model_version}` : ''}`;
  return {
    'text/plain': `${title}\n${table(headers, body)}`,
    'text/html': htmlTable(headers, body, { caption: title }),
  };
}

interface CurvePoint {
  readonly trial: string;
  readonly epoch: number;
  readonly metric: string;
  readonly value: number;
}

/** One line per trial and metric over epochs, a panel per metric; undefined without history. */
export function curvesBundle(run: Run): MimeBundle | undefined {
  const values: CurvePoint[] = run.trials.flatMap((t) =>
    t.history.flatMap((h) =>
      Object.entries(h.metrics)
        .filter(([, v]) => Number.isFinite(v))
        .map(([metric, value]) => ({ trial: `#${t.index} ${t.candidate}`, epoch: h.epoch, metric, value })),
    ),
  );
  if (values.length === 0) return undefined;
  const trials = new Set(values.map((v) => v.trial)).size;
  const metrics = [...new Set(values.map((v) => v.metric))].sort();
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    description: `learning curves of run ${run.id}`,
    data: { values },
    facet: { column: { field: 'metric', type: 'nominal', title: null, sort: metrics } },
    spec: {
      width: 220,
      height: 160,
      mark: { type: 'line', point: true, tooltip: true },
      encoding: {
        x: { field: 'epoch', type: 'quantitative' },
        y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
        color: { field: 'trial', type: 'nominal' },
      },
    },
    resolve: { scale: { y: 'independent' } },
  };
  return {
    'text/plain': `learning curves: ${trials} trial(s) over epochs; ${metrics.join(', ')}`,
    [VEGA_LITE]: spec,
  };
}

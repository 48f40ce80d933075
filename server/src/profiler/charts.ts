/**
 * Vega-Lite v5 specs of a profile, for notebooks and the side panel: latency against
 * throughput and latency against batch size, one panel per tier, with the QoS budget drawn
 * as a rule when one is given. Pure: a profile in, a JSON-serialisable spec out.
 */
import type { ModelProfile } from './types';

export const VEGA_LITE_SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

/** A Vega-Lite specification, as plain JSON. */
export type VegaLiteSpec = { readonly $schema: string } & Readonly<Record<string, unknown>>;

export type Percentile = 'p50' | 'p95' | 'p99';

export interface ChartOptions {
  /** The latency percentile on the y axis. Default p99. */
  readonly percentile?: Percentile;
  /** A latency budget (ms) to draw as a dashed rule. */
  readonly budgetMs?: number;
  readonly width?: number;
  readonly height?: number;
}

interface Row {
  readonly tier: string;
  readonly batchSize: number;
  readonly concurrency: number;
  readonly throughput: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly stable: boolean;
}

/** One row per measured point of every tier that fits. */
export function chartRows(profile: ModelProfile): Row[] {
  return profile.tiers.flatMap((t) =>
    t.points
      .filter((p) => p.requests > 0)
      .map((p) => ({
        tier: t.tier.name,
        batchSize: p.batchSize,
        concurrency: p.concurrency,
        throughput: Number(p.throughput.toFixed(1)),
        p50Ms: Number(p.p50Ms.toFixed(3)),
        p95Ms: Number(p.p95Ms.toFixed(3)),
        p99Ms: Number(p.p99Ms.toFixed(3)),
        stable: p.stable,
      })),
  );
}

const TOOLTIP = [
  { field: 'tier', type: 'nominal' },
  { field: 'batchSize', type: 'ordinal', title: 'max batch size' },
  { field: 'concurrency', type: 'ordinal' },
  { field: 'throughput', type: 'quantitative', title: 'req/s', format: ',.0f' },
  { field: 'p50Ms', type: 'quantitative', title: 'p50 ms', format: '.2f' },
  { field: 'p95Ms', type: 'quantitative', title: 'p95 ms', format: '.2f' },
  { field: 'p99Ms', type: 'quantitative', title: 'p99 ms', format: '.2f' },
  { field: 'stable', type: 'nominal' },
];

function faceted(
  profile: ModelProfile,
  title: string,
  line: Record<string, unknown>,
  o: ChartOptions,
  independentX: boolean,
): VegaLiteSpec {
  const layers: Record<string, unknown>[] = [line];
  if (o.budgetMs && o.budgetMs > 0) {
    layers.push({
      mark: { type: 'rule', strokeDash: [4, 4], color: 'firebrick' },
      encoding: { y: { datum: o.budgetMs } },
    });
  }
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: `${profile.model.name}:${profile.model.version} — ${title}`,
    data: { values: chartRows(profile) },
    facet: { column: { field: 'tier', type: 'nominal', title: null, sort: profile.tiers.map((t) => t.tier.name) } },
    spec: { width: o.width ?? 220, height: o.height ?? 180, layer: layers },
    resolve: { scale: { x: independentX ? 'independent' : 'shared', y: 'shared' } },
  };
}

/** Latency (the percentile) against throughput: one line per batch size, rising with concurrency. */
export function latencyThroughputChart(profile: ModelProfile, o: ChartOptions = {}): VegaLiteSpec {
  const pct = o.percentile ?? 'p99';
  return faceted(
    profile,
    `${pct} latency against throughput`,
    {
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'throughput', type: 'quantitative', title: 'throughput (req/s)' },
        y: { field: `${pct}Ms`, type: 'quantitative', title: `${pct} latency (ms)` },
        color: { field: 'batchSize', type: 'ordinal', title: 'max batch size' },
        order: { field: 'concurrency', type: 'quantitative' },
        tooltip: TOOLTIP,
      },
    },
    o,
    true,
  );
}

/** Latency (the percentile) against the batch size: one line per concurrency level, log2 x axis. */
export function latencyBatchChart(profile: ModelProfile, o: ChartOptions = {}): VegaLiteSpec {
  const pct = o.percentile ?? 'p99';
  return faceted(
    profile,
    `${pct} latency against batch size`,
    {
      mark: { type: 'line', point: true },
      encoding: {
        x: {
          field: 'batchSize',
          type: 'quantitative',
          title: 'max batch size',
          scale: { type: 'log', base: 2 },
          axis: { values: [...profile.settings.batchSizes] },
        },
        y: { field: `${pct}Ms`, type: 'quantitative', title: `${pct} latency (ms)` },
        color: { field: 'concurrency', type: 'ordinal', title: 'concurrency' },
        tooltip: TOOLTIP,
      },
    },
    o,
    false,
  );
}

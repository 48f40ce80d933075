/**
 * Geometry of the panel's small charts (sparklines of a deployment's load, a profile's latency
 * against throughput), as pure functions: numbers in, SVG coordinates out. The views draw them.
 */
import type { TierProfile } from '@stratum/proto';

/** `points` of an SVG polyline through `values`, left to right, 0 at the bottom. */
export function sparkline(values: readonly number[], width: number, height: number, pad = 1.5): string {
  const finite = values.map((v) => (Number.isFinite(v) ? v : 0));
  if (finite.length === 0) return '';
  const max = Math.max(...finite, 0);
  const step = finite.length > 1 ? (width - 2 * pad) / (finite.length - 1) : 0;
  const y = (v: number): number => (max > 0 ? height - pad - (v / max) * (height - 2 * pad) : height - pad);
  const pts = finite.map((v, i) => `${+(pad + i * step).toFixed(2)},${+y(v).toFixed(2)}`);
  // A single sample draws as a short flat line, so it is seen at all.
  return pts.length === 1 ? `${pts[0]} ${+(width - pad).toFixed(2)},${+y(finite[0]!).toFixed(2)}` : pts.join(' ');
}

/** Round tick values covering [min, max]: steps of 1, 2 or 5 times a power of ten, about `count` of them. */
export function niceTicks(min: number, max: number, count = 4): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (max <= min) max = min + 1;
  // The smallest round step that needs at most count + 1 intervals.
  const raw = (max - min) / (Math.max(1, count) + 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw * (1 - 1e-9)) ?? 10 * mag;
  const ticks: number[] = [];
  for (let t = Math.floor(min / step) * step; t <= max + step * 1e-9; t += step) ticks.push(+t.toPrecision(12));
  if (ticks[ticks.length - 1]! < max) ticks.push(+(ticks[ticks.length - 1]! + step).toPrecision(12));
  return ticks;
}

export interface Series {
  readonly label: string;
  readonly points: readonly (readonly [number, number])[];
}

export interface PlacedSeries {
  readonly label: string;
  /** `points` of an SVG polyline. */
  readonly line: string;
  readonly dots: readonly { readonly x: number; readonly y: number; readonly vx: number; readonly vy: number }[];
}

export interface Tick {
  readonly at: number;
  readonly value: number;
}

export interface LinePlot {
  readonly width: number;
  readonly height: number;
  /** The plotting area inside the axes. */
  readonly area: { readonly left: number; readonly top: number; readonly right: number; readonly bottom: number };
  readonly xTicks: readonly Tick[];
  readonly yTicks: readonly Tick[];
  readonly series: readonly PlacedSeries[];
}

/** Places series on shared axes starting at 0, with round ticks. */
export function linePlot(series: readonly Series[], width: number, height: number): LinePlot {
  const area = { left: 38, top: 6, right: width - 8, bottom: height - 22 };
  const all = series.flatMap((s) => s.points);
  const xs = niceTicks(0, Math.max(0, ...all.map((p) => p[0])));
  const ys = niceTicks(0, Math.max(0, ...all.map((p) => p[1])));
  const xMax = xs[xs.length - 1] ?? 1;
  const yMax = ys[ys.length - 1] ?? 1;
  const sx = (v: number): number => +(area.left + (v / xMax) * (area.right - area.left)).toFixed(2);
  const sy = (v: number): number => +(area.bottom - (v / yMax) * (area.bottom - area.top)).toFixed(2);
  return {
    width,
    height,
    area,
    xTicks: xs.map((value) => ({ at: sx(value), value })),
    yTicks: ys.map((value) => ({ at: sy(value), value })),
    series: series.map((s) => {
      const dots = s.points.map(([vx, vy]) => ({ x: sx(vx), y: sy(vy), vx, vy }));
      return { label: s.label, line: dots.map((d) => `${d.x},${d.y}`).join(' '), dots };
    }),
  };
}

/** A tier's measured points as p99 latency (ms) against throughput (req/s), a line per batch size. */
export function latencyThroughput(tier: Pick<TierProfile, 'points'>): Series[] {
  const sizes = [...new Set(tier.points.map((p) => p.batchSize))].sort((a, b) => a - b);
  return sizes.map((size) => ({
    label: `batch ${size}`,
    points: tier.points
      .filter((p) => p.batchSize === size && p.requests > 0)
      .sort((a, b) => a.concurrency - b.concurrency)
      .map((p) => [p.throughput, p.p99Ms] as const),
  }));
}

/** A short number for an axis or a label: 1234 → "1.2k", 0.5 → "0.5". */
export function fmtShort(v: number): string {
  if (Math.abs(v) >= 1000) return `${+(v / 1000).toFixed(1)}k`;
  if (Number.isInteger(v)) return String(v);
  return String(+v.toFixed(Math.abs(v) < 1 ? 2 : 1));
}

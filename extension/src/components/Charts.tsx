/** Inline SVG charts: a deployment's load over the last polls, a profile's latency against throughput. */
import type { ModelProfile, TierProfile } from '@stratum/proto';
import * as React from 'react';

import { fmtShort, latencyThroughput, linePlot, sparkline } from '../charts';

/** A value with its history as a sparkline (oldest left), e.g. "p99 12.3 ms ⟋". */
export function Sparkline(props: {
  readonly label: string;
  readonly values: readonly number[];
  readonly current: number;
  readonly unit: string;
}) {
  const { label, values, current, unit } = props;
  const w = 64;
  const h = 18;
  return (
    <span
      className="jp-stratum-spark"
      data-metric={label}
      data-value={current}
      title={`${label}: last ${values.length} polls`}
    >
      <span className="jp-stratum-spark-label">{label}</span>{' '}
      <span className="jp-stratum-spark-value">
        {fmtShort(current)}
        {unit ? ` ${unit}` : ''}
      </span>
      <svg
        className="jp-stratum-spark-svg"
        width={w}
        height={h}
        viewBox={`0 0 ${w} ${h}`}
        role="img"
        aria-label={label}
      >
        <polyline points={sparkline(values, w, h)} />
      </svg>
    </span>
  );
}

function TierChart({ tier, sizes }: { readonly tier: TierProfile; readonly sizes: readonly number[] }) {
  const plot = React.useMemo(() => linePlot(latencyThroughput(tier), 260, 150), [tier]);
  // Colours follow the batch size across tiers, as the legend shows them.
  const mine = [...new Set(tier.points.map((p) => p.batchSize))].sort((a, b) => a - b);
  const { area } = plot;
  return (
    <svg
      className="jp-stratum-chart"
      width="100%"
      viewBox={`0 0 ${plot.width} ${plot.height}`}
      role="img"
      aria-label={`p99 latency against throughput on ${tier.tier?.name ?? 'tier'}`}
    >
      {plot.yTicks.map((t) => (
        <g key={`y${t.value}`}>
          <line className="jp-stratum-chart-grid" x1={area.left} x2={area.right} y1={t.at} y2={t.at} />
          <text className="jp-stratum-chart-tick" x={area.left - 4} y={t.at + 3} textAnchor="end">
            {fmtShort(t.value)}
          </text>
        </g>
      ))}
      {plot.xTicks.map((t) => (
        <text key={`x${t.value}`} className="jp-stratum-chart-tick" x={t.at} y={area.bottom + 11} textAnchor="middle">
          {fmtShort(t.value)}
        </text>
      ))}
      <text className="jp-stratum-chart-axis" x={(area.left + area.right) / 2} y={plot.height - 1} textAnchor="middle">
        throughput (req/s)
      </text>
      <text className="jp-stratum-chart-axis" x={2} y={area.top + 6}>
        p99 ms
      </text>
      {plot.series.map((s, i) => (
        <g
          key={s.label}
          className={`jp-stratum-chart-series jp-stratum-chart-series-${Math.max(0, sizes.indexOf(mine[i]!)) % 6}`}
        >
          <polyline points={s.line} />
          {s.dots.map((d, j) => (
            <circle key={j} cx={d.x} cy={d.y} r={2}>
              <title>{`${s.label}: ${fmtShort(d.vx)} req/s, p99 ${fmtShort(d.vy)} ms`}</title>
            </circle>
          ))}
        </g>
      ))}
    </svg>
  );
}

function TierSummary({ tier }: { readonly tier: TierProfile }) {
  if (!tier.fits) return <p className="jp-stratum-warning">does not fit: {tier.reason}</p>;
  const best = Math.max(0, ...tier.points.map((p) => p.throughput));
  const low = Math.min(...tier.points.filter((p) => p.requests > 0).map((p) => p.p99Ms));
  return (
    <p className="jp-stratum-muted">
      loads in {fmtShort(tier.loadMs)} ms, {fmtShort(tier.peakMemoryMb)} MiB peak · up to {fmtShort(best)} req/s ·
      lowest p99 {Number.isFinite(low) ? `${fmtShort(low)} ms` : '-'}
    </p>
  );
}

/** Per tier: p99 latency against throughput, a line per batch size, and the headline numbers. */
export function ProfileCharts({ profile }: { readonly profile: ModelProfile }) {
  const sizes = [...new Set(profile.tiers.flatMap((t) => t.points.map((p) => p.batchSize)))].sort((a, b) => a - b);
  return (
    <div className="jp-stratum-profile" data-profile={profile.id}>
      <p className="jp-stratum-muted">
        profiled {new Date(Number(profile.createdAtMs)).toLocaleString()} · {profile.inputs}
      </p>
      <p className="jp-stratum-chart-legend">
        {sizes.map((size, i) => (
          <span key={size} className={`jp-stratum-chart-series-${i % 6}`}>
            ● batch {size}
          </span>
        ))}
      </p>
      {profile.tiers.map((t) => (
        <div key={t.tier?.name} className="jp-stratum-profile-tier" data-tier={t.tier?.name}>
          <h5>
            {t.tier?.name} <span className="jp-stratum-muted">({fmtShort(t.tier?.cpus ?? 0)} cpu)</span>
          </h5>
          <TierSummary tier={t} />
          {t.fits && t.points.length > 0 ? <TierChart tier={t} sizes={sizes} /> : null}
        </div>
      ))}
    </div>
  );
}

/** Terminal text of profiles: a table per tier, the QoS verdicts and the recommendation. Pure. */
import { table } from '../cli/render';
import { fmtCost, fmtMs, fmtRate } from './capacity';
import type { CapacityReport, ModelProfile, ProfileEvent, ProfilePoint, QosAsk, TierProfile } from './types';

const ms = (v: number): string => v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2);

export function describeQos(q: QosAsk): string {
  const parts = [
    q.p99Ms ? `p99 ≤ ${fmtMs(q.p99Ms)}` : '',
    q.p95Ms ? `p95 ≤ ${fmtMs(q.p95Ms)}` : '',
    q.p50Ms ? `p50 ≤ ${fmtMs(q.p50Ms)}` : '',
    q.rps ? fmtRate(q.rps) : '',
    q.maxCostPerHour ? `≤ ${fmtCost(q.maxCostPerHour)}/h` : '',
  ].filter(Boolean);
  return parts.join(', ') || 'no QoS';
}

/** One line per measured point (the progress of a non-interactive run). */
export function pointLine(tier: string, p: ProfilePoint, done: number, total: number): string {
  const errors = p.errors ? `, ${p.errors} errors (${p.firstError ?? ''})` : '';
  return `[${String(done).padStart(String(total).length)}/${total}] ${tier} batch ${p.batchSize} concurrency ${p.concurrency}: ${fmtRate(p.throughput)}, p50 ${ms(p.p50Ms)} ms, p99 ${ms(p.p99Ms)} ms${p.stable ? '' : ' (unstable)'}${errors}`;
}

export function progressBar(done: number, total: number, label: string, width = 30): string {
  const frac = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(frac * width);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${String(Math.round(frac * 100)).padStart(3)}%  ${done}/${total}  ${label}`;
}

/** The progress text of an event: a line per event (null: nothing to say). */
export function eventLine(e: ProfileEvent): string | null {
  switch (e.kind) {
    case 'tier-start':
    case 'loaded':
    case 'open-loop':
      return e.message;
    case 'point':
      return pointLine(e.tier, e.point, e.done, e.total);
    case 'tier-done':
      return e.profile.fits ? null : `${e.tier}: ${e.profile.reason}`;
    case 'done':
      return `profiled ${e.profile.tiers.length} tier(s) in ${(e.profile.durationMs / 1000).toFixed(1)} s`;
  }
}

function tierHeading(t: TierProfile): string {
  const { tier } = t;
  const spec = `${tier.cpus} cpu, ${tier.threads} thread${tier.threads === 1 ? '' : 's'}, ${tier.memoryMb.toFixed(0)} MiB, ${fmtCost(tier.costPerHour)}/h`;
  if (!t.fits) return `${tier.name} (${spec}): ${t.reason}`;
  return `${tier.name} (${spec}): loaded in ${t.loadMs.toFixed(0)} ms, ${t.loadMemoryMb.toFixed(0)} MiB after load, ${t.peakMemoryMb.toFixed(0)} MiB peak`;
}

export function tierTable(t: TierProfile): string {
  const head = tierHeading(t);
  if (t.points.length === 0) return head;
  // The measured columns both tables share, after each table's own first two.
  const measured = (
    p: Pick<ProfilePoint, 'throughput' | 'p50Ms' | 'p95Ms' | 'p99Ms' | 'errors' | 'stable' | 'windows'>,
  ) => [
    p.throughput.toFixed(0),
    ms(p.p50Ms),
    ms(p.p95Ms),
    ms(p.p99Ms),
    p.errors ? String(p.errors) : '',
    p.stable ? '' : `unstable after ${p.windows} windows`,
  ];
  const columns = ['req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'errors', 'note'];
  const body = table(
    ['batch', 'conc', ...columns],
    t.points.map((p) => [String(p.batchSize), String(p.concurrency), ...measured(p)]),
  );
  const indent = (text: string): string =>
    text
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n');
  const open = t.openLoop ?? [];
  if (open.length === 0) return `${head}\n${indent(body)}`;
  const openBody = table(
    ['batch', 'offered', ...columns],
    open.map((p) => [String(p.batchSize), p.offeredRps.toFixed(0), ...measured(p)]),
  );
  return `${head}\n${indent(body)}\n  open loop (random arrivals at fixed rates):\n${indent(openBody)}`;
}

export function profileText(p: ModelProfile): string {
  const head = `profile ${p.id.slice(0, 8)} of ${p.model.name}:${p.model.version} (${(p.model.sizeBytes / 1024).toFixed(1)} KiB), ${(p.durationMs / 1000).toFixed(1)} s; inputs: ${p.inputs}`;
  return [head, ...p.tiers.map(tierTable)].join('\n\n');
}

export function reportText(r: CapacityReport): string {
  const lines = [`QoS ${describeQos(r.qos)}:`];
  for (const v of r.tiers) lines.push(`  ${v.ok ? '✓' : '✗'} ${v.reason}`);
  const b = r.best;
  if (!b) {
    lines.push('infeasible: no profiled tier meets this QoS (reasons above)');
    return lines.join('\n');
  }
  const batching = b.batchSize > 1 ? `max batch ${b.batchSize}, queue delay ${b.maxQueueDelayMs} ms` : 'batching off';
  const rate = r.qos.rps ? ` at ${fmtRate(r.qos.rps)}` : '';
  lines.push(
    `recommendation: ${b.tier}, ${b.replicas} replica${b.replicas === 1 ? '' : 's'}, ${batching}, ` +
      `${fmtCost(b.costPerHour)}/h (${fmtCost(b.costPer1kRequests)} per 1k requests); expected p99${rate}: ${fmtMs(b.expectedP99Ms)}` +
      (b.basis ? ` (${b.basis})` : ''),
  );
  return lines.join('\n');
}

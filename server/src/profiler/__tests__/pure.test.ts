/** The profiler's other pure parts: stability, latency-aware selection, charts, the wire mapping. */
import { latencyBatchChart, latencyThroughputChart, VEGA_LITE_SCHEMA } from '../charts';
import { applyLatencyConstraint, latencyRuleFromSpec } from '../latency-selection';
import { isStable } from '../sweep';
import { eventFromWire, eventToWire, profileFromWire, profileToWire, settingsFromWire, settingsToWire } from '../wire';
import { DEFAULT_SWEEP } from '../types';
import { modelProfile, point, threeTiers, tier, tierProfile } from './hand-built';

describe('isStable', () => {
  const w = (throughput: number, meanMs = 1) => ({ throughput, meanMs });

  it('needs the last windows to agree within the tolerance, in throughput and mean latency', () => {
    expect(isStable([w(100), w(105)], 3, 0.1)).toBe(false);
    expect(isStable([w(10), w(100), w(105), w(96)], 3, 0.1)).toBe(true);
    expect(isStable([w(100), w(120), w(100)], 3, 0.1)).toBe(false);
    expect(isStable([w(100, 1), w(100, 1.3), w(100, 1)], 3, 0.1)).toBe(false);
    expect(isStable([w(0), w(0), w(0)], 3, 0.1)).toBe(false);
  });
});

describe('applyLatencyConstraint', () => {
  const candidates = [
    { id: 'big', metrics: { f1: 0.95 }, modelSizeBytes: 1 },
    { id: 'small', metrics: { f1: 0.9 }, modelSizeBytes: 1 },
    { id: 'unprofiled', metrics: { f1: 0.99 }, modelSizeBytes: 1 },
  ];
  const profiles = new Map([
    ['big', modelProfile([tierProfile(tier('edge'), [point(1, 1, 50, 31)])])],
    ['small', modelProfile([tierProfile(tier('edge'), [point(1, 1, 400, 6)])])],
  ]);

  it('keeps the candidates that meet the rule on the tier and says why the others miss', () => {
    const r = applyLatencyConstraint(candidates, profiles, { tier: 'edge', p99Ms: 10 });
    expect(r.kept.map((c) => c.id)).toEqual(['small']);
    expect([...r.excluded]).toEqual([
      ['big', 'p99 on edge 31 ms > 10 ms (batch 1, concurrency 1)'],
      ['unprofiled', 'not profiled on edge, so p99 ≤ 10 ms cannot be checked'],
    ]);
  });

  it('takes a rate and a cost too, and reads the spec form', () => {
    const rule = latencyRuleFromSpec({ tier: 'edge', p99: '10ms', rps: 1000, maxCostPerHour: 0.05 });
    expect(rule).toEqual({ tier: 'edge', p99Ms: 10, rps: 1000, maxCostPerHour: 0.05 });
    const r = applyLatencyConstraint(candidates.slice(1, 2), profiles, rule);
    expect(r.kept).toEqual([]);
    expect(r.excluded.get('small')).toBe(
      'misses p99 ≤ 10 ms, 1000 req/s, ≤ $0.05/h on edge: needs 3 replicas at $0.02/h = $0.06/h > max $0.05/h',
    );
    expect(latencyRuleFromSpec({ tier: 'fog', p95: '1.5s', p50: '800us' })).toEqual({
      tier: 'fog',
      p95Ms: 1500,
      p50Ms: 0.8,
    });
  });
});

describe('charts', () => {
  it('latency against throughput: a faceted Vega-Lite v5 line per batch size, with the budget rule', () => {
    const spec = latencyThroughputChart(threeTiers(), { budgetMs: 10 });
    expect(spec.$schema).toBe(VEGA_LITE_SCHEMA);
    expect(spec.title).toBe('penguins:2 — p99 latency against throughput');
    expect(spec.facet).toEqual({
      column: { field: 'tier', type: 'nominal', title: null, sort: ['cloud', 'fog', 'edge'] },
    });
    expect((spec.data as { values: unknown[] }).values).toHaveLength(8);
    expect((spec.data as { values: unknown[] }).values[0]).toEqual({
      tier: 'cloud',
      batchSize: 1,
      concurrency: 1,
      throughput: 1000,
      p50Ms: 0.667,
      p95Ms: 1.6,
      p99Ms: 2,
      stable: true,
    });
    const layer = (
      spec.spec as { layer: { mark: unknown; encoding: Record<string, { field?: string; datum?: number }> }[] }
    ).layer;
    expect(layer[0]!.encoding.x!.field).toBe('throughput');
    expect(layer[0]!.encoding.y!.field).toBe('p99Ms');
    expect(layer[0]!.encoding.color!.field).toBe('batchSize');
    expect(layer[1]!.encoding.y!.datum).toBe(10);
    expect(JSON.parse(JSON.stringify(spec))).toEqual(spec);
  });

  it('latency against batch size: log2 axis at the swept sizes, a line per concurrency, no rule without a budget', () => {
    const spec = latencyBatchChart(threeTiers(), { percentile: 'p95' });
    const layer = (spec.spec as { layer: { encoding: Record<string, Record<string, unknown>> }[] }).layer;
    expect(layer).toHaveLength(1);
    expect(layer[0]!.encoding.x).toMatchObject({
      field: 'batchSize',
      scale: { type: 'log', base: 2 },
      axis: { values: [1, 2, 4, 8, 16] },
    });
    expect(layer[0]!.encoding.y!.field).toBe('p95Ms');
    expect(layer[0]!.encoding.color!.field).toBe('concurrency');
  });
});

describe('wire mapping', () => {
  it('round-trips a profile and its events through the proto types', () => {
    const p = threeTiers();
    const withError = modelProfile([
      tierProfile(tier('fog'), [point(1, 1, 0, 0, { requests: 0, errors: 3, firstError: 'HTTP 503' })]),
    ]);
    expect(profileFromWire(profileToWire(p))).toEqual(p);
    expect(profileFromWire(profileToWire(withError))).toEqual(withError);
    const e = { kind: 'point', tier: 'fog', point: point(2, 4, 100, 5), done: 3, total: 9 } as const;
    expect(eventFromWire(eventToWire(e))).toEqual(e);
    expect(eventFromWire(eventToWire({ kind: 'done', profile: p }))).toEqual({ kind: 'done', profile: p });
  });

  it('takes only the settings a request names', () => {
    expect(settingsFromWire(settingsToWire(DEFAULT_SWEEP))).toEqual(DEFAULT_SWEEP);
    expect(settingsFromWire(settingsToWire({ ...DEFAULT_SWEEP, batchSizes: [], windowMs: 0, tolerance: 0.2 }))).toEqual(
      Object.fromEntries(
        Object.entries({ ...DEFAULT_SWEEP, tolerance: 0.2 }).filter(([k]) => !['batchSizes', 'windowMs'].includes(k)),
      ),
    );
    expect(settingsFromWire(undefined)).toEqual({});
  });
});

import { analyzeCapacity, expectedP99, NO_QOS, qosCheck, queueWaitP99Ms, tierVerdict } from '../capacity';
import { modelProfile, point, threeTiers, tier, tierProfile } from './hand-built';

const qos = (q: Partial<typeof NO_QOS>) => ({ ...NO_QOS, ...q });

describe('tierVerdict', () => {
  it('takes the fastest point within the budget and sizes replicas to the rate', () => {
    const fog = threeTiers().tiers[1]!;
    const v = tierVerdict(fog, qos({ p99Ms: 10, rps: 4000 }), { maxQueueDelayMs: 2 });
    expect(v).toMatchObject({
      ok: true,
      batchSize: 1,
      concurrency: 4,
      throughputPerReplica: 1500,
      replicas: 3,
      p99Ms: 9,
      costPerHour: 0.3,
      maxQueueDelayMs: 0,
    });
    expect(v.costPer1kRequests).toBeCloseTo(0.3 / (4000 * 3.6), 12);
    expect(v.reason).toBe(
      'fog: 3 replicas at $0.10/h = $0.30/h; 1500 req/s per replica at batch 1, concurrency 4 (p99 9 ms ≤ 10 ms)',
    );
  });

  it('reports the batch delay only for a batching point', () => {
    const cloud = threeTiers().tiers[0]!;
    expect(tierVerdict(cloud, qos({ p99Ms: 20 }), { maxQueueDelayMs: 2 })).toMatchObject({
      batchSize: 8,
      maxQueueDelayMs: 2,
      replicas: 1,
    });
  });

  it('explains a latency miss with the closest measured number', () => {
    const edge = threeTiers().tiers[2]!;
    expect(tierVerdict(edge, qos({ p99Ms: 20 })).reason).toBe(
      'edge: p99 at batch 1, concurrency 1 is 31 ms > 20 ms budget (the closest of 2 points)',
    );
    expect(tierVerdict(edge, qos({ p50Ms: 5, p99Ms: 100 })).reason).toBe(
      'edge: p50 at batch 1, concurrency 1 is 10.3 ms > 5 ms budget (the closest of 2 points)',
    );
  });

  it('explains a cost over the ceiling with the replicas and the price', () => {
    const fog = tierProfile(tier('fog'), [point(1, 4, 100, 5)]);
    const v = tierVerdict(fog, qos({ p99Ms: 20, rps: 450, maxCostPerHour: 0.3 }));
    expect(v.ok).toBe(false);
    expect(v.reason).toBe('fog: needs 5 replicas at $0.10/h = $0.50/h > max $0.30/h');
  });

  it('sets aside a tier the model does not fit, or where every point failed, or beyond the replica limit', () => {
    const small = tierProfile(tier('edge'), [], {
      fits: false,
      reason: "does not fit: needs 300 MiB once loaded, over the tier's 256 MiB memory",
    });
    expect(tierVerdict(small, NO_QOS).reason).toBe(
      "edge: does not fit: needs 300 MiB once loaded, over the tier's 256 MiB memory",
    );
    const broken = tierProfile(tier('fog'), [
      point(1, 1, 0, 0, { requests: 0, errors: 9, firstError: 'HTTP 500: boom' }),
    ]);
    expect(tierVerdict(broken, NO_QOS).reason).toBe('fog: every point had errors, e.g. HTTP 500: boom');
    const cloud = threeTiers().tiers[0]!;
    expect(tierVerdict(cloud, qos({ rps: 30000 }), { maxReplicas: 4 }).reason).toBe(
      'cloud: needs 5 replicas of 6000 req/s (batch 8, concurrency 8) for 30000 req/s > max 4',
    );
  });

  it('without a QoS, one replica at the highest throughput', () => {
    const v = tierVerdict(threeTiers().tiers[2]!, NO_QOS);
    expect(v).toMatchObject({ ok: true, replicas: 1, throughputPerReplica: 150, costPerHour: 0.02 });
    expect(v.costPer1kRequests).toBeCloseTo(0.02 / (150 * 3.6), 12);
  });
});

describe('expectedP99', () => {
  const points = [point(1, 1, 100, 2), point(1, 2, 180, 4), point(1, 4, 170, 9), point(1, 8, 300, 20)];

  it('interpolates by throughput on the rising part of the curve', () => {
    expect(expectedP99(points, 1, 8, 50)).toBe(2);
    expect(expectedP99(points, 1, 8, 140)).toBeCloseTo(3, 10);
    // concurrency 4 adds no throughput over 2, so it is left out: 180 → 300 goes 4 → 20 ms
    expect(expectedP99(points, 1, 8, 240)).toBeCloseTo(12, 10);
    expect(expectedP99(points, 1, 2, 240)).toBe(4);
    expect(expectedP99(points, 4, 8, 10)).toBe(0);
  });
});

describe('queueWaitP99Ms (M/D/1, Poisson arrivals)', () => {
  it('is nothing when idle, grows with utilisation, and has no bound at capacity', () => {
    expect(queueWaitP99Ms(0, 100)).toBe(0);
    expect(queueWaitP99Ms(1, 1000)).toBe(0); // ρ = 0.001: 99% of requests never wait
    // ρ = 0.5 at 100/s: ln(50) / (2 · 100 · 0.5) s
    expect(queueWaitP99Ms(50, 100)).toBeCloseTo((1000 * Math.log(50)) / 100, 10);
    expect(queueWaitP99Ms(90, 100)).toBeGreaterThan(queueWaitP99Ms(80, 100));
    expect(queueWaitP99Ms(100, 100)).toBe(Infinity);
  });
});

describe('analyzeCapacity', () => {
  it('ranks the feasible tiers cheapest first, then the rejected ones', () => {
    const r = analyzeCapacity(threeTiers(), qos({ p99Ms: 10, rps: 1000 }));
    expect(r.feasible).toBe(true);
    expect(r.tiers.map((t) => [t.tier, t.ok, t.replicas, t.costPerHour])).toEqual([
      ['fog', true, 1, 0.1],
      ['cloud', true, 1, 0.4],
      ['edge', false, 0, 0],
    ]);
    expect(r.best?.tier).toBe('fog');
  });

  it('an infeasible QoS says why for every tier', () => {
    const r = analyzeCapacity(threeTiers(), qos({ p99Ms: 1, rps: 100 }));
    expect(r.feasible).toBe(false);
    expect(r.best).toBeUndefined();
    expect(r.tiers.map((t) => t.reason)).toEqual([
      'cloud: p99 at batch 1, concurrency 1 is 2 ms > 1 ms budget (the closest of 3 points)',
      'fog: p99 at batch 1, concurrency 1 is 4 ms > 1 ms budget (the closest of 3 points)',
      'edge: p99 at batch 1, concurrency 1 is 31 ms > 1 ms budget (the closest of 2 points)',
    ]);
  });
});

describe('qosCheck', () => {
  it('judges one tier of the profile, naming the profile', () => {
    expect(qosCheck(threeTiers(), 'fog', qos({ p99Ms: 10, rps: 1000 }))).toEqual({
      ok: true,
      message:
        'fog: 1 replica at $0.10/h = $0.10/h; 1500 req/s per replica at batch 1, concurrency 4 (p99 9 ms ≤ 10 ms) (profile of penguins:2)',
    });
    expect(qosCheck(threeTiers(), 'edge', qos({ p99Ms: 20 })).ok).toBe(false);
  });

  it('says how to profile a tier the profile lacks', () => {
    expect(qosCheck(modelProfile([]), 'edge', qos({ p99Ms: 20 }))).toEqual({
      ok: false,
      message:
        'the profile of penguins:2 has no tier edge (profiled: none); run `stratum profile penguins --tiers edge`',
    });
  });
});

import {
  analyzeCapacity,
  expectedP99,
  interpolateOpenLoop,
  NO_QOS,
  nonDecreasing,
  openLoopCurve,
  qosCheck,
  tierVerdict,
} from '../capacity';
import { profileFromWire, profileToWire } from '../wire';
import { modelProfile, openPoint, point, threeTiers, tier, tierProfile } from './hand-built';

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

describe('open-loop capacity', () => {
  // Closed loop: 300 req/s at batch 16 with a p99 of 50 ms; open loop (random arrivals) the
  // p99 climbs with the rate: 30 ms at 90, 40 at 150, 70 at 210, 120 at 255 req/s.
  const edge = tierProfile(tier('edge'), [point(1, 1, 80, 30), point(16, 1, 76, 30), point(16, 8, 300, 50)], {
    openLoop: [openPoint(16, 150, 40), openPoint(16, 90, 30), openPoint(16, 255, 120), openPoint(16, 210, 70)],
  });

  it('interpolates linearly between measured rates and never beyond the highest', () => {
    const curve = openLoopCurve(edge.openLoop);
    expect(curve.map((p) => p.offeredRps)).toEqual([90, 150, 210, 255]);
    expect(interpolateOpenLoop(curve, 180)!.p99Ms).toBeCloseTo(55, 10);
    expect(interpolateOpenLoop(curve, 50)!.p99Ms).toBe(30);
    expect(interpolateOpenLoop(curve, 255)!.p99Ms).toBe(120);
    expect(interpolateOpenLoop(curve, 256)).toBeUndefined();
  });

  it('pools a dip in the measured latency with its neighbours (more load cannot shorten the queue)', () => {
    expect(nonDecreasing([10, 30, 20, 40], [1, 1, 1, 1])).toEqual([10, 25, 25, 40]);
    expect(nonDecreasing([50, 80, 100, 50], [100, 100, 100, 100])).toEqual([50, 230 / 3, 230 / 3, 230 / 3]);
    expect(nonDecreasing([10, 20, 10], [1, 3, 1])).toEqual([10, 17.5, 17.5]);
    const curve = openLoopCurve([openPoint(16, 100, 30), openPoint(16, 200, 60), openPoint(16, 300, 40)]);
    expect(curve.map((p) => p.p99Ms)).toEqual([30, 50, 50]);
  });

  it('leaves out points that were not served in full or had errors', () => {
    const curve = openLoopCurve([
      openPoint(16, 100, 30),
      openPoint(16, 200, 90, { throughput: 150 }),
      openPoint(16, 150, 50, { errors: 2 }),
    ]);
    expect(curve.map((p) => p.offeredRps)).toEqual([100]);
  });

  it('predicts the p99 interpolated at the per-replica rate, with the fewest replicas that meet the budget', () => {
    const v = tierVerdict(edge, qos({ p99Ms: 76, rps: 180 }), { maxQueueDelayMs: 2 });
    expect(v).toMatchObject({ ok: true, replicas: 1, batchSize: 16, basis: 'open-loop', throughputPerReplica: 300 });
    expect(v.expectedP99Ms).toBeCloseTo(55, 10);
    // 420 req/s: 2 replicas take 210 each, p99 70 ms (the closed loop alone would have said 50 ms).
    const two = tierVerdict(edge, qos({ p99Ms: 76, rps: 420 }));
    expect(two).toMatchObject({ ok: true, replicas: 2 });
    expect(two.expectedP99Ms).toBeCloseTo(70, 10);
    // 240 req/s is on the curve (p99 ≈ 103 ms > 76): two replicas at 120 each instead.
    const more = tierVerdict(edge, qos({ p99Ms: 76, rps: 240 }));
    expect(more).toMatchObject({ ok: true, replicas: 2 });
    expect(more.expectedP99Ms).toBeCloseTo(35, 10);
    expect(more.reason).toBe(
      'edge: 2 replicas at $0.02/h = $0.04/h; 120 req/s per replica, batch 16 (p99 35 ms ≤ 76 ms), from the open loop measured 90.0 req/s to 255 req/s',
    );
  });

  it('rejects with the measured number when even the lowest measured rate misses the budget', () => {
    const v = tierVerdict(edge, qos({ p99Ms: 20, rps: 200 }));
    expect(v.ok).toBe(false);
    expect(v.reason).toBe(
      'edge: p99 at 90.0 req/s is 30 ms > 20 ms even at the lowest measured rate (open loop, batch 16, measured 90.0 req/s to 255 req/s)',
    );
  });

  it('rejects a replica count beyond the maximum instead of extrapolating past the curve', () => {
    const v = tierVerdict(edge, qos({ p99Ms: 200, rps: 600 }), { maxReplicas: 2 });
    expect(v.ok).toBe(false);
    expect(v.reason).toContain('needs more than 2 replicas for 600 req/s');
    // Without the limit: 600 / 255 → 3 replicas at 200 req/s each, never 2 at 300 (not measured).
    expect(tierVerdict(edge, qos({ p99Ms: 200, rps: 600 })).replicas).toBe(3);
  });

  it('falls back to the closed loop for a profile without open-loop points, and says so', () => {
    const fog = threeTiers().tiers[1]!;
    const v = tierVerdict(fog, qos({ p99Ms: 10, rps: 4000 }));
    expect(v.basis).toBe('closed-loop (the profile has no open-loop points)');
    expect(v.replicas).toBe(3);
  });

  it('keeps open-loop points over the wire, and reads a profile without them as before', () => {
    const p = modelProfile([edge, threeTiers().tiers[1]!]);
    const back = profileFromWire(profileToWire(p));
    expect(back.tiers[0]!.openLoop).toEqual(edge.openLoop);
    expect(back.tiers[1]!.openLoop).toBeUndefined();
    expect(tierVerdict(back.tiers[0]!, qos({ p99Ms: 76, rps: 420 })).expectedP99Ms).toBeCloseTo(70, 10);
  });
});

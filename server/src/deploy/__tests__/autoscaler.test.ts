import fc from 'fast-check';

import {
  decide,
  DEFAULT_AUTOSCALING,
  initialAutoscalerState,
  recommend,
  type AutoscalerConfig,
  type AutoscalerState,
  type Decision,
  type Load,
} from '../autoscaler';

const config = (patch: Partial<AutoscalerConfig> = {}): AutoscalerConfig => ({
  ...DEFAULT_AUTOSCALING,
  minReplicas: 0,
  maxReplicas: 10,
  ...patch,
});

const load = (patch: Partial<Load> = {}): Load => ({ inflight: 0, rps: 0, p95Ms: 0, buffered: 0, ...patch });
const idle = load();

/** A manual clock: each tick advances it and feeds the policy its previous state. */
class Sim {
  now = 0;
  state: AutoscalerState;
  readonly events: { at: number; kind: string; message: string }[] = [];

  constructor(
    readonly config: AutoscalerConfig,
    desired: number,
  ) {
    this.state = initialAutoscalerState(desired, 0);
  }

  tick(l: Load, advanceMs = 1000): Decision {
    this.now += advanceMs;
    const d = decide(this.config, this.state, l, this.now);
    this.state = d.state;
    if (d.event) this.events.push({ at: this.now, ...d.event });
    expect(d.state.desired).toBe(d.desired);
    return d;
  }

  /** Desired replicas after each of `n` ticks of the same load. */
  run(l: Load, n: number, advanceMs = 1000): number[] {
    return Array.from({ length: n }, () => this.tick(l, advanceMs).desired);
  }
}

describe('recommend', () => {
  it('is ⌈in flight / target⌉, at least 1 while anything happens', () => {
    const c = config({ targetConcurrency: 8 });
    expect(recommend(c, 1, load({ inflight: 0 })).replicas).toBe(0);
    expect(recommend(c, 1, load({ inflight: 0.01, rps: 1 })).replicas).toBe(1);
    expect(recommend(c, 1, load({ rps: 3 })).replicas).toBe(1);
    expect(recommend(c, 1, load({ inflight: 8 })).replicas).toBe(1);
    expect(recommend(c, 1, load({ inflight: 8.5 })).replicas).toBe(2);
    expect(recommend(c, 1, load({ inflight: 64 }))).toEqual({
      replicas: 8,
      reason: 'mean 64 requests in flight for a target of 8 per replica',
    });
  });

  it('counts buffered requests when the in-flight mean lags behind them', () => {
    expect(recommend(config(), 0, load({ buffered: 20 })).replicas).toBe(3);
  });

  it('takes 0 as the default target of 8', () => {
    expect(recommend(config({ targetConcurrency: 0 }), 1, load({ inflight: 17 })).replicas).toBe(3);
  });

  it('asks for more in proportion when p95 is over its target, and never fewer than now', () => {
    const c = config({ targetP95Ms: 20 });
    expect(recommend(c, 2, load({ inflight: 1, p95Ms: 50 }))).toEqual({
      replicas: 5,
      reason: 'p95 50 ms is over the 20 ms target',
    });
    expect(recommend(c, 4, load({ inflight: 1, p95Ms: 21 })).replicas).toBe(5);
    expect(recommend(c, 2, load({ inflight: 1, p95Ms: 19 })).replicas).toBe(1);
    expect(recommend(config(), 2, load({ inflight: 1, p95Ms: 500 })).replicas).toBe(1);
  });
});

describe('decide', () => {
  it('scales up at once with a zero delay, saying why', () => {
    const sim = new Sim(config(), 1);
    expect(sim.tick(load({ inflight: 30, rps: 100 })).desired).toBe(4);
    expect(sim.events).toEqual([
      { at: 1000, kind: 'scaled', message: '1 → 4 replicas: mean 30 requests in flight for a target of 8 per replica' },
    ]);
  });

  it('bounds growth per decision by maxScaleUpRate, and stops at max', () => {
    const sim = new Sim(config({ maxScaleUpRate: 2, maxReplicas: 12 }), 1);
    expect(sim.run(load({ inflight: 200 }), 5)).toEqual([2, 4, 8, 12, 12]);
  });

  it('with a scale-up delay, scales only when the load stayed high, to the lowest level it held', () => {
    const sim = new Sim(config({ scaleUpDelayMs: 3000 }), 1);
    expect(sim.tick(load({ inflight: 40 })).desired).toBe(1);
    expect(sim.tick(load({ inflight: 20 })).desired).toBe(1);
    expect(sim.tick(load({ inflight: 40 })).desired).toBe(1);
    expect(sim.tick(load({ inflight: 40 })).desired).toBe(3);
  });

  it('a short spike under the scale-up delay changes nothing', () => {
    const sim = new Sim(config({ scaleUpDelayMs: 3000 }), 2);
    expect(sim.run(load({ inflight: 40 }), 2)).toEqual([2, 2]);
    expect(sim.run(load({ inflight: 9 }), 5)).toEqual([2, 2, 2, 2, 2]);
    expect(sim.events).toEqual([]);
  });

  it('scales down only after the quiet window, to the highest load seen in it', () => {
    const sim = new Sim(config({ scaleDownDelayMs: 4000, minReplicas: 1 }), 8);
    const lows = [
      load({ inflight: 8 }),
      load({ inflight: 24 }),
      load({ inflight: 8 }),
      load({ inflight: 8 }),
      load({ inflight: 8 }),
    ];
    expect(lows.map((l) => sim.tick(l).desired)).toEqual([8, 8, 8, 8, 3]);
    expect(sim.events).toEqual([
      {
        at: 5000,
        kind: 'scaled',
        message: '8 → 3 replicas: mean 8 requests in flight for a target of 8 per replica, for 4 s',
      },
    ]);
  });

  it('a dip shorter than the quiet window changes nothing, and load back at the level resets it', () => {
    const sim = new Sim(config({ scaleDownDelayMs: 5000, minReplicas: 1 }), 4);
    expect(sim.run(load({ inflight: 8 }), 4)).toEqual([4, 4, 4, 4]);
    expect(sim.tick(load({ inflight: 32 })).desired).toBe(4);
    expect(sim.run(load({ inflight: 8 }), 5)).toEqual([4, 4, 4, 4, 4]);
    expect(sim.tick(load({ inflight: 8 })).desired).toBe(1);
  });

  it("does not flip at a steady rate just over one replica's capacity (in flight falls as replicas are added)", () => {
    // One replica queues at 400 req/s (9 in flight), two do not (5 in flight): by in-flight alone
    // the policy would return to 1 after every quiet window, and back to 2 at once.
    const sim = new Sim(config({ scaleDownDelayMs: 2000, minReplicas: 1 }), 1);
    const plant = (rps: number) => () => load({ rps, inflight: sim.state.desired === 1 ? rps / 45 : rps / 80 });
    const at400 = plant(400);
    const desired = Array.from({ length: 60 }, () => sim.tick(at400()).desired);
    expect(desired.slice(1)).toEqual(Array(59).fill(2));
    expect(sim.events).toHaveLength(1);
    // At 300 req/s one replica copes (6.7 in flight): down after the quiet window, and it stays.
    const at300 = plant(300);
    const after = Array.from({ length: 30 }, () => sim.tick(at300()).desired);
    expect(after.slice(3)).toEqual(Array(27).fill(1));
    expect(sim.events.at(-1)!.message).toMatch(/^2 → 1 replica: mean 3\.8 requests in flight/);
  });

  it('scales down to the fewest replicas the remembered rate allows, and says so', () => {
    const sim = new Sim(config({ scaleDownDelayMs: 2000, minReplicas: 1 }), 2);
    sim.tick(load({ rps: 800, inflight: 40 })); // 2 were too few at 800 req/s → 5
    expect(sim.state.desired).toBe(5);
    // 750 req/s with little in flight: 2 replicas are trusted only below 0.9 × 800 = 720.
    expect(sim.run(load({ rps: 750, inflight: 4 }), 3)).toEqual([5, 5, 3]);
    expect(sim.events.at(-1)!.message).toMatch(/not fewer, as 2 replicas were too few at 800 req\/s \(now 750\)$/);
  });

  it('forgets the rate that forced a scale-up after rateMemoryMs', () => {
    const sim = new Sim(config({ scaleDownDelayMs: 2000, minReplicas: 1, rateMemoryMs: 10_000 }), 1);
    sim.tick(load({ rps: 400, inflight: 9 }));
    expect(sim.run(load({ rps: 400, inflight: 5 }), 8)).toEqual(Array(8).fill(2));
    expect(sim.run(load({ rps: 400, inflight: 5 }), 4)).toContain(1);
  });

  it('never goes below min, even idle', () => {
    const sim = new Sim(config({ minReplicas: 2, scaleDownDelayMs: 1000 }), 5);
    expect(sim.run(idle, 120)).toContain(2);
    expect(sim.state.desired).toBe(2);
  });

  it('goes to zero only after idleToZeroMs without a request, when min is 0', () => {
    const sim = new Sim(config({ idleToZeroMs: 30_000, scaleDownDelayMs: 10_000 }), 3);
    sim.tick(load({ inflight: 20, rps: 50 }));
    const trace = sim.run(idle, 31);
    expect(trace.slice(0, 10)).toEqual(Array(10).fill(3));
    expect(trace.slice(10, 29)).toEqual(Array(19).fill(1));
    expect(trace.slice(29)).toEqual([0, 0]);
    expect(sim.events).toEqual([
      {
        at: 12_000,
        kind: 'scaled',
        message: '3 → 1 replica: mean 0 requests in flight for a target of 8 per replica, for 10 s',
      },
      { at: 31_000, kind: 'scale-to-zero', message: '1 → 0 replicas: no requests for 30 s' },
    ]);
  });

  it('keeps a replica while a trickle of requests arrives', () => {
    const sim = new Sim(config({ idleToZeroMs: 5000 }), 1);
    expect(sim.run(load({ rps: 0.2 }), 60)).toEqual(Array(60).fill(1));
  });

  it('a request during the idle countdown restarts it', () => {
    const sim = new Sim(config({ idleToZeroMs: 5000 }), 1);
    expect(sim.run(idle, 4)).toEqual([1, 1, 1, 1]);
    sim.tick(load({ rps: 1 }));
    expect(sim.run(idle, 5)).toEqual([1, 1, 1, 1, 0]);
  });

  it('starts from zero at once when a request is buffered, whatever the delays', () => {
    const sim = new Sim(config({ scaleUpDelayMs: 60_000 }), 0);
    expect(sim.run(idle, 3)).toEqual([0, 0, 0]);
    expect(sim.tick(load({ buffered: 1, inflight: 0 }), 10).desired).toBe(1);
    expect(sim.events).toEqual([
      { at: 3010, kind: 'cold-start', message: '0 → 1 replica: 1 requests buffered at the gateway' },
    ]);
  });

  it('starts enough replicas for a burst buffered at zero, within max', () => {
    expect(decide(config({ maxReplicas: 3 }), initialAutoscalerState(0, 0), load({ buffered: 100 }), 1).desired).toBe(
      3,
    );
    expect(decide(config(), initialAutoscalerState(0, 0), load({ buffered: 20, inflight: 20 }), 1).desired).toBe(3);
  });

  it('follows bounds moved by ScaleDeployment at once', () => {
    const up = decide(config({ minReplicas: 3 }), initialAutoscalerState(1, 0), idle, 1);
    expect(up.desired).toBe(3);
    expect(up.event).toEqual({ kind: 'scaled', message: '1 → 3 replicas: raised to the minimum of 3' });
    const down = decide(config({ maxReplicas: 2 }), initialAutoscalerState(6, 0), load({ inflight: 100 }), 1);
    expect(down).toMatchObject({
      desired: 2,
      event: { kind: 'scaled', message: '6 → 2 replicas: lowered to the maximum of 2' },
    });
    const fromZero = decide(config({ minReplicas: 2 }), initialAutoscalerState(0, 0), idle, 1);
    expect(fromZero).toMatchObject({ desired: 2, event: { kind: 'scaled' } });
  });

  it('scales up on latency over its target even when concurrency looks fine', () => {
    const sim = new Sim(config({ targetP95Ms: 10, minReplicas: 1 }), 2);
    expect(sim.tick(load({ inflight: 2, p95Ms: 25 })).desired).toBe(5);
    expect(sim.events[0]!.message).toBe('2 → 5 replicas: p95 25 ms is over the 10 ms target');
    expect(sim.run(load({ inflight: 2, p95Ms: 25 }), 3)).toEqual([10, 10, 10]);
  });

  it('emits an event only when desired changes', () => {
    const sim = new Sim(config({ minReplicas: 1 }), 2);
    sim.run(load({ inflight: 12 }), 20);
    expect(sim.events).toEqual([]);
  });

  it('stays within [min, max], with an event exactly on each change (property)', () => {
    const loads = fc.record({
      inflight: fc.double({ min: 0, max: 500, noNaN: true }),
      rps: fc.double({ min: 0, max: 1000, noNaN: true }),
      p95Ms: fc.double({ min: 0, max: 1000, noNaN: true }),
      buffered: fc.nat(50),
    });
    const configs = fc
      .record({
        min: fc.nat(4),
        span: fc.nat(8),
        targetConcurrency: fc.double({ min: 0.5, max: 32, noNaN: true }),
        targetP95Ms: fc.double({ min: 0, max: 100, noNaN: true }),
        scaleUpDelayMs: fc.nat(5000),
        scaleDownDelayMs: fc.nat(20_000),
        idleToZeroMs: fc.nat(60_000),
        maxScaleUpRate: fc.double({ min: 1, max: 10, noNaN: true }),
      })
      .map(({ min, span, ...rest }) => ({ ...rest, minReplicas: min, maxReplicas: Math.max(1, min + span) }));
    fc.assert(
      fc.property(
        configs,
        fc.array(fc.tuple(loads, fc.integer({ min: 1, max: 5000 })), { maxLength: 60 }),
        (c, steps) => {
          let state = initialAutoscalerState(c.minReplicas, 0);
          let now = 0;
          for (const [l, dt] of steps) {
            now += dt;
            const d = decide(c, state, l, now);
            expect(d.desired).toBeGreaterThanOrEqual(c.minReplicas);
            expect(d.desired).toBeLessThanOrEqual(c.maxReplicas);
            expect(d.event !== undefined).toBe(d.desired !== state.desired);
            if (l.buffered > 0) expect(d.desired).toBeGreaterThan(0);
            state = d.state;
          }
        },
      ),
    );
  });
});

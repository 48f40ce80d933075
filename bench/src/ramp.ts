/**
 * bench/ramp: the deployment engine's acceptance ramp on a whole Stratum (`stratum serve` with
 * two local workers and the gateway, every part its own process).
 *
 * The penguins model is trained, profiled on the cloud tier (the plan's QoS check needs the
 * profile), and deployed with min 0, max 2 and a p99 budget. An open-loop load (no coordinated
 * omission: each request's latency counts from when it was due) steps up from idle until the
 * second replica is ready, then holds that rate; once the replica count has not changed for a
 * while, one window measures the settled p99, reported against the QoS as a ratio. Then the
 * load stops: the time until the deployment is scaled to zero, and the first request after it
 * (the cold start, as the client saw it and as the gateway recorded it).
 *
 *   node bench/dist/ramp.js [--quick] [--qos-p99 MS]
 */
import { Deployment_State, Replica_State } from '@stratum/proto';
import { openLoop, type LoadResult } from '@stratum/server/dist/profiler/loadgen';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { printTable, writeResult } from './report';
import { PENGUINS_SPEC, REPO, StratumSystem } from './system';

/** The README's example request: one penguin every penguins model calls Gentoo. */
const BODY = JSON.stringify(JSON.parse(readFileSync(join(REPO, 'examples', 'penguins-request.json'), 'utf8')));

/**
 * The default budget is generous: loopback through the gateway, with the load generator and
 * every Stratum process on the same (shared) cores. --qos-p99 asks for another.
 */
const DEFAULT_QOS_P99_MS = 250;
/** Requests per second of each ramp step, until the second replica is ready. */
const RATES = [25, 50, 100, 200, 400, 800, 1600, 3200];
/** Requests waiting client-side beyond this count are still charged from when they were due. */
const MAX_OUTSTANDING = 256;

interface Config {
  readonly quick: boolean;
  readonly stepMs: number;
  /** The replica count must hold this long to count as settled (bounded by maxSettleMs). */
  readonly settleMs: number;
  readonly maxSettleMs: number;
  readonly windowMs: number;
  readonly idleToZeroMs: number;
  readonly qosP99Ms: number;
}

function config(argv: readonly string[]): Config {
  const quick = argv.includes('--quick');
  const at = argv.indexOf('--qos-p99');
  const qos = at >= 0 ? Number(argv[at + 1]) : DEFAULT_QOS_P99_MS;
  if (!(qos > 0)) throw new Error(`--qos-p99 expects milliseconds > 0, got ${argv[at + 1]}`);
  return {
    quick,
    stepMs: quick ? 3000 : 5000,
    // Longer than the load report's window plus the scale-down delay (2 s): a second replica the
    // rate does not need (it came with a burst) is gone by then.
    settleMs: 8000,
    maxSettleMs: quick ? 30_000 : 45_000,
    windowMs: quick ? 5000 : 10_000,
    idleToZeroMs: quick ? 3000 : 5000,
    qosP99Ms: qos,
  };
}

interface Sample {
  readonly tMs: number;
  readonly ready: number;
  readonly desired: number;
  readonly state: string;
}

/** Polls the deployment every 250 ms from start() to stop(): replicas over time. */
class ReplicaTrace {
  readonly samples: Sample[] = [];
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  private readonly t0 = performance.now();

  constructor(
    private readonly system: StratumSystem,
    private readonly name: string,
  ) {}

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        await this.sample().catch(() => undefined);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
  }

  async sample(): Promise<Sample> {
    const d = await this.system.deployment(this.name);
    const s = {
      tMs: Math.round(performance.now() - this.t0),
      ready: d.replicas.filter((r) => r.state === Replica_State.READY).length,
      desired: d.desiredReplicas,
      state: Deployment_State[d.state] ?? String(d.state),
    };
    const last = this.samples.at(-1);
    if (!last || last.ready !== s.ready || last.desired !== s.desired || last.state !== s.state) this.samples.push(s);
    return s;
  }

  get now(): Sample | undefined {
    return this.samples.at(-1);
  }

  /** Since when the ready count has been what it is now (trace time, ms). */
  get readySince(): number {
    const n = this.now?.ready;
    let since = this.now?.tMs ?? 0;
    for (let i = this.samples.length - 1; i >= 0 && this.samples[i]!.ready === n; i--) since = this.samples[i]!.tMs;
    return since;
  }

  get elapsedMs(): number {
    return performance.now() - this.t0;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

async function predict(endpoint: string): Promise<void> {
  const res = await fetch(endpoint, { method: 'POST', body: BODY, headers: { 'content-type': 'application/json' } });
  const body = (await res.json()) as { predictions?: string[]; error?: string };
  if (!res.ok || body.predictions?.[0] !== 'Gentoo') throw new Error(`${res.status} ${body.error ?? ''}`);
}

const round = (n: number, digits = 1): number => Number(n.toFixed(digits));

interface Step {
  readonly rps: number;
  readonly phase: 'ramp' | 'settling' | 'settled window' | 'window (count changed)';
  readonly seconds: number;
  readonly requests: number;
  readonly errors: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly readyAtEnd: number;
}

const stepOf = (phase: Step['phase'], r: LoadResult, ready: number): Step => ({
  rps: r.ratePerSec!,
  phase,
  seconds: round(r.seconds, 2),
  requests: r.requests,
  errors: r.errors,
  p50Ms: round(r.latency.p50Ms, 2),
  p99Ms: round(r.latency.p99Ms, 2),
  readyAtEnd: ready,
});

async function main(): Promise<void> {
  const c = config(process.argv.slice(2));
  const t0 = performance.now();
  const system = await StratumSystem.start({
    workers: 2,
    flags: ['--idle-to-zero', String(c.idleToZeroMs), '--scale-down-delay', '2000'],
  });
  try {
    await system.run({ file: PENGUINS_SPEC });
    const profileStart = performance.now();
    await system.cli([
      ...['profile', 'penguins', '--tiers', 'cloud', '--batch-sizes', '1,8', '--concurrency', '1,4'],
      ...['--window-ms', '200'],
    ]);
    const profileSeconds = (performance.now() - profileStart) / 1000;
    await system.cli(
      [
        ...['deploy', 'penguins', '--tier', 'cloud', '--min', '0', '--max', '2', '--target-concurrency', '1'],
        ...['--qos', `p99=${c.qosP99Ms}ms`, '--json'],
      ],
      180_000,
    );
    const ready = await system.waitReady('penguins');
    const endpoint = `${ready.endpoint}/v2/models/penguins/predict`;
    const trace = new ReplicaTrace(system, 'penguins');
    trace.start();
    await trace.sample();

    // 1. Ramp: step the rate up until the second replica is ready.
    const steps: Step[] = [];
    let rate = RATES[0]!;
    let secondAtRps = 0;
    for (rate of RATES) {
      const r = await openLoop(() => predict(endpoint), {
        ratePerSec: rate,
        durationMs: c.stepMs,
        maxOutstanding: MAX_OUTSTANDING,
      });
      const now = await trace.sample();
      steps.push(stepOf('ramp', r, now.ready));
      if (now.ready >= 2) {
        secondAtRps = rate;
        break;
      }
    }
    // 2. Hold the rate until the replica count has not changed for settleMs; if the autoscaler
    // goes back to one replica, a burst brought the second, not the rate: step up again. 3. One
    // window at that rate measures the settled p99; if the count changed during it, the rate sat
    // at the autoscaler's boundary: step up and settle again (bounded by the fastest rate).
    let settledAfterMs = 0;
    let settledReplicas = 0;
    let heldThroughWindow = false;
    let window: LoadResult;
    let windows = 0;
    for (;;) {
      const settleStart = trace.elapsedMs;
      while (trace.elapsedMs - settleStart < c.maxSettleMs) {
        const now = await trace.sample();
        if (now.ready >= 2 && trace.elapsedMs - trace.readySince >= c.settleMs) break;
        if (now.desired < 2 && rate < RATES.at(-1)!) {
          rate = RATES[RATES.indexOf(rate) + 1]!;
          secondAtRps = 0;
        }
        if (now.ready >= 2 && !secondAtRps) secondAtRps = rate;
        const r = await openLoop(() => predict(endpoint), {
          ratePerSec: rate,
          durationMs: 1000,
          maxOutstanding: MAX_OUTSTANDING,
        });
        steps.push(stepOf('settling', r, (await trace.sample()).ready));
      }
      settledAfterMs = trace.elapsedMs;
      settledReplicas = (await trace.sample()).ready;
      const changesBefore = trace.samples.length;
      window = await openLoop(() => predict(endpoint), {
        ratePerSec: rate,
        durationMs: c.windowMs,
        maxOutstanding: MAX_OUTSTANDING,
      });
      const afterWindow = await trace.sample();
      // Held: nothing changed in the trace since the window started.
      heldThroughWindow = trace.samples.length === changesBefore && afterWindow.ready === settledReplicas;
      steps.push(stepOf(heldThroughWindow ? 'settled window' : 'window (count changed)', window, afterWindow.ready));
      // At most three windows, to keep the bench within its few minutes.
      if (heldThroughWindow || rate === RATES.at(-1) || ++windows >= 3) break;
      rate = RATES[RATES.indexOf(rate) + 1]!;
      secondAtRps = 0;
    }
    const loadEnd = performance.now();

    // 4. Idle: scaled to zero, then the next request starts a replica.
    await system.waitFor(async () => {
      const s = await trace.sample();
      return s.state === 'SCALED_TO_ZERO' && s.ready === 0;
    }, 120_000);
    const scaleToZeroMs = performance.now() - loadEnd;
    await trace.stop();
    const cold0 = performance.now();
    await predict(endpoint);
    const coldStartMs = performance.now() - cold0;
    let coldStartEventMs: number | null = null;
    await system
      .waitFor(async () => {
        const events = JSON.parse(await system.cli(['logs', 'penguins', '--json'])) as {
          kind: string;
          message: string;
        }[];
        const m = events
          .filter((e) => e.kind === 'cold-start')
          .map((e) => /in (\d+) ms/.exec(e.message)?.[1])
          .filter(Boolean)
          .at(-1);
        if (m) coldStartEventMs = Number(m);
        return m !== undefined;
      }, 15_000)
      .catch(() => undefined);

    const ratio = window.latency.p99Ms / c.qosP99Ms;
    printTable(
      `ramp: open loop, penguins on cloud (min 0, max 2, target 1 in flight per replica), QoS p99 ${c.qosP99Ms} ms`,
      ['phase', 'rps', 's', 'requests', 'errors', 'p50 ms', 'p99 ms', 'ready after'],
      steps.map((s) => [s.phase, s.rps, s.seconds, s.requests, s.errors, s.p50Ms, s.p99Ms, s.readyAtEnd]),
    );
    printTable(
      'replicas over time',
      ['t s', 'ready', 'desired', 'state'],
      trace.samples.map((s) => [round(s.tMs / 1000), s.ready, s.desired, s.state]),
    );
    printTable(
      'ramp summary',
      [
        'second replica at rps',
        'settled after s',
        'settled p99 ms',
        'QoS p99 ms',
        'ratio',
        'to zero s',
        'cold start ms',
      ],
      [
        [
          secondAtRps || '-',
          round(settledAfterMs / 1000),
          round(window.latency.p99Ms, 2),
          c.qosP99Ms,
          round(ratio, 2),
          round(scaleToZeroMs / 1000),
          `${round(coldStartMs, 0)} (event ${coldStartEventMs ?? '-'})`,
        ],
      ],
    );
    const path = writeResult(c.quick ? 'ramp-quick' : 'ramp', {
      mode: c.quick ? 'quick' : 'full',
      config: c,
      profileSeconds: round(profileSeconds),
      qos: { p99Ms: c.qosP99Ms },
      steps,
      replicasOverTime: trace.samples,
      secondReplicaAtRps: secondAtRps || null,
      settled: {
        afterMs: Math.round(settledAfterMs),
        replicas: settledReplicas,
        heldThroughWindow,
        rps: rate,
        windowMs: c.windowMs,
        requests: window.requests,
        errors: window.errors,
        p50Ms: round(window.latency.p50Ms, 2),
        p99Ms: round(window.latency.p99Ms, 2),
        qosRatio: round(ratio, 3),
      },
      scaleToZeroMs: Math.round(scaleToZeroMs),
      idleToZeroMs: c.idleToZeroMs,
      coldStartMs: round(coldStartMs, 1),
      coldStartEventMs,
      errors: steps.reduce((n, s) => n + s.errors, 0),
      seconds: round((performance.now() - t0) / 1000),
    });
    console.log(`\nwrote ${path}`);
  } finally {
    await system.stop();
  }
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

/**
 * bench/soak: steady open-loop load through the gateway on a deployment of 2 replicas, with a
 * replica process killed (SIGKILL) every ~60 s, on a whole `stratum serve --workers 2`.
 *
 * The replica to kill comes from the deployment's replica records (pid), checked to be a
 * replica process whose parent is one of this system's workers. Reported: requests sent,
 * answered and failed; for each kill, the requests in flight at the client at that instant
 * (an upper bound of those in flight on the killed replica: the bound failures must stay
 * within), the failures from it to the next kill, and how long until the deployment had 2 ready
 * replicas again; the gateway's retries; latency after warm-up; and memory.
 *
 * Memory. Every process of the system runs with heap-probe.ts (NODE_OPTIONS=--require), which
 * samples it every 5 s and records its live heap after a full GC when the soak asks. Warm-up
 * lasts until just before the first kill (59 s; see main). For each long-lived process (control
 * plane, worker agents, gateway): resident memory (VmRSS) after warm-up vs at the end — the
 * acceptance, at most +10% — and likewise its live heap (a leak shows there), both with their
 * slopes over the last minutes, and V8's committed young generation and old space (where
 * resident growth that is not live heap sits). RSS is read before each kill too. A killed
 * replica's replacement is a new process (from the warm pool): replicas and warm-pool processes
 * are listed one by one, from their first to their last reading, not against the limit.
 *
 *   node bench/dist/soak.js [--minutes 10] [--rate 100] [--quick]   (--quick: 1 minute)
 */
import { openLoop, type LoadResult, type Task } from '@stratum/server/dist/profiler/loadgen';
import { inferTask } from '@stratum/server/dist/profiler/sweep';
import { Replica_State } from '@stratum/proto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

import { probeEnv, readProbe, type ProbeSample } from './heap-probe';
import { printTable, writeResult } from './report';
import { sampleRows } from './requests';
import { PENGUINS_SPEC, rssMiB, StratumSystem } from './system';

export const RSS_GROWTH_LIMIT = 0.1;
const MIB = 2 ** 20;

/** Least-squares slope of (seconds, MiB) points, in MiB per minute; NaN with fewer than 2 points. */
export function slopePerMinute(points: readonly { readonly s: number; readonly mib: number }[]): number {
  if (points.length < 2) return NaN;
  const n = points.length;
  const ms = points.reduce((a, p) => a + p.s, 0) / n;
  const mv = points.reduce((a, p) => a + p.mib, 0) / n;
  const num = points.reduce((a, p) => a + (p.s - ms) * (p.mib - mv), 0);
  const den = points.reduce((a, p) => a + (p.s - ms) ** 2, 0);
  return den === 0 ? NaN : (num / den) * 60;
}

/** One long-lived process over the soak: resident memory and live heap after warm-up vs at the end. */
export interface ProcessMemory {
  readonly pid: number;
  /** VmRSS (MiB) after warm-up, at the end, their ratio - 1, and the slope over the last minutes. */
  readonly rss: {
    readonly afterWarmupMiB: number;
    readonly endMiB: number;
    readonly growth: number;
    readonly slopeMiBPerMin: number;
  };
  /** V8 heap used right after a full GC (the live heap, MiB), likewise. */
  readonly liveHeap: {
    readonly afterWarmupMiB: number;
    readonly endMiB: number;
    readonly growth: number;
    readonly slopeMiBPerMin: number;
  };
  /** Committed MiB of V8's spaces after warm-up and at the end (where RSS growth that is not live heap goes). */
  readonly spaces: { readonly afterWarmup: Record<string, number>; readonly end: Record<string, number> };
}

const toMiB = (bytes: number) => bytes / MIB;
const spacesMiB = (s: ProbeSample | undefined): Record<string, number> =>
  Object.fromEntries(Object.entries(s?.spaces ?? {}).map(([k, v]) => [k, Number(toMiB(v).toFixed(2))]));

/**
 * One long-lived process's figures: resident memory read from /proc at the checkpoints after
 * warm-up and at the end (`rss`), the live heap from the probe's post-GC samples taken at the
 * same checkpoints, slopes over the window that starts at `slopeFromS` (the last minutes;
 * seconds since the load started at `t0`), and V8's committed spaces at both ends.
 */
export function processMemory(
  pid: number,
  rss: { readonly afterWarmupMiB: number; readonly endMiB: number },
  samples: readonly ProbeSample[],
  o: { readonly t0: number; readonly fromS: number; readonly toS: number; readonly slopeFromS: number },
): ProcessMemory {
  const at = (x: ProbeSample) => (x.t - o.t0) / 1000;
  const inPeriod = (x: ProbeSample) => at(x) >= o.fromS - 5 && at(x) <= o.toS + 5;
  const periodic = samples.filter((x) => !x.gc && inPeriod(x));
  const gcs = samples.filter((x) => x.gc && inPeriod(x));
  const figure = (a: number, b: number, points: { s: number; mib: number }[]) => ({
    afterWarmupMiB: a,
    endMiB: b,
    growth: b / a - 1,
    slopeMiBPerMin: slopePerMinute(points),
  });
  return {
    pid,
    rss: figure(
      rss.afterWarmupMiB,
      rss.endMiB,
      periodic.filter((x) => at(x) >= o.slopeFromS).map((x) => ({ s: at(x), mib: toMiB(x.rss) })),
    ),
    liveHeap: figure(
      toMiB(gcs[0]?.heapUsed ?? NaN),
      toMiB(gcs[gcs.length - 1]?.heapUsed ?? NaN),
      gcs.filter((x) => at(x) >= o.slopeFromS).map((x) => ({ s: at(x), mib: toMiB(x.heapUsed) })),
    ),
    spaces: {
      afterWarmup: spacesMiB(periodic.filter((x) => at(x) <= o.fromS).pop() ?? periodic[0]),
      end: spacesMiB(periodic[periodic.length - 1]),
    },
  };
}

interface Kill {
  readonly atS: number;
  readonly pid: number;
  readonly replicaId: string;
  readonly inFlightAtClient: number;
  recoveredAfterMs?: number;
  /** Failed requests from this kill to the next one (or the end). */
  failuresSince: number;
}

function flag(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : undefined;
}

async function gatewayRetries(gateway: string): Promise<number> {
  const text = await (await fetch(`${gateway}/metrics`)).text();
  return [...text.matchAll(/^stratum_gateway_retries_total\{[^}]*\} (\S+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : '-');
const pct = (x: number) => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%` : '-');

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const minutes = Number(flag('minutes') ?? (quick ? 1 : 10));
  const rate = Number(flag('rate') ?? 100);
  if (!(minutes > 0) || !(rate > 0)) throw new Error('--minutes and --rate expect numbers > 0');
  const durationMs = minutes * 60_000;
  const killEveryMs = Math.min(60_000, durationMs / 3);
  // Warm-up: until just before the first kill. In that minute the hot paths are compiled, the
  // gateway's keep-alive pools, the replicas' batchers and every metric series exist, and the
  // gateway has sent its first load reports; from then on nothing new is created by the load
  // itself, only by the kills, which are part of what is measured.
  const warmupMs = killEveryMs - 1000;
  // Slopes over the last minutes (up to 3, at most half of the measured period).
  const slopeMs = Math.min(180_000, (durationMs - warmupMs) / 2);
  const load = { before: loadavg()[0]!, after: 0 };

  const probeDir = mkdtempSync(join(tmpdir(), 'stratum-soak-probe-'));
  const system = await StratumSystem.start({ workers: 2, env: probeEnv(probeDir) });
  const kills: Kill[] = [];
  const failures: { atMs: number; message: string }[] = [];
  let sent = 0;
  let answered = 0;
  let inFlight = 0;
  let result: LoadResult;
  let rss: Record<string, { afterWarmupMiB: number; endMiB: number; growth: number }> = {};
  /** RSS of each long-lived process (MiB) after warm-up, just before each kill, and at the end; the load average then. */
  const trajectory: { atS: number; mib: Record<string, number>; loadAverage: number }[] = [];
  let retries = 0;
  let name = '';
  let t0 = 0;
  /** Date.now() when the load started: the probe's clock. */
  let t0Wall = 0;
  let endS = 0;
  let longLived: [string, number][] = [];
  /** Pids that served as replicas of the deployment (the rest of the replica-main processes are the warm pool). */
  const replicaPids = new Set<number>();
  try {
    await system.run({ file: PENGUINS_SPEC });
    const deployment = await system.deploy('penguins', ['--min', '2', '--max', '2']);
    name = deployment.name;
    for (const r of deployment.replicas) replicaPids.add(r.pid);
    const sample = sampleRows(await system.modelFile('penguins'));
    const client = inferTask(system.gateway, name, sample.json, 64);
    t0 = performance.now();
    t0Wall = Date.now();
    const task: Task = async () => {
      sent++;
      inFlight++;
      try {
        await client.task();
        answered++;
      } catch (e) {
        failures.push({ atMs: performance.now() - t0, message: e instanceof Error ? e.message : String(e) });
        throw e;
      } finally {
        inFlight--;
      }
    };
    const parts = system.parts();
    longLived = [
      ['control plane', parts.controlPlane],
      ...parts.workers.map((pid, i): [string, number] => [`worker agent ${i + 1}`, pid]),
      ['gateway', parts.gateway],
    ];
    const afterWarmup = new Map<string, number>();
    /** RSS from /proc first, then a full GC in each long-lived process so its probe records the live heap. */
    const checkpoint = (): Record<string, number> => {
      const mib = Object.fromEntries(longLived.map(([role, pid]) => [role, rssMiB(pid) ?? NaN]));
      trajectory.push({ atS: (performance.now() - t0) / 1000, mib, loadAverage: loadavg()[0]! });
      for (const [, pid] of longLived) {
        try {
          process.kill(pid, 'SIGUSR2');
        } catch {
          // Gone: its row shows no reading.
        }
      }
      return mib;
    };
    const at = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms - (performance.now() - t0))));

    const loadDone = openLoop(task, {
      ratePerSec: rate,
      durationMs: durationMs - warmupMs,
      warmupMs,
      maxOutstanding: 256,
    });
    let scheduleError: unknown;
    const schedule = (async () => {
      await at(warmupMs);
      for (const [role, mib] of Object.entries(checkpoint())) afterWarmup.set(role, mib);
      const recoveries: Promise<void>[] = [];
      for (let k = 1; k * killEveryMs <= durationMs - Math.min(30_000, killEveryMs / 2); k++) {
        await at(k * killEveryMs);
        const d = await system.deployment(name);
        for (const r of d.replicas) replicaPids.add(r.pid);
        const ready = d.replicas.filter((r) => r.state === Replica_State.READY);
        const victim = ready[k % ready.length];
        if (!victim) {
          console.error(`kill ${k}: no ready replica to kill`);
          continue;
        }
        const pid = system.replicaPid(victim.pid);
        if (k > 1) checkpoint();
        const kill: Kill = {
          atS: (performance.now() - t0) / 1000,
          pid,
          replicaId: victim.id,
          inFlightAtClient: inFlight,
          failuresSince: 0,
        };
        process.kill(pid, 'SIGKILL');
        kills.push(kill);
        console.error(
          `t=${kill.atS.toFixed(0)} s: SIGKILL replica ${victim.id} (pid ${pid}), ${kill.inFlightAtClient} requests in flight`,
        );
        recoveries.push(
          system
            .waitFor(async () => {
              const now = await system.deployment(name);
              for (const r of now.replicas) replicaPids.add(r.pid);
              const fresh = now.replicas.filter((r) => r.state === Replica_State.READY && r.pid !== pid);
              return fresh.length >= 2;
            }, killEveryMs)
            .then(
              () => void (kill.recoveredAfterMs = performance.now() - t0 - kill.atS * 1000),
              () =>
                console.error(
                  `kill at ${kill.atS.toFixed(0)} s: not back to 2 ready replicas within ${killEveryMs / 1000} s`,
                ),
            ),
        );
      }
      await Promise.all(recoveries);
    })().catch((e: unknown) => void (scheduleError = e));
    result = await loadDone;
    endS = (performance.now() - t0) / 1000;
    // At the end of the load, under the same load as after warm-up.
    const end = checkpoint();
    rss = Object.fromEntries(
      longLived.map(([role]) => {
        const start = afterWarmup.get(role)!;
        return [role, { afterWarmupMiB: start, endMiB: end[role]!, growth: end[role]! / start - 1 }];
      }),
    );
    await schedule;
    if (scheduleError) throw scheduleError;
    retries = await gatewayRetries(system.gateway);
    client.close();
    // The last full GCs' samples are written before the system stops.
    await sleep(2000);
  } finally {
    await system.stop();
  }
  load.after = loadavg()[0]!;

  // Memory of every process from the probe: the long-lived ones against the acceptance, the
  // replicas as the new processes they are (each kill's replacement starts from nothing).
  const probe = readProbe(probeDir);
  rmSync(probeDir, { recursive: true, force: true });
  const window = { t0: t0Wall, fromS: warmupMs / 1000, toS: endS, slopeFromS: endS - slopeMs / 1000 };
  const memory = Object.fromEntries(
    longLived.map(([role, pid]) => [role, processMemory(pid, rss[role]!, probe.get(pid) ?? [], window)]),
  );
  const killed = new Set(kills.map((k) => k.pid));
  const others = [...probe]
    .filter(([pid]) => !longLived.some(([, p]) => p === pid))
    .map(([pid, samples]) => {
      const script = samples[0]?.script ?? '?';
      const role = /replica-main/.test(script)
        ? replicaPids.has(pid)
          ? 'replica'
          : 'warm-pool process'
        : /executor-main/.test(script)
          ? 'trial executor (idle)'
          : script;
      const s = (x: ProbeSample) => (x.t - t0Wall) / 1000;
      const periodic = samples.filter((x) => !x.gc);
      return {
        role,
        pid,
        fromS: periodic.length ? s(periodic[0]!) : NaN,
        toS: periodic.length ? s(periodic[periodic.length - 1]!) : NaN,
        killed: killed.has(pid),
        rssFirstMiB: toMiB(periodic[0]?.rss ?? NaN),
        rssLastMiB: toMiB(periodic[periodic.length - 1]?.rss ?? NaN),
        rssMaxMiB: toMiB(Math.max(...periodic.map((x) => x.rss))),
        heapUsedLastMiB: toMiB(periodic[periodic.length - 1]?.heapUsed ?? NaN),
      };
    })
    // Those alive during the measured period (the last reading up to 5 s, one probe interval, before it), in order of appearance.
    .filter((p) => p.toS >= window.fromS - 5)
    .sort((a, b) => a.fromS - b.fromS);

  // Each failure belongs to the latest kill before it (none: before the first kill).
  for (const [i, k] of kills.entries()) {
    const next = kills[i + 1]?.atS ?? Infinity;
    k.failuresSince = failures.filter((f) => f.atMs >= k.atS * 1000 && f.atMs < next * 1000).length;
  }
  const failed = failures.length;
  const beforeKills = failures.filter((f) => kills.length === 0 || f.atMs < kills[0]!.atS * 1000).length;
  const bound = kills.reduce((a, k) => a + k.inFlightAtClient, 0);
  const withinBound = beforeKills === 0 && kills.every((k) => k.failuresSince <= k.inFlightAtClient);
  const rssMet = Object.values(rss).every((r) => r.growth <= RSS_GROWTH_LIMIT);

  printTable(
    `soak: ${minutes} min open loop at ${rate} req/s through the gateway, 2 replicas, SIGKILL of one every ${killEveryMs / 1000} s`,
    ['kill at s', 'replica pid', 'in flight (client)', 'failed until next kill', 'back to 2 ready after ms'],
    kills.map((k) => [
      k.atS.toFixed(0),
      k.pid,
      k.inFlightAtClient,
      k.failuresSince,
      k.recoveredAfterMs === undefined ? 'not within the interval' : k.recoveredAfterMs.toFixed(0),
    ]),
  );
  printTable(
    `long-lived processes (MiB) after the ${warmupMs / 1000} s warm-up vs at the end (${endS.toFixed(0)} s); slopes over the last ${(slopeMs / 60_000).toFixed(1)} min; RSS limit +${RSS_GROWTH_LIMIT * 100}%; live heap = V8 heap used right after a full GC`,
    [
      'process',
      'RSS warm',
      'RSS end',
      'RSS growth',
      'RSS MiB/min',
      'live heap warm',
      'live heap end',
      'heap growth',
      'heap MiB/min',
      'young gen warm→end',
      'old space warm→end',
    ],
    Object.entries(memory).map(([role, m]) => [
      role,
      fmt(m.rss.afterWarmupMiB),
      fmt(m.rss.endMiB),
      pct(m.rss.growth),
      fmt(m.rss.slopeMiBPerMin, 2),
      fmt(m.liveHeap.afterWarmupMiB),
      fmt(m.liveHeap.endMiB),
      pct(m.liveHeap.growth),
      fmt(m.liveHeap.slopeMiBPerMin, 2),
      `${fmt(m.spaces.afterWarmup.new_space ?? NaN)}→${fmt(m.spaces.end.new_space ?? NaN)}`,
      `${fmt(m.spaces.afterWarmup.old_space ?? NaN)}→${fmt(m.spaces.end.old_space ?? NaN)}`,
    ]),
  );
  printTable(
    'other processes during the measured period (new processes: a killed replica is replaced by a fresh one from the warm pool, so each is counted on its own, from its first to its last reading)',
    ['process', 'pid', 'from s', 'to s', 'RSS first', 'RSS last', 'RSS max', 'heap used last', 'killed'],
    others.map((p) => [
      p.role,
      p.pid,
      fmt(p.fromS, 0),
      fmt(p.toS, 0),
      fmt(p.rssFirstMiB),
      fmt(p.rssLastMiB),
      fmt(p.rssMaxMiB),
      fmt(p.heapUsedLastMiB),
      p.killed ? 'yes' : '',
    ]),
  );
  console.log(
    `\nsent ${sent}, answered ${answered}, failed ${failed} (bound: ${bound} in flight at the ${kills.length} kills; ${withinBound ? 'within' : 'NOT within'}); gateway retries ${retries}; after warm-up: ${result.throughput.toFixed(1)} req/s, p50 ${result.latency.p50Ms.toFixed(2)} ms, p99 ${result.latency.p99Ms.toFixed(2)} ms, max ${result.latency.maxMs.toFixed(1)} ms; RSS growth ≤ ${RSS_GROWTH_LIMIT * 100}%: ${rssMet ? 'met' : 'not met'}; load average ${load.before.toFixed(2)} → ${load.after.toFixed(2)}`,
  );
  const firstErrors = [...new Set(failures.map((f) => f.message))].slice(0, 5);
  const path = writeResult(quick ? 'soak-quick' : 'soak', {
    minutes,
    ratePerSec: rate,
    killEveryMs,
    warmupMs,
    slopeWindowMs: slopeMs,
    deployment: name,
    sent,
    answered,
    failed,
    failureMessages: firstErrors,
    failureTimesS: failures.slice(0, 200).map((f) => Number((f.atMs / 1000).toFixed(3))),
    bound: { inFlightAtKills: bound, failuresBeforeFirstKill: beforeKills, withinBound },
    gatewayRetries: retries,
    kills,
    afterWarmup: result,
    rss,
    rssTrajectory: trajectory,
    rssGrowthLimit: RSS_GROWTH_LIMIT,
    rssMet,
    memory,
    otherProcesses: others,
    loadAverage: load,
  });
  console.log(`wrote ${path}`);
}

if (require.main === module)
  void main().catch((e) => {
    console.error(e);
    process.exit(1);
  });

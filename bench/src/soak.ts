/**
 * bench/soak: steady open-loop load through the gateway on a deployment of 2 replicas, with a
 * replica process killed (SIGKILL) every ~60 s, on a whole `stratum serve --workers 2`.
 *
 * The replica to kill comes from the deployment's replica records (pid), checked to be a
 * replica process whose parent is one of this system's workers. Reported: requests sent,
 * answered and failed; for each kill, the requests in flight at the client at that instant
 * (an upper bound of those in flight on the killed replica: the bound failures must stay
 * within), the failures from it to the next kill, and how long until the deployment had 2 ready
 * replicas again; the gateway's retries; latency after warm-up; and the resident memory of
 * each long-lived process (control plane, worker agents, gateway) after warm-up (until just
 * before the first kill) vs at the end, which must not grow by more than 10%, with its readings
 * before every kill in between.
 *
 *   node bench/dist/soak.js [--minutes 10] [--rate 100] [--quick]   (--quick: 1 minute)
 */
import { openLoop, type LoadResult, type Task } from '@stratum/server/dist/profiler/loadgen';
import { inferTask } from '@stratum/server/dist/profiler/sweep';
import { Replica_State } from '@stratum/proto';
import { loadavg } from 'node:os';

import { printTable, writeResult } from './report';
import { sampleRows } from './requests';
import { PENGUINS_SPEC, rssMiB, StratumSystem } from './system';

export const RSS_GROWTH_LIMIT = 0.1;

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

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const minutes = Number(flag('minutes') ?? (quick ? 1 : 10));
  const rate = Number(flag('rate') ?? 100);
  if (!(minutes > 0) || !(rate > 0)) throw new Error('--minutes and --rate expect numbers > 0');
  const durationMs = minutes * 60_000;
  const killEveryMs = Math.min(60_000, durationMs / 3);
  // Warm-up: until just before the first kill; latency and the RSS baseline start there.
  const warmupMs = killEveryMs - 1000;
  const load = { before: loadavg()[0]!, after: 0 };

  const system = await StratumSystem.start({ workers: 2 });
  const kills: Kill[] = [];
  const failures: { atMs: number; message: string }[] = [];
  let sent = 0;
  let answered = 0;
  let inFlight = 0;
  let result: LoadResult;
  let rss: Record<string, { afterWarmupMiB: number; endMiB: number; growth: number }> = {};
  /** RSS of each long-lived process (MiB) after warm-up, just before each kill, and at the end. */
  const trajectory: { atS: number; mib: Record<string, number> }[] = [];
  let retries = 0;
  let name = '';
  try {
    await system.run({ file: PENGUINS_SPEC });
    const deployment = await system.deploy('penguins', ['--min', '2', '--max', '2']);
    name = deployment.name;
    const sample = sampleRows(await system.modelFile('penguins'));
    const client = inferTask(system.gateway, name, sample.json, 64);
    const t0 = performance.now();
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
    const longLived: [string, number][] = [
      ['control plane', parts.controlPlane],
      ...parts.workers.map((pid, i): [string, number] => [`worker agent ${i + 1}`, pid]),
      ['gateway', parts.gateway],
    ];
    const afterWarmup = new Map<string, number>();
    const sampleRss = (): void => {
      const mib = Object.fromEntries(longLived.map(([role, pid]) => [role, rssMiB(pid) ?? NaN]));
      trajectory.push({ atS: (performance.now() - t0) / 1000, mib });
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
      for (const [role, pid] of longLived) afterWarmup.set(role, rssMiB(pid) ?? NaN);
      sampleRss();
      const recoveries: Promise<void>[] = [];
      for (let k = 1; k * killEveryMs <= durationMs - Math.min(30_000, killEveryMs / 2); k++) {
        await at(k * killEveryMs);
        const d = await system.deployment(name);
        const ready = d.replicas.filter((r) => r.state === Replica_State.READY);
        const victim = ready[k % ready.length];
        if (!victim) {
          console.error(`kill ${k}: no ready replica to kill`);
          continue;
        }
        const pid = system.replicaPid(victim.pid);
        if (k > 1) sampleRss();
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
    sampleRss();
    // At the end of the load, under the same load as after warm-up.
    rss = Object.fromEntries(
      longLived.map(([role, pid]) => {
        const start = afterWarmup.get(role)!;
        const end = rssMiB(pid) ?? NaN;
        return [role, { afterWarmupMiB: start, endMiB: end, growth: end / start - 1 }];
      }),
    );
    await schedule;
    if (scheduleError) throw scheduleError;
    retries = await gatewayRetries(system.gateway);
    client.close();
  } finally {
    await system.stop();
  }
  load.after = loadavg()[0]!;

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
    `resident memory of the long-lived processes (MiB): after ${warmupMs / 1000} s warm-up vs at the end; limit +${RSS_GROWTH_LIMIT * 100}%`,
    ['process', 'after warm-up', 'end', 'growth'],
    Object.entries(rss).map(([role, r]) => [
      role,
      r.afterWarmupMiB.toFixed(1),
      r.endMiB.toFixed(1),
      `${(r.growth * 100).toFixed(1)}%`,
    ]),
  );
  console.log(
    `\nsent ${sent}, answered ${answered}, failed ${failed} (bound: ${bound} in flight at the ${kills.length} kills; ${withinBound ? 'within' : 'NOT within'}); gateway retries ${retries}; after warm-up: ${result.throughput.toFixed(1)} req/s, p50 ${result.latency.p50Ms.toFixed(2)} ms, p99 ${result.latency.p99Ms.toFixed(2)} ms, max ${result.latency.maxMs.toFixed(1)} ms; RSS growth ≤ ${RSS_GROWTH_LIMIT * 100}%: ${rssMet ? 'met' : 'not met'}`,
  );
  const firstErrors = [...new Set(failures.map((f) => f.message))].slice(0, 5);
  const path = writeResult(quick ? 'soak-quick' : 'soak', {
    minutes,
    ratePerSec: rate,
    killEveryMs,
    warmupMs,
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
    loadAverage: load,
  });
  console.log(`wrote ${path}`);
}

if (require.main === module)
  void main().catch((e) => {
    console.error(e);
    process.exit(1);
  });

/**
 * bench/memory: resident memory (VmRSS from /proc/PID/status) of every long-lived Stratum
 * process — control plane, worker agents, gateway, a replica, a warm-pool process, a trial
 * executor — idle and under load, on a whole `stratum serve --workers 2`:
 *
 *   1. idle, fresh: a few seconds after start
 *   2. training: examples/penguins.yaml runs (10 trials on 2 workers); peak of each process
 *   3. idle, deployed: penguins deployed (1 replica), nothing sent
 *   4. serving: closed loop of one-row requests through the gateway; peak of each process
 *   5. idle, after: a few seconds after the load stopped
 *
 * Target: the control plane idles under 150 MB (143 MiB) resident. Every process carries the
 * soak's memory probe (heap-probe.ts, sampling each second), so each reading also has the V8
 * heap used of the same processes at that moment (the peak in the load phases): what of the
 * resident memory is JavaScript heap, and what is code, native libraries and allocator.
 *
 *   node bench/dist/memory.js [--quick]
 */
import { closedLoop, type LoadResult } from '@stratum/server/dist/profiler/loadgen';
import { inferTask } from '@stratum/server/dist/profiler/sweep';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

import { probeEnv, readProbe, type ProbeSample } from './heap-probe';
import { printTable, writeResult } from './report';
import { sampleRows } from './requests';
import { childrenOf, PENGUINS_SPEC, rssMiB, StratumSystem } from './system';

export const CONTROL_PLANE_IDLE_TARGET_MB = 150;
const MIB_PER_MB = 1e6 / 2 ** 20;

export const PHASES = ['idle, fresh', 'training (peak)', 'idle, deployed', 'serving load (peak)', 'idle, after load'];

/** Role → phase → MiB (the largest of the role's processes in that phase). */
type Readings = Record<string, Record<string, number>>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function roles(system: StratumSystem, replicas: readonly number[]): Map<string, number[]> {
  const parts = system.parts(replicas);
  const executors = parts.workers.flatMap((w) =>
    childrenOf(w)
      .filter((c) => c.cmd.includes('executor-main.js'))
      .map((c) => c.pid),
  );
  return new Map([
    ['control plane', [parts.controlPlane]],
    ['worker agent', [...parts.workers]],
    ['gateway', [parts.gateway]],
    ['replica (penguins)', [...replicas]],
    ['warm-pool process', [...parts.warmPool]],
    ['trial executor', executors],
  ]);
}

/** When each phase was read (Date.now()): an instant for the idle ones, the span of the load ones. */
type PhaseTimes = Record<string, { from: number; to: number }>;

/**
 * V8 heap used (MiB) per role and phase from the probe: the largest of the role's processes, of
 * its samples within the phase's span (an idle phase: the latest sample up to 2 s before).
 */
export function heapReadings(
  pids: Record<string, Map<string, number[]>>,
  probe: Map<number, ProbeSample[]>,
  times: PhaseTimes,
): Readings {
  const out: Readings = {};
  for (const [phase, span] of Object.entries(times)) {
    const from = span.from === span.to ? span.from - 2000 : span.from;
    for (const [role, list] of pids[phase] ?? new Map<string, number[]>()) {
      for (const pid of list) {
        const inSpan = (probe.get(pid) ?? []).filter((x) => !x.gc && x.t >= from && x.t <= span.to + 500);
        if (inSpan.length === 0) continue;
        const mib = Math.max(...inSpan.map((x) => x.heapUsed)) / 2 ** 20;
        const row = (out[role] ??= {});
        row[phase] = Math.max(row[phase] ?? 0, mib);
      }
    }
  }
  return out;
}

/** GC pause milliseconds (scavenges, the rest) each role's processes spent within a span, from the probe. */
export function gcDuring(
  pids: Map<string, number[]>,
  probe: Map<number, ProbeSample[]>,
  span: { from: number; to: number },
): Record<string, { minorMs: number; majorMs: number }> {
  const out: Record<string, { minorMs: number; majorMs: number }> = {};
  for (const [role, list] of pids) {
    const r = (out[role] = { minorMs: 0, majorMs: 0 });
    for (const pid of list) {
      const inSpan = (probe.get(pid) ?? []).filter(
        (x) => !x.gc && x.gcMs && x.t >= span.from - 1000 && x.t <= span.to + 500,
      );
      const first = inSpan[0];
      const last = inSpan[inSpan.length - 1];
      if (!first || !last) continue;
      r.minorMs += last.gcMs.minor - first.gcMs.minor;
      r.majorMs += last.gcMs.major - first.gcMs.major;
    }
  }
  return out;
}

function record(readings: Readings, phase: string, pids: Map<string, number[]>): void {
  for (const [role, list] of pids) {
    for (const pid of list) {
      const mib = rssMiB(pid);
      if (mib === null) continue;
      const row = (readings[role] ??= {});
      row[phase] = Math.max(row[phase] ?? 0, mib);
    }
  }
}

/** Samples every 250 ms (process list every second) while `work` runs; keeps each role's peak. */
async function peakDuring<T>(
  readings: Readings,
  phase: string,
  pidsNow: () => Map<string, number[]>,
  work: Promise<T>,
): Promise<T> {
  let pids = pidsNow();
  let ticks = 0;
  const timer = setInterval(() => {
    if (++ticks % 4 === 0) pids = pidsNow();
    record(readings, phase, pids);
  }, 250);
  try {
    return await work;
  } finally {
    clearInterval(timer);
    record(readings, phase, pidsNow());
  }
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const settleMs = quick ? 3000 : 8000;
  const loadMs = quick ? 4000 : 15_000;
  const started = performance.now();
  const load = { before: loadavg()[0]!, after: 0 };
  const readings: Readings = {};
  let serving: LoadResult;
  let trainingSeconds: number;
  const times: PhaseTimes = {};
  const instant = (phase: string) => (times[phase] = { from: Date.now(), to: Date.now() });
  /** The processes of each role in each phase, for the heap readings (a warm-pool process becomes the replica). */
  const seen: Record<string, Map<string, number[]>> = {};
  const rolesSeen = (phase: string, system: StratumSystem, replicas: readonly number[]) => {
    const now = roles(system, replicas);
    const m = (seen[phase] ??= new Map());
    for (const [role, list] of now) m.set(role, [...new Set([...(m.get(role) ?? []), ...list])]);
    return now;
  };
  const probeDir = mkdtempSync(join(tmpdir(), 'stratum-memory-probe-'));
  const system = await StratumSystem.start({ workers: 2, env: probeEnv(probeDir, 1000) });
  try {
    await sleep(settleMs);
    record(readings, PHASES[0]!, rolesSeen(PHASES[0]!, system, []));
    instant(PHASES[0]!);

    const training = { from: Date.now(), to: 0 };
    trainingSeconds = (
      await peakDuring(
        readings,
        PHASES[1]!,
        () => rolesSeen(PHASES[1]!, system, []),
        system.run({ file: PENGUINS_SPEC }),
      )
    ).seconds;
    times[PHASES[1]!] = { ...training, to: Date.now() };

    const deployment = await system.deploy('penguins', ['--min', '1', '--max', '1']);
    const replicas = deployment.replicas.map((r) => system.replicaPid(r.pid));
    await sleep(settleMs);
    record(readings, PHASES[2]!, rolesSeen(PHASES[2]!, system, replicas));
    instant(PHASES[2]!);

    const sample = sampleRows(await system.modelFile('penguins'));
    const t = inferTask(system.gateway, deployment.name, sample.json, 16);
    const servingFrom = Date.now();
    serving = await peakDuring(
      readings,
      PHASES[3]!,
      () => rolesSeen(PHASES[3]!, system, replicas),
      closedLoop(t.task, { concurrency: 16, durationMs: loadMs, warmupMs: 500 }),
    );
    times[PHASES[3]!] = { from: servingFrom, to: Date.now() };
    t.close();
    await sleep(settleMs);
    record(readings, PHASES[4]!, rolesSeen(PHASES[4]!, system, replicas));
    instant(PHASES[4]!);
    // The probe's last samples (one per second) reach its files before the system stops.
    await sleep(1200);
  } finally {
    await system.stop();
  }
  load.after = loadavg()[0]!;
  const probe = readProbe(probeDir);
  const heap = heapReadings(seen, probe, times);
  const servingGc = gcDuring(seen[PHASES[3]!] ?? new Map(), probe, times[PHASES[3]!]!);
  rmSync(probeDir, { recursive: true, force: true });

  const order = [
    'control plane',
    'worker agent',
    'gateway',
    'replica (penguins)',
    'warm-pool process',
    'trial executor',
  ];
  printTable(
    'resident memory (VmRSS, MiB; the largest process of each role; "-": no such process in that phase)',
    ['process', ...PHASES],
    order.map((role) => [role, ...PHASES.map((p) => readings[role]?.[p]?.toFixed(1) ?? '-')]),
  );
  printTable(
    'V8 heap used (MiB) of the same processes at the same moments (the peak of the load phases), from the memory probe',
    ['process', ...PHASES],
    order.map((role) => [role, ...PHASES.map((p) => heap[role]?.[p]?.toFixed(1) ?? '-')]),
  );
  printTable(
    `GC pauses during the serving load (${serving.requests} requests through the gateway)`,
    ['process', 'scavenges ms', 'other GC ms', 'GC ms per 1000 requests'],
    ['control plane', 'worker agent', 'gateway', 'replica (penguins)'].map((role) => {
      const g = servingGc[role] ?? { minorMs: 0, majorMs: 0 };
      return [
        role,
        g.minorMs.toFixed(1),
        g.majorMs.toFixed(1),
        ((g.minorMs + g.majorMs) / (serving.requests / 1000)).toFixed(2),
      ];
    }),
  );
  const cp = readings['control plane']!;
  const idleMiB = Math.max(cp[PHASES[0]!] ?? 0, cp[PHASES[2]!] ?? 0, cp[PHASES[4]!] ?? 0);
  const idleMB = idleMiB / MIB_PER_MB;
  const met = idleMB < CONTROL_PLANE_IDLE_TARGET_MB;
  console.log(
    `\ncontrol plane idle: ${idleMB.toFixed(0)} MB (${idleMiB.toFixed(1)} MiB) = ${(idleMB / CONTROL_PLANE_IDLE_TARGET_MB).toFixed(2)} × the ${CONTROL_PLANE_IDLE_TARGET_MB} MB target: ${met ? 'met' : 'not met'}; serving load ${serving.throughput.toFixed(0)} req/s through the gateway (c=16)`,
  );
  const path = writeResult(quick ? 'memory-quick' : 'memory', {
    phases: PHASES,
    settleMs,
    loadMs,
    trainingSeconds,
    serving,
    readingsMiB: readings,
    heapUsedMiB: heap,
    servingGcMs: servingGc,
    target: { controlPlaneIdleMB: CONTROL_PLANE_IDLE_TARGET_MB },
    controlPlaneIdle: { mb: idleMB, mib: idleMiB, ratio: idleMB / CONTROL_PLANE_IDLE_TARGET_MB, met },
    loadAverage: load,
    seconds: (performance.now() - started) / 1000,
  });
  console.log(`wrote ${path}`);
}

if (require.main === module)
  void main().catch((e) => {
    console.error(e);
    process.exit(1);
  });

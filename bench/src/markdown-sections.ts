/**
 * One section of BENCHMARKS.md per benchmark: its table, and the verdicts on its targets. Each
 * renderer reads the fields its benchmark writes to bench/results/NAME.json.
 */
import type { LoadResult } from '@stratum/server/dist/profiler/loadgen';

import { f, pct, table, yes, type Verdict } from './markdown-format';

// What the benchmarks write (the fields read here).
interface Fanout {
  results: {
    trials: number;
    workers: number;
    trialMs: number;
    makespanMs: number;
    idealMs: number;
    efficiency: number;
    schedulingOverheadPerTrialMs: number;
    overheadPerTrialMs: number;
    meanGapMs: number;
  }[];
  targets: { overheadPerTrialMs: number; efficiencyTwoWorkersLongTrials: number };
}
interface ServingPoint extends LoadResult {
  series: string;
  meanBatchRows?: number;
}
interface Serving {
  model: string;
  timing: { durationMs: number };
  points: ServingPoint[];
  ratio: { restBatchedOverInProcessAt32: number };
  target: { restBatchedOverInProcessAt32: number };
}
interface Ramp {
  qos: { p99Ms: number };
  steps: {
    rps: number;
    phase: string;
    seconds: number;
    requests: number;
    errors: number;
    p50Ms: number;
    p99Ms: number;
    readyAtEnd: number;
  }[];
  replicasOverTime: { tMs: number; ready: number; desired: number; state: string }[];
  secondReplicaAtRps: number | null;
  settled: {
    afterMs: number;
    replicas: number;
    heldThroughWindow: boolean;
    rps: number;
    requests: number;
    p99Ms: number;
    qosRatio: number;
  };
  scaleToZeroMs: number;
  idleToZeroMs: number;
  coldStartMs: number;
  coldStartEventMs: number | null;
  errors: number;
}
interface ColdStart {
  targets: { coldStartMs: number };
  results: {
    model: string;
    modelMiB: number;
    mode: string;
    runs: number;
    medianMs: number;
    p90Ms: number;
    replicaMs?: number;
    nextMs?: number;
  }[];
}
interface ProfilerAccuracy {
  target: { ratioWithin: number };
  profileSeconds: number;
  scenarios: {
    scenario: string;
    feasible: boolean;
    recommendation?: string;
    predictedP99Ms?: number;
    measuredP99Ms?: number;
    p99Ratio?: number;
    againP99Ms?: number;
    repeatRatio?: number;
    fixedWindowP99Ms?: number;
    fixedWindowRatio?: number;
    predictedRps?: number;
    measuredRps?: number;
    rpsRatio?: number;
    predictedCapacity?: number;
    measuredCapacity?: number;
    capacityRatio?: number;
    reasons?: string[];
  }[];
}
interface Matrix {
  timing: { durationMs: number; warmupMs: number };
  concurrency: number[];
  threads: number;
  targets: { restOverPeerThroughput: number; gatewayP50Overhead: number };
  models: { label: string; registered: string; bytes: number; trainer: string; request: string }[];
  peer: Record<string, string | number>;
  points: (LoadResult & { model: string; series: string })[];
  comparisons: {
    model: string;
    concurrency: number;
    throughputRatio: number;
    restP99Ms: number;
    peerP99Ms: number;
    unbatchedRatio: number;
    directP50Ms: number;
    gatewayP50Ms: number;
    gatewayP50Overhead: number;
    relayP50Ms?: number;
    relayP50Overhead?: number;
    restMet: boolean;
    gatewayMet: boolean;
  }[];
}
interface Memory {
  phases: string[];
  readingsMiB: Record<string, Record<string, number>>;
  serving: LoadResult;
  target: { controlPlaneIdleMB: number };
  controlPlaneIdle: { mb: number; mib: number; ratio: number; met: boolean };
  loadMs: number;
}
interface Soak {
  minutes: number;
  ratePerSec: number;
  killEveryMs: number;
  warmupMs: number;
  sent: number;
  answered: number;
  failed: number;
  failureMessages: string[];
  failureTimesS: number[];
  bound: { inFlightAtKills: number; failuresBeforeFirstKill: number; withinBound: boolean };
  gatewayRetries: number;
  kills: { atS: number; pid: number; inFlightAtClient: number; failuresSince: number; recoveredAfterMs?: number }[];
  afterWarmup: LoadResult;
  rss: Record<string, { afterWarmupMiB: number; endMiB: number; growth: number }>;
  rssTrajectory?: { atS: number; mib: Record<string, number> }[];
  rssGrowthLimit: number;
  rssMet: boolean;
  slopeWindowMs?: number;
  /** Per long-lived process: RSS and the live heap (after a full GC), after warm-up and at the end. */
  memory?: Record<string, Record<'rss' | 'liveHeap', SoakGrowth>>;
  /** Replicas and warm-pool processes: new processes as replicas are killed and replaced. */
  otherProcesses?: { role: string; pid: number; killed: boolean; rssMaxMiB: number }[];
}

interface SoakGrowth {
  afterWarmupMiB: number;
  endMiB: number;
  growth: number;
  slopeMiBPerMin: number;
}

function fanoutSection(r: Fanout, v: Verdict[]): string {
  const long = r.results.filter((x) => x.workers === 2 && x.trialMs >= 1000);
  const worstSched = Math.max(...r.results.map((x) => x.schedulingOverheadPerTrialMs));
  v.push({
    target: `scheduling overhead ≤ ${r.targets.overheadPerTrialMs} ms per trial`,
    measured: `${f(worstSched)} ms (worst case); end to end ${r.results.map((x) => f(x.overheadPerTrialMs)).join(' / ')} ms`,
    verdict: `${f(worstSched / r.targets.overheadPerTrialMs, 2)}× the limit: ${yes(worstSched <= r.targets.overheadPerTrialMs)}`,
  });
  for (const x of long)
    v.push({
      target: `parallel efficiency ≥ ${r.targets.efficiencyTwoWorkersLongTrials} (2 workers, ${x.trials} × ${x.trialMs} ms)`,
      measured: f(x.efficiency, 3),
      verdict: yes(x.efficiency >= r.targets.efficiencyTwoWorkersLongTrials),
    });
  return table(
    [
      'trials',
      'workers',
      'trial ms',
      'makespan ms',
      'ideal ⌈N/W⌉·t ms',
      'efficiency',
      'scheduling overhead ms/trial',
      'end-to-end overhead ms/trial',
      'slot gap ms',
    ],
    r.results.map((x) => [
      x.trials,
      x.workers,
      x.trialMs,
      x.makespanMs,
      x.idealMs,
      f(x.efficiency, 3),
      f(x.schedulingOverheadPerTrialMs),
      f(x.overheadPerTrialMs),
      f(x.meanGapMs),
    ]),
  );
}

function servingSection(r: Serving, v: Verdict[]): string {
  v.push({
    target: 'replica REST with batching at c=32 ≥ in-process unbatched throughput (bench/serving)',
    measured: `${f(r.ratio.restBatchedOverInProcessAt32, 3)}×`,
    verdict: yes(r.ratio.restBatchedOverInProcessAt32 >= r.target.restBatchedOverInProcessAt32),
  });
  return [
    `Model: ${r.model}; ${r.timing.durationMs / 1000} s per point.`,
    '',
    table(
      ['series', 'load', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'rows/run', 'errors'],
      r.points.map((p) => [
        p.series,
        p.mode === 'closed' ? `c=${p.concurrency}` : `${p.ratePerSec}/s`,
        f(p.throughput, 0),
        f(p.latency.p50Ms, 2),
        f(p.latency.p90Ms, 2),
        f(p.latency.p99Ms, 2),
        f(p.latency.maxMs, 1),
        f(p.meanBatchRows),
        p.errors,
      ]),
    ),
  ].join('\n');
}

function matrixSection(r: Matrix, v: Verdict[]): string {
  const out: string[] = [
    `Closed loop, ${r.timing.durationMs / 1000} s per point after ${r.timing.warmupMs / 1000} s of warm-up, one-row JSON requests, ${r.threads} onnxruntime intra-op thread in every server. Peer: ${r.peer.server} — KServe ${r.peer.kserve}, onnxruntime ${r.peer.onnxruntime}, FastAPI ${r.peer.fastapi}, uvicorn ${r.peer.uvicorn}, Python ${r.peer.python}.`,
    '',
    table(
      ['model', 'made by', 'ONNX bytes', 'request'],
      r.models.map((m) => [m.label, `a Stratum run (${m.trainer}), registered as ${m.registered}`, m.bytes, m.request]),
    ),
  ];
  for (const m of r.models) {
    const points = r.points.filter((p) => p.model === m.label);
    const series = [...new Set(points.map((p) => p.series))];
    out.push(
      '',
      `**${m.label}**: req/s, and p50 / p99 ms, by concurrency`,
      '',
      table(
        ['series', ...r.concurrency.map((c) => `c=${c}`)],
        series.map((s) => [
          s,
          ...r.concurrency.map((c) => {
            const p = points.find((x) => x.series === s && x.concurrency === c);
            return p
              ? `${f(p.throughput, 0)} (${f(p.latency.p50Ms, 2)} / ${f(p.latency.p99Ms, 2)})${p.errors ? `, ${p.errors} errors` : ''}`
              : '-';
          }),
        ]),
      ),
    );
  }
  out.push(
    '',
    'Ratios, same run: Stratum REST as deployed (replica REST, batching on) over the KServe peer; the unbatched replica over the peer; the gateway over the same replica directly; and, as the floor any proxy has here, a TCP relay that only copies bytes (bench/src/tcp-relay.ts) over the same replica.',
    '',
    table(
      [
        'model',
        'c',
        'REST / peer req/s',
        'p99 REST ms',
        'p99 peer ms',
        '≥ 2× at ≤ p99',
        'unbatched / peer req/s',
        'p50 direct ms',
        'p50 gateway ms',
        'gateway p50',
        '≤ +15%',
        'p50 relay ms',
        'relay p50',
      ],
      r.comparisons.map((x) => [
        x.model,
        x.concurrency,
        f(x.throughputRatio, 2),
        f(x.restP99Ms, 2),
        f(x.peerP99Ms, 2),
        x.restMet ? 'yes' : 'no',
        f(x.unbatchedRatio, 2),
        f(x.directP50Ms, 2),
        f(x.gatewayP50Ms, 2),
        pct(x.gatewayP50Overhead),
        x.gatewayMet ? 'yes' : 'no',
        f(x.relayP50Ms, 2),
        x.relayP50Overhead === undefined ? '-' : pct(x.relayP50Overhead),
      ]),
    ),
    '',
    'Reading the table: the batcher is work-conserving (an idle model runs a request at once; what arrives while a batch runs goes as the next batch), so batching costs nothing at c=1 and pays off as concurrency grows; the unbatched replica shows the transport alone. The gateway is one more busy process: here the load generator, the gateway and the replica share the 2 cores (with the other jobs on the machine), so each forwarded request also costs CPU time the replica would otherwise get.',
  );
  for (const m of r.models) {
    const rows = r.comparisons.filter((x) => x.model === m.label);
    const rest = rows.filter((x) => x.restMet).length;
    const gw = rows.filter((x) => x.gatewayMet).length;
    const best = rows.reduce((a, b) => (b.throughputRatio > a.throughputRatio ? b : a));
    v.push({
      target: `Stratum REST ≥ ${r.targets.restOverPeerThroughput}× the Python peer's req/s at equal or better p99 — ${m.label}`,
      measured: `${rows.map((x) => `c=${x.concurrency}: ${f(x.throughputRatio, 2)}×`).join(', ')} (best ${f(best.throughputRatio, 2)}× at c=${best.concurrency}, p99 ${f(best.restP99Ms, 2)} vs ${f(best.peerP99Ms, 2)} ms)`,
      verdict: `${rest === rows.length ? '**met**' : rest === 0 ? '**not met**' : '**met in part**'} at ${rest} of ${rows.length} concurrencies`,
    });
    v.push({
      target: `gateway adds ≤ ${r.targets.gatewayP50Overhead * 100}% at p50 (vs the same replica directly) — ${m.label}`,
      measured: `${rows.map((x) => `c=${x.concurrency}: ${pct(x.gatewayP50Overhead)}`).join(', ')}${rows.every((x) => x.relayP50Overhead !== undefined) ? `; a byte-copying TCP relay (the floor): ${rows.map((x) => pct(x.relayP50Overhead!)).join(', ')}` : ''}`,
      verdict: `${gw === rows.length ? '**met**' : gw === 0 ? '**not met**' : '**met in part**'} at ${gw} of ${rows.length} concurrencies`,
    });
  }
  return out.join('\n');
}

function rampSection(r: Ramp, v: Verdict[]): string {
  const s = r.settled;
  v.push({
    target: `load ramp: replicas rise, and once settled p99 is within the QoS (p99 ${r.qos.p99Ms} ms)`,
    measured: `${s.replicas} replicas (the second at ${r.secondReplicaAtRps ?? '-'} rps${s.heldThroughWindow ? '' : '; the count changed during the window'}); settled p99 ${f(s.p99Ms, 1)} ms at ${s.rps} rps`,
    verdict: `${f(s.qosRatio, 2)}× the budget: ${yes(s.replicas >= 2 && s.heldThroughWindow && s.qosRatio <= 1)}`,
  });
  v.push({
    target: 'load ramp: scales to zero when the load stops, and the next request succeeds',
    measured: `zero after ${f(r.scaleToZeroMs / 1000)} s (idle window ${f(r.idleToZeroMs / 1000)} s); next request ${f(r.coldStartMs, 0)} ms (event ${r.coldStartEventMs ?? '-'} ms); ${r.errors} failed requests`,
    verdict: yes(r.coldStartEventMs !== null && r.errors === 0),
  });
  return [
    table(
      ['phase', 'rps', 's', 'requests', 'errors', 'p50 ms', 'p99 ms', 'ready after'],
      r.steps.map((x) => [
        x.phase,
        x.rps,
        f(x.seconds),
        x.requests,
        x.errors,
        f(x.p50Ms, 2),
        f(x.p99Ms, 2),
        x.readyAtEnd,
      ]),
    ),
    '',
    `Replicas over time: ${r.replicasOverTime.map((x) => `${f(x.tMs / 1000)} s ${x.ready}/${x.desired}`).join(', ')}.`,
  ].join('\n');
}

/** Which start-up a deployment gets by default, so the verdicts say which row is Stratum as deployed. */
const COLD_START_MODES: Record<string, string> = {
  'warm pool': "warm pool: `stratum serve`'s default, --warm-replicas 1",
  'cold process': 'cold process: no warm pool, --warm-replicas 0',
};

function coldstartSection(r: ColdStart, v: Verdict[]): string {
  for (const x of r.results.filter((y) => y.mode !== 'already routed (first req)'))
    v.push({
      target: `scale from zero < ${r.targets.coldStartMs} ms, median (${x.model} model, ${COLD_START_MODES[x.mode] ?? x.mode})`,
      measured: `${f(x.medianMs, 0)} ms`,
      verdict: `${f(x.medianMs / r.targets.coldStartMs, 2)}× the limit: ${yes(x.medianMs < r.targets.coldStartMs)}`,
    });
  return table(
    ['model', 'MiB', 'mode', 'runs', 'median ms', 'p90 ms', 'replica start ms', 'next request ms'],
    r.results.map((x) => [
      x.model,
      f(x.modelMiB, 1),
      x.mode,
      x.runs,
      f(x.medianMs, 0),
      f(x.p90Ms, 0),
      f(x.replicaMs, 0),
      f(x.nextMs, 1),
    ]),
  );
}

function profilerSection(r: ProfilerAccuracy, v: Verdict[]): string {
  const measured = r.scenarios.filter((s) => s.feasible);
  const ratios = measured.flatMap((s) => [s.p99Ratio!, s.rpsRatio!, s.capacityRatio!]);
  const within = ratios.filter((x) => Math.abs(x - 1) <= r.target.ratioWithin).length;
  v.push({
    target: `profiler predictions within ±${r.target.ratioWithin * 100}% of a load test`,
    measured: `${within} of ${ratios.length} ratios within (p99 ratios ${measured.map((s) => f(s.p99Ratio, 2)).join(', ')}; the same deployment measured twice in a row: ${measured.map((s) => f(s.repeatRatio, 2)).join(', ')})`,
    verdict: yes(within === ratios.length),
  });
  return [
    `Profile took ${f(r.profileSeconds)} s.`,
    '',
    'Tiers are emulated with a CFS quota on a cgroup of each replica (the duty cycle where no cgroup can be made). Each replica of the load-tested deployment is readied as the profiled replica was before its open-loop points (prepareForOpenLoop: settled at full speed, connections opened and closed at each concurrency so V8 has recompiled the HTTP path, then warmed under the share). The measured p99 at the target rate is read the way the profiler reads its open-loop points (windows until three in a row agree within 10% in throughput and mean latency, over at least 1000 requests, as perf_analyzer does), so prediction and measurement use one estimator; "again" is the same reading taken once more right after, on the same replicas at the same rate: how far two measurements of one deployment differ here. The fixed-window column is one 6 s window at the same rate without the stability rule.',
    '',
    table(
      [
        'scenario',
        'recommended',
        'p99 predicted ms',
        'p99 measured ms',
        'ratio',
        'p99 again ms',
        'again / measured',
        'p99 fixed window ms',
        'ratio',
        'req/s asked',
        'req/s served',
        'ratio',
        'capacity predicted',
        'capacity measured',
        'ratio',
      ],
      r.scenarios.map((s) =>
        s.feasible
          ? [
              s.scenario,
              s.recommendation!,
              f(s.predictedP99Ms, 2),
              f(s.measuredP99Ms, 2),
              f(s.p99Ratio, 2),
              f(s.againP99Ms, 2),
              f(s.repeatRatio, 2),
              f(s.fixedWindowP99Ms, 2),
              f(s.fixedWindowRatio, 2),
              s.predictedRps!,
              f(s.measuredRps, 0),
              f(s.rpsRatio, 2),
              f(s.predictedCapacity, 0),
              f(s.measuredCapacity, 0),
              f(s.capacityRatio, 2),
            ]
          : [s.scenario, `infeasible: ${(s.reasons ?? []).join('; ')}`, ...Array<string>(13).fill('')],
      ),
    ),
  ].join('\n');
}

function memorySection(r: Memory, v: Verdict[]): string {
  v.push({
    target: `control plane idles under ${r.target.controlPlaneIdleMB} MB resident`,
    measured: `${f(r.controlPlaneIdle.mb, 0)} MB (${f(r.controlPlaneIdle.mib)} MiB), the largest idle reading; fresh: ${f(((r.readingsMiB['control plane']?.[r.phases[0]!] ?? NaN) * 2 ** 20) / 1e6, 0)} MB`,
    verdict: `${f(r.controlPlaneIdle.ratio, 2)}× the limit: ${yes(r.controlPlaneIdle.met)}`,
  });
  const roles = Object.keys(r.readingsMiB);
  return [
    `VmRSS from /proc/PID/status, MiB; the largest process of each role in each phase ("-": none in that phase). Serving load: closed loop c=16 through the gateway for ${r.loadMs / 1000} s, ${f(r.serving.throughput, 0)} req/s.`,
    '',
    table(
      ['process', ...r.phases],
      roles.map((role) => [role, ...r.phases.map((p) => f(r.readingsMiB[role]?.[p]))]),
    ),
  ].join('\n');
}

function soakSection(r: Soak, v: Verdict[]): string {
  v.push({
    target: 'soak: failed requests ≤ the requests in flight on the killed replicas',
    measured: `${r.failed} failed of ${r.sent} sent; bound ${r.bound.inFlightAtKills} (in flight at the client at the ${r.kills.length} kills)`,
    verdict: yes(r.bound.withinBound),
  });
  const worst = Math.max(...Object.values(r.rss).map((x) => x.growth));
  v.push({
    target: `soak: resident memory of long-lived processes grows ≤ ${r.rssGrowthLimit * 100}%`,
    measured: Object.entries(r.rss)
      .map(([role, x]) => `${role} ${pct(x.growth)}`)
      .join(', '),
    verdict: `worst ${pct(worst)}: ${yes(r.rssMet)}`,
  });
  return [
    `${r.minutes} min of open-loop load at ${r.ratePerSec} req/s through the gateway on a deployment of 2 replicas (penguins), SIGKILL of one replica every ${r.killEveryMs / 1000} s; warm-up ${r.warmupMs / 1000} s.`,
    '',
    `Sent ${r.sent}, answered ${r.answered}, failed ${r.failed}${r.failed ? ` (${r.failureMessages.join('; ')}; at ${[...new Set(r.failureTimesS.map((t) => t.toFixed(1)))].join(', ')} s)` : ''}; gateway retries ${r.gatewayRetries}. After warm-up: ${f(r.afterWarmup.throughput)} req/s, p50 ${f(r.afterWarmup.latency.p50Ms, 2)} ms, p90 ${f(r.afterWarmup.latency.p90Ms, 2)} ms, p99 ${f(r.afterWarmup.latency.p99Ms, 2)} ms, max ${f(r.afterWarmup.latency.maxMs)} ms (latency from the intended send time).`,
    '',
    table(
      [
        'kill at s',
        'replica pid',
        'in flight at the client',
        'failed until the next kill',
        'back to 2 ready replicas after ms',
      ],
      r.kills.map((k) => [f(k.atS, 0), k.pid, k.inFlightAtClient, k.failuresSince, f(k.recoveredAfterMs, 0)]),
    ),
    ...(r.memory
      ? []
      : [
          '',
          table(
            ['long-lived process', 'RSS after warm-up MiB', 'RSS at the end MiB', 'growth'],
            Object.entries(r.rss).map(([role, x]) => [role, f(x.afterWarmupMiB), f(x.endMiB), pct(x.growth)]),
          ),
        ]),
    ...(r.memory
      ? [
          '',
          `Resident memory and the live V8 heap (read after a full GC) per long-lived process; slope over the last ${f((r.slopeWindowMs ?? 0) / 60_000, 0)} min:`,
          '',
          table(
            [
              'process',
              'RSS MiB warm → end',
              'RSS growth',
              'RSS slope MiB/min',
              'live heap MiB warm → end',
              'heap growth',
            ],
            Object.entries(r.memory).map(([role, m]) => [
              role,
              `${f(m.rss.afterWarmupMiB)} → ${f(m.rss.endMiB)}`,
              pct(m.rss.growth),
              f(m.rss.slopeMiBPerMin, 2),
              `${f(m.liveHeap.afterWarmupMiB)} → ${f(m.liveHeap.endMiB)}`,
              pct(m.liveHeap.growth),
            ]),
          ),
        ]
      : []),
    ...(r.otherProcesses?.length
      ? [
          '',
          `Replicas and warm-pool processes are new processes each time one is killed and replaced (${r.otherProcesses.length} in this run, ${r.otherProcesses.filter((p) => p.killed).length} killed); the largest reached ${f(Math.max(...r.otherProcesses.map((p) => p.rssMaxMiB)))} MiB.`,
        ]
      : []),
    ...(r.rssTrajectory?.length
      ? [
          '',
          'The same processes over the run (MiB, after warm-up, just before each kill, at the end):',
          '',
          table(
            ['process', ...r.rssTrajectory.map((t) => `${f(t.atS, 0)} s`)],
            Object.keys(r.rss).map((role) => [role, ...r.rssTrajectory!.map((t) => f(t.mib[role]))]),
          ),
        ]
      : []),
  ].join('\n');
}

export const SECTIONS: Record<string, { title: string; render: (r: never, v: Verdict[]) => string }> = {
  fanout: { title: 'Fan-out: the scheduler', render: fanoutSection },
  serving: {
    title: 'Serving: one replica, REST and gRPC, batching off and on (bench/serving)',
    render: servingSection,
  },
  'serving-matrix': {
    title: 'Serving matrix: in-process, replica, gateway and the Python peer',
    render: matrixSection,
  },
  coldstart: { title: 'Cold start through the gateway', render: coldstartSection },
  ramp: { title: 'Load ramp: replicas, settled p99 against the QoS, scale to zero', render: rampSection },
  'profiler-accuracy': { title: 'Profiler accuracy: predicted vs measured', render: profilerSection },
  memory: { title: 'Resident memory', render: memorySection },
  soak: { title: 'Soak: steady load while replicas are killed', render: soakSection },
};

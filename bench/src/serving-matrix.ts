/**
 * bench/serving-matrix: every way to serve a model, side by side, at concurrency 1..64, for two
 * models a Stratum run produces here: the penguins classifier of examples/penguins.yaml (a
 * random forest, ONNX-ML, ~45 KB) and a wide MLP (tfjs, two dense layers of 1024, ~4 MB),
 * both exported by Stratum's ONNX exporter. One-row JSON requests, closed loop, the load
 * generator of the profiler (server/src/profiler/loadgen.ts) for every series:
 *
 *   in-process onnxruntime        session.run in this process: the ceiling
 *   replica REST/gRPC, batching off   a replica-main process, --max-batch-size 1
 *   replica REST/gRPC, batching on    the deployment's own replica (32 rows / 2 ms), directly
 *   gateway REST                  the same deployment through the gateway (one replica behind it)
 *   TCP relay                     the same replica behind a relay that copies bytes (tcp-relay.ts):
 *                                 what any proxy costs at the least, the gateway's floor
 *   KServe peer REST              KServe's Python model server, onnxruntime, the same ONNX file
 *
 * Every model runtime gets one intra-op thread (a deployed replica's 1 cpu), the peer too.
 * Ratios (same run, same machine): Stratum REST (batching on, as deployed) over the peer's
 * throughput, with p99 alongside; gateway p50 over the direct replica's p50.
 *
 *   node bench/dist/serving-matrix.js [--quick] [--concurrency 1,4,16,32,64] [--models penguins,penguins-wide]
 */
import type { LoadResult, Task } from '@stratum/server/dist/profiler/loadgen';
import { closedLoop } from '@stratum/server/dist/profiler/loadgen';
import { inferTask, warmUp } from '@stratum/server/dist/profiler/sweep';
import { ModelRuntime } from '@stratum/server/dist/serving/model-runtime';
import { statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';

import { ensurePeerVenv, peerVersions, startPeer } from './peer';
import { startServer, type Started } from './process';
import { startRelay } from './tcp-relay';
import { printTable, writeResult } from './report';
import { grpcTask, inProcessTask, sampleRows, type SampleRows } from './requests';
import { PENGUINS_SPEC, REPO, StratumSystem, WIDE_MLP_SPEC } from './system';

const REPLICA_MAIN = join(REPO, 'server', 'dist', 'serving', 'replica-main.js');
const THREADS = 1;
export const TARGETS = { restOverPeerThroughput: 2, gatewayP50Overhead: 0.15 };
const RELAY = 'TCP relay (→ that replica)';

export interface MatrixPoint extends LoadResult {
  readonly model: string;
  readonly series: string;
}

interface Timing {
  readonly durationMs: number;
  readonly warmupMs: number;
}

/** A replica-main process with batching off, as in bench/serving. */
const startUnbatchedReplica = (modelPath: string, name: string): Promise<Started> =>
  startServer(
    [
      REPLICA_MAIN,
      ...['--model', modelPath, '--name', name, '--version', '1', '--threads', String(THREADS)],
      ...['--max-batch-size', '1', '--max-queue-delay-ms', '0'],
    ],
    /ready on (\S+)/,
  );

async function series(
  points: MatrixPoint[],
  model: string,
  name: string,
  concurrency: readonly number[],
  timing: Timing,
  make: (c: number) => { task: Task; close?: () => void },
): Promise<void> {
  const warm = make(4);
  await warmUp(warm.task, 500, 200, 4);
  warm.close?.();
  for (const c of concurrency) {
    const t = make(c);
    const result = await closedLoop(t.task, { concurrency: c, ...timing });
    t.close?.();
    const p: MatrixPoint = { model, series: name, ...result };
    points.push(p);
    console.error(
      `${model} | ${name} c=${c}: ${p.throughput.toFixed(0)} req/s, p50 ${p.latency.p50Ms.toFixed(2)} ms, p99 ${p.latency.p99Ms.toFixed(2)} ms${p.errors ? `, ${p.errors} errors (${p.firstError})` : ''}`,
    );
  }
}

interface ModelUnderTest {
  readonly label: string;
  readonly registered: string;
  readonly file: string;
  readonly bytes: number;
  readonly trainer: string;
  readonly sample: SampleRows;
}

async function measureModel(
  system: StratumSystem,
  m: ModelUnderTest,
  concurrency: readonly number[],
  timing: Timing,
  points: MatrixPoint[],
): Promise<void> {
  const rest = (url: string, name: string) => (c: number) => inferTask(url, name, m.sample.json, c);

  const runtime = await ModelRuntime.load(m.file, { intraOpNumThreads: THREADS });
  await series(points, m.label, 'in-process onnxruntime', concurrency, timing, () => ({
    task: inProcessTask(runtime, m.sample),
  }));
  await runtime.close();

  const unbatched = await startUnbatchedReplica(m.file, m.registered);
  try {
    await series(points, m.label, 'replica REST, batching off', concurrency, timing, rest(unbatched.url, m.registered));
    await series(points, m.label, 'replica gRPC, batching off', concurrency, timing, () => ({
      task: grpcTask(unbatched.url, m.registered, m.sample),
    }));
  } finally {
    await unbatched.stop();
  }

  const deployment = await system.deploy(m.registered, ['--min', '1', '--max', '1']);
  const replica = deployment.replicas[0]!.url;
  const name = deployment.name;
  await series(points, m.label, 'replica REST, batching on', concurrency, timing, rest(replica, name));
  await series(points, m.label, 'replica gRPC, batching on', concurrency, timing, () => ({
    task: grpcTask(replica, name, m.sample),
  }));
  await series(points, m.label, 'gateway REST (→ that replica)', concurrency, timing, rest(system.gateway, name));
  const relay = await startRelay(replica);
  try {
    await series(points, m.label, RELAY, concurrency, timing, rest(relay.url, name));
  } finally {
    await relay.stop();
  }
  await system.cli(['undeploy', name]);

  const peer = await startPeer(m.file, m.registered, THREADS);
  try {
    await series(points, m.label, 'KServe peer REST', concurrency, timing, rest(peer.url, m.registered));
  } finally {
    await peer.stop();
  }
}

export interface Comparison {
  readonly model: string;
  readonly concurrency: number;
  readonly restRps: number;
  readonly peerRps: number;
  readonly throughputRatio: number;
  readonly restP99Ms: number;
  readonly peerP99Ms: number;
  readonly unbatchedRestRps: number;
  readonly unbatchedRatio: number;
  readonly directP50Ms: number;
  readonly gatewayP50Ms: number;
  readonly gatewayP50Overhead: number;
  /** The same in milliseconds: what the hop costs, whatever the replica's own p50. */
  readonly gatewayP50AddedMs: number;
  readonly relayP50Ms: number;
  /** What a relay that only copies bytes adds at p50: the least any proxy adds here. */
  readonly relayP50Overhead: number;
  readonly restMet: boolean;
  readonly gatewayMet: boolean;
}

export function compare(points: readonly MatrixPoint[]): Comparison[] {
  const at = (model: string, series: string, c: number) =>
    points.find((p) => p.model === model && p.series === series && p.concurrency === c)!;
  const out: Comparison[] = [];
  for (const p of points.filter((x) => x.series === 'KServe peer REST')) {
    const c = p.concurrency!;
    const rest = at(p.model, 'replica REST, batching on', c);
    const off = at(p.model, 'replica REST, batching off', c);
    const gw = at(p.model, 'gateway REST (→ that replica)', c);
    const relay = at(p.model, RELAY, c);
    const throughputRatio = rest.throughput / p.throughput;
    const gatewayP50Overhead = gw.latency.p50Ms / rest.latency.p50Ms - 1;
    out.push({
      model: p.model,
      concurrency: c,
      restRps: rest.throughput,
      peerRps: p.throughput,
      throughputRatio,
      restP99Ms: rest.latency.p99Ms,
      peerP99Ms: p.latency.p99Ms,
      unbatchedRestRps: off.throughput,
      unbatchedRatio: off.throughput / p.throughput,
      directP50Ms: rest.latency.p50Ms,
      gatewayP50Ms: gw.latency.p50Ms,
      gatewayP50Overhead,
      gatewayP50AddedMs: gw.latency.p50Ms - rest.latency.p50Ms,
      relayP50Ms: relay.latency.p50Ms,
      relayP50Overhead: relay.latency.p50Ms / rest.latency.p50Ms - 1,
      restMet: throughputRatio >= TARGETS.restOverPeerThroughput && rest.latency.p99Ms <= p.latency.p99Ms,
      gatewayMet: gatewayP50Overhead <= TARGETS.gatewayP50Overhead,
    });
  }
  return out;
}

/** `--concurrency 1,4,16`: the levels to measure, positive integers. */
function listFlag(flag: string): number[] | undefined {
  const i = process.argv.indexOf(flag);
  if (i < 0) return undefined;
  const raw = process.argv[i + 1] ?? '';
  const values = raw.split(',').map(Number);
  if (values.length === 0 || values.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new Error(`${flag} takes positive integers separated by commas (e.g. 1,4,16,32,64), not "${raw}"`);
  }
  return values;
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const timing: Timing = quick ? { durationMs: 1500, warmupMs: 300 } : { durationMs: 3000, warmupMs: 750 };
  const concurrency = listFlag('--concurrency') ?? (quick ? [1, 32] : [1, 4, 16, 32, 64]);
  const only = process.argv[process.argv.indexOf('--models') + 1];
  const started = performance.now();
  const load = { before: loadavg()[0]!, after: 0 };
  const peerInstallSeconds = ensurePeerVenv();
  const peer = peerVersions();

  const system = await StratumSystem.start({ workers: 2 });
  const points: MatrixPoint[] = [];
  const models: ModelUnderTest[] = [];
  try {
    const runs = [
      { label: 'penguins forest', registered: 'penguins', spec: { file: PENGUINS_SPEC }, trainer: 'random-forest' },
      {
        label: 'wide MLP',
        registered: 'penguins-wide',
        spec: { text: WIDE_MLP_SPEC, name: 'penguins-wide' },
        trainer: 'tfjs, 2 × dense 1024',
      },
    ];
    for (const r of runs.filter((x) => !process.argv.includes('--models') || only?.split(',').includes(x.registered))) {
      const { seconds } = await system.run(r.spec);
      console.error(`${r.registered}: trained and registered in ${seconds.toFixed(1)} s`);
      const file = await system.modelFile(r.registered);
      models.push({ ...r, file, bytes: statSync(file).size, sample: sampleRows(file) });
    }
    for (const m of models) await measureModel(system, m, concurrency, timing, points);
  } finally {
    await system.stop();
  }
  load.after = loadavg()[0]!;

  printTable(
    `serving matrix: one-row JSON requests, closed loop (${quick ? 'quick' : 'full'}: ${timing.durationMs / 1000} s per point), ${THREADS} onnxruntime thread everywhere`,
    ['model', 'series', 'c', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'errors'],
    points.map((p) => [
      p.model,
      p.series,
      p.concurrency!,
      p.throughput.toFixed(0),
      p.latency.p50Ms.toFixed(2),
      p.latency.p90Ms.toFixed(2),
      p.latency.p99Ms.toFixed(2),
      p.latency.maxMs.toFixed(1),
      p.errors,
    ]),
  );
  const comparisons = compare(points);
  printTable(
    `targets: Stratum REST ≥ ${TARGETS.restOverPeerThroughput}× the KServe peer's req/s at equal or better p99; gateway p50 ≤ +${TARGETS.gatewayP50Overhead * 100}% over the direct replica`,
    [
      'model',
      'c',
      'REST/peer req/s',
      'p99 REST',
      'p99 peer',
      'met',
      'unbatched/peer',
      'gateway p50 Δ',
      'Δ ms',
      'met',
      'relay p50 Δ',
    ],
    comparisons.map((x) => [
      x.model,
      x.concurrency,
      x.throughputRatio.toFixed(2),
      x.restP99Ms.toFixed(2),
      x.peerP99Ms.toFixed(2),
      x.restMet ? 'yes' : 'no',
      x.unbatchedRatio.toFixed(2),
      `${(x.gatewayP50Overhead * 100).toFixed(0)}%`,
      x.gatewayP50AddedMs.toFixed(2),
      x.gatewayMet ? 'yes' : 'no',
      `${(x.relayP50Overhead * 100).toFixed(0)}%`,
    ]),
  );
  const path = writeResult(quick ? 'serving-matrix-quick' : 'serving-matrix', {
    timing,
    concurrency,
    threads: THREADS,
    targets: TARGETS,
    models: models.map(({ sample, ...m }) => ({ ...m, request: sample.description })),
    peer: { server: 'KServe ModelServer (kserve.Model + onnxruntime), 1 uvicorn worker', ...peer, peerInstallSeconds },
    loadAverage: load,
    seconds: (performance.now() - started) / 1000,
    points,
    comparisons,
  });
  console.log(`\nwrote ${path}`);
}

if (require.main === module)
  void main().catch((e) => {
    console.error(e);
    process.exit(1);
  });

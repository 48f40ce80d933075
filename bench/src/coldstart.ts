/**
 * bench/coldstart: first-response latency of a deployment scaled to zero, through the gateway.
 *
 * What it measures is the data plane's share of a scale from zero: a client request reaches the
 * gateway, which buffers it and reports `buffered` at once; a stand-in control plane (a real
 * ConnectRPC server answering WatchRoutes and ReportGatewayMetrics) starts a replica the moment
 * that report arrives, then publishes its route; the gateway flushes the request to it. The
 * real control plane adds its reconcile and the worker's heartbeat on top; this bench leaves
 * them out rather than guess them. Replicas start either cold (`node replica-main.js`: Node,
 * onnxruntime, model) or from the warm pool (a process already holding Node and onnxruntime
 * gets its model). For comparison, a warm first request: replica already routed.
 *
 *   node bench/dist/coldstart.js [--quick] [--runs N]
 */
import { create } from '@bufbuild/protobuf';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { DeploymentService, RoutingTableSchema, type RoutingTable } from '@stratum/proto';
import { createDualServer, type DualHandler } from '@stratum/server/dist/api/listener';
import { startGateway, type Gateway } from '@stratum/server/dist/deploy/gateway';
import { WarmPool } from '@stratum/server/dist/deploy/warm-pool';
import { silentLogger } from '@stratum/server/dist/util/log';
import { EventEmitter, once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';

import { BENCH_ENV, startServer } from './process';
import { printTable, writeResult } from './report';

const REPO = join(__dirname, '..', '..');
const REPLICA_MAIN = join(REPO, 'server', 'dist', 'serving', 'replica-main.js');
const DEPLOYMENT = 'bench';
const TARGET_MS = 250;

/** A replica however it was started (its own process or the warm pool's). */
interface Started {
  readonly url: string;
  stop(): Promise<unknown>;
}

/** A model: x [batch, width] · W [width, width], written to a temporary file. */
function modelFile(width: number): { path: string; mib: number } {
  const dims = [{ dimParam: 'batch' }, { dimValue: width }];
  const info = (name: string) => ({
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims } } },
  });
  const weights = Buffer.alloc(width * width * 4);
  for (let i = 0; i < width * width; i++) weights.writeFloatLE(((i * 7919) % 1000) / 1000 - 0.5, i * 4);
  const bytes = onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'bench',
      node: [{ opType: 'MatMul', input: ['x', 'W'], output: ['y'] }],
      initializer: [{ name: 'W', dims: [width, width], dataType: onnx.TensorProto.DataType.FLOAT, rawData: weights }],
      input: [info('x')],
      output: [info('y')],
    },
  }).finish();
  const path = join(mkdtempSync(join(tmpdir(), 'stratum-bench-coldstart-')), `w${width}.onnx`);
  writeFileSync(path, bytes);
  return { path, mib: bytes.length / 2 ** 20 };
}

/** The control plane reduced to what a gateway talks to; it starts a replica when told a request is buffered. */
class StandInControlPlane {
  url = '';
  onBuffered: (() => void) | null = null;
  private table: RoutingTable = create(RoutingTableSchema, { generation: 0n });
  private readonly changed = new EventEmitter();
  private readonly server = createDualServer(
    connectNodeAdapter({
      routes: (router) =>
        router.service(DeploymentService, {
          watchRoutes: (_req, ctx) => this.watch(ctx.signal),
          reportGatewayMetrics: (req) => {
            if (req.loads.some((l) => l.deployment === DEPLOYMENT && l.buffered > 0) && this.onBuffered) {
              const start = this.onBuffered;
              this.onBuffered = null;
              start();
            }
            return {};
          },
        }),
    }) as DualHandler,
  );

  async start(): Promise<void> {
    const { port } = await this.server.listen(0, '127.0.0.1');
    this.url = `http://127.0.0.1:${port}`;
  }

  route(targets: { replicaId: string; url: string }[]): void {
    const route = {
      deployment: DEPLOYMENT,
      modelName: 'm',
      modelVersion: 1,
      targets,
      scaledToZero: targets.length === 0,
    };
    this.table = create(RoutingTableSchema, { generation: this.table.generation + 1n, routes: [route] });
    this.changed.emit('changed');
  }

  private async *watch(signal: AbortSignal): AsyncGenerator<RoutingTable> {
    for (let sent = -1n; !signal.aborted; ) {
      if (this.table.generation !== sent) yield this.table;
      sent = this.table.generation;
      await once(this.changed, 'changed', { signal }).catch(() => undefined);
    }
  }

  close(): Promise<void> {
    return this.server.close();
  }
}

const replicaArgs = (model: string) => [
  '--model',
  model,
  '--name',
  DEPLOYMENT,
  '--version',
  '1',
  '--max-queue-delay-ms',
  '0',
];

const spawnReplica = (model: string): Promise<Started> =>
  startServer([REPLICA_MAIN, ...replicaArgs(model)], /ready on (http:\/\/\S+)\n/);

async function infer(gateway: Gateway, width: number): Promise<number> {
  const body = JSON.stringify({
    inputs: [{ name: 'x', datatype: 'FP32', shape: [1, width], data: Array(width).fill(0.5) }],
  });
  const res = await fetch(`${gateway.url}/v2/models/${DEPLOYMENT}/infer`, { method: 'POST', body });
  await res.arrayBuffer();
  return res.status;
}

async function routed(gateway: Gateway, status: number): Promise<void> {
  while ((await fetch(`${gateway.url}/v2/models/${DEPLOYMENT}/ready`)).status !== status)
    await new Promise((r) => setTimeout(r, 5));
}

/** A mode's medians: the whole, and (scale from zero) its parts, or (already routed) the next request. */
interface Outcome {
  readonly model: string;
  readonly modelMiB: number;
  readonly mode: string;
  readonly runs: number;
  readonly medianMs: number;
  readonly p90Ms: number;
  readonly reportMs?: number;
  readonly replicaMs?: number;
  readonly routeToAnswerMs?: number;
  readonly nextMs?: number;
  readonly samples?: readonly Sample[];
}

interface Sample {
  totalMs: number;
  reportMs: number;
  replicaMs: number;
  routeToAnswerMs: number;
}

/** One scale from zero: request → buffered report → replica started → route → answer. */
async function fromZero(
  cp: StandInControlPlane,
  gateway: Gateway,
  width: number,
  start: () => Promise<Started>,
): Promise<Sample> {
  cp.route([]);
  await routed(gateway, 400);
  const t0 = performance.now();
  let reported = 0;
  let ready = 0;
  let replica: Started | null = null;
  cp.onBuffered = () => {
    reported = performance.now();
    void start().then((r) => {
      ready = performance.now();
      replica = r;
      cp.route([{ replicaId: 'r1', url: r.url }]);
    });
  };
  const status = await infer(gateway, width);
  const t1 = performance.now();
  if (status !== 200) throw new Error(`the buffered request answered ${status}`);
  await (replica as Started | null)?.stop();
  return { totalMs: t1 - t0, reportMs: reported - t0, replicaMs: ready - reported, routeToAnswerMs: t1 - ready };
}

/** Replica already running and routed: the first request (new connection) and the one after. */
async function warmFirst(cp: StandInControlPlane, gateway: Gateway, width: number, model: string) {
  const r = await spawnReplica(model);
  cp.route([{ replicaId: 'r1', url: r.url }]);
  await routed(gateway, 200);
  let t = performance.now();
  await infer(gateway, width);
  const firstMs = performance.now() - t;
  t = performance.now();
  await infer(gateway, width);
  const nextMs = performance.now() - t;
  await r.stop();
  return { firstMs, nextMs };
}

/** Nearest-rank quantile. */
const quantile = (xs: number[], q: number): number =>
  [...xs].sort((a, b) => a - b)[Math.max(0, Math.ceil(xs.length * q) - 1)]!;
const median = (xs: number[]): number => quantile(xs, 0.5);

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const at = process.argv.indexOf('--runs');
  const runs = at > 0 ? Math.max(10, Number(process.argv[at + 1])) : quick ? 10 : 20;
  const models = [{ label: 'tiny', width: 4 }, ...(quick ? [] : [{ label: '16 MiB', width: 2048 }])].map((m) => ({
    ...m,
    ...modelFile(m.width),
  }));
  const cp = new StandInControlPlane();
  await cp.start();
  // Reports come only when a request is buffered: the interval is out of the way.
  const gateway = await startGateway({
    controlPlaneUrl: cp.url,
    gatewayId: 'bench',
    reportIntervalMs: 60_000,
    log: silentLogger(),
  });
  const pool = new WarmPool({ size: 1, env: BENCH_ENV });
  await pool.start();
  const results: Outcome[] = [];
  try {
    for (const m of models) {
      const modes: [string, () => Promise<Started>][] = [
        ['cold process', () => spawnReplica(m.path)],
        ['warm pool', () => pool.acquire(replicaArgs(m.path))],
      ];
      for (const [mode, start] of modes) {
        const samples: Sample[] = [];
        for (let i = 0; i < runs; i++) {
          while (mode === 'warm pool' && pool.ready < 1) await new Promise((r) => setTimeout(r, 20));
          samples.push(await fromZero(cp, gateway, m.width, start));
        }
        const pick = (k: keyof Sample) => median(samples.map((s) => s[k]));
        const total = samples.map((s) => s.totalMs);
        const parts = {
          reportMs: pick('reportMs'),
          replicaMs: pick('replicaMs'),
          routeToAnswerMs: pick('routeToAnswerMs'),
        };
        results.push({
          model: m.label,
          modelMiB: m.mib,
          mode,
          runs,
          medianMs: median(total),
          p90Ms: quantile(total, 0.9),
          ...parts,
          samples,
        });
      }
      const warm = [];
      for (let i = 0; i < runs; i++) warm.push(await warmFirst(cp, gateway, m.width, m.path));
      const first = warm.map((w) => w.firstMs);
      const nextMs = median(warm.map((w) => w.nextMs));
      results.push({
        model: m.label,
        modelMiB: m.mib,
        mode: 'already routed (first req)',
        runs,
        medianMs: median(first),
        p90Ms: quantile(first, 0.9),
        nextMs,
      });
    }
  } finally {
    await pool.close();
    await gateway.close();
    await cp.close();
  }
  const ms = (v: number | undefined, digits = 1) => (v === undefined ? '-' : v.toFixed(digits));
  printTable(
    `cold start through the gateway (data plane: buffer → report → replica → route → answer); target < ${TARGET_MS} ms`,
    ['model', 'MiB', 'mode', 'runs', 'median ms', 'p90 ms', 'report ms', 'replica ms', 'route→answer ms'],
    results.map((r) => [
      r.model,
      r.modelMiB.toFixed(1),
      r.mode,
      r.runs,
      ms(r.medianMs, 0),
      ms(r.p90Ms, 0),
      ms(r.reportMs),
      ms(r.replicaMs, 0),
      r.nextMs === undefined ? ms(r.routeToAnswerMs) : `next request ${ms(r.nextMs)}`,
    ]),
  );
  const path = writeResult('coldstart', { targets: { coldStartMs: TARGET_MS }, results });
  console.log(`\nwrote ${path}`);
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});

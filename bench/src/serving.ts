/**
 * bench/serving: one-row requests to a small tabular model (the scikit-learn penguins
 * classifier, made by server/test-fixtures/make_sklearn_onnx.py), closed loop at concurrency
 * 1, 4, 16, 32, 64, for:
 *   - onnxruntime in-process (ModelRuntime.run = session.run, one row per run): the ceiling
 *   - a replica process (replica-main) over REST and over gRPC, dynamic batching off and on
 * then an open loop (fixed arrival rate, latency from the intended send time) on the batched
 * replica at 50% and 90% of its closed-loop throughput at concurrency 32.
 * Target: REST with batching at concurrency 32 ≥ in-process unbatched throughput. Each closed
 * loop also reports the CPU per request of the server and of the load generator (in-process,
 * one process is both), which says where the time goes whatever else the machine runs.
 *
 *   node bench/dist/serving.js [--quick]
 */
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { inference } from '@stratum/proto';
import { ModelRuntime } from '@stratum/server/dist/serving/model-runtime';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { closedLoop, openLoop, type LoadResult, type Task } from '@stratum/server/dist/profiler/loadgen';
import { startServer, type Started } from './process';
import { printTable, writeResult } from './report';

const REPO = join(__dirname, '..', '..');
const REPLICA = join(REPO, 'server', 'dist', 'serving', 'replica-main.js');
const CONCURRENCY = [1, 4, 16, 32, 64];
const BATCHING = {
  off: ['--max-batch-size', '1', '--max-queue-delay-ms', '0'],
  on: ['--max-batch-size', '32', '--max-queue-delay-ms', '2'],
};

interface Point extends LoadResult {
  readonly series: string;
  /** Replica only: mean rows per model run during the point (from its /metrics). */
  readonly meanBatchRows?: number;
  /** CPU (user + system) per request of the process that serves: the replica, or this one in-process. */
  readonly serverCpuUsPerRequest?: number;
  /** CPU per request of this process, the load generator (and, in-process, the model too). */
  readonly clientCpuUsPerRequest?: number;
}

/** Clock ticks per second of /proc's CPU times. */
const CLK_TCK = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (user + system, µs) a process has used, from /proc/PID/stat (Linux); undefined elsewhere. */
function processCpuUs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLK_TCK;
  } catch {
    return undefined;
  }
}

const ownCpuUs = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/**
 * A closed loop with the CPU each side spent per request: load-independent figures that say
 * where the time goes on a shared machine. The CPU covers the warm-up too, so requests are
 * counted at the measured rate over warm-up and window together.
 */
async function measured(
  task: Task,
  o: { concurrency: number; durationMs: number; warmupMs: number },
  serverPid: number | undefined,
): Promise<LoadResult & Pick<Point, 'serverCpuUsPerRequest' | 'clientCpuUsPerRequest'>> {
  const before = { server: processCpuUs(serverPid), client: ownCpuUs() };
  const result = await closedLoop(task, o);
  const after = { server: processCpuUs(serverPid), client: ownCpuUs() };
  const requests = (result.throughput * (o.durationMs + o.warmupMs)) / 1000;
  if (requests <= 0) return result;
  const client = (after.client - before.client) / requests;
  const server =
    serverPid === undefined
      ? client
      : before.server === undefined || after.server === undefined
        ? undefined
        : (after.server - before.server) / requests;
  return {
    ...result,
    clientCpuUsPerRequest: client,
    ...(server === undefined ? {} : { serverCpuUsPerRequest: server }),
  };
}

function makeModel(): { modelPath: string; rows: number[][] } {
  const dir = mkdtempSync(join(tmpdir(), 'stratum-bench-serving-'));
  const script = join(REPO, 'server', 'test-fixtures', 'make_sklearn_onnx.py');
  try {
    execFileSync(join(REPO, '.venv', 'bin', 'python'), [script, dir], { stdio: 'pipe' });
  } catch (e) {
    const detail = (e as { stderr?: Buffer }).stderr?.toString().trim() || (e instanceof Error ? e.message : String(e));
    throw new Error(
      `bench/serving makes its model with the project venv (.venv with scikit-learn and skl2onnx; npm run setup): ${detail}`,
    );
  }
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as { inputs: number[][] };
  return { modelPath: join(dir, 'model.onnx'), rows: expected.inputs };
}

const startReplica = (modelPath: string, batching: string[]): Promise<Started> =>
  startServer([REPLICA, '--model', modelPath, '--name', 'penguins', '--version', '1', ...batching], /ready on (\S+)/);

/** POST through a keep-alive pool of `sockets` connections; resolves the body, rejects non-200. */
function restTask(url: string, rows: number[][], sockets: number): Task {
  const agent = new Agent({ keepAlive: true, maxSockets: sockets });
  const { hostname, port } = new URL(url);
  const bodies = rows.map((r) =>
    JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: r }] }),
  );
  let i = 0;
  return () =>
    new Promise((resolve, reject) => {
      const body = bodies[i++ % bodies.length]!;
      const req = request(
        {
          agent,
          hostname,
          port,
          method: 'POST',
          path: '/v2/models/penguins/infer',
          headers: { 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            res.statusCode === 200
              ? resolve(chunks)
              : reject(new Error(`HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString()}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
}

function grpcTask(url: string, rows: number[][]): Task {
  const client = createClient(inference.GRPCInferenceService, createGrpcTransport({ baseUrl: url }));
  const raws = rows.map((r) => new Uint8Array(Float32Array.from(r).buffer));
  let i = 0;
  return () =>
    client.modelInfer({
      modelName: 'penguins',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [1n, 4n] }],
      rawInputContents: [raws[i++ % raws.length]!],
    });
}

function inProcessTask(runtime: ModelRuntime, rows: number[][]): Task {
  const tensors = rows.map((r) => ({
    name: 'input',
    datatype: 'FP32' as const,
    shape: [1, 4],
    data: Float32Array.from(r),
  }));
  let i = 0;
  return () => runtime.run([tensors[i++ % tensors.length]!], ['label', 'probabilities']);
}

async function batchStats(url: string): Promise<{ sum: number; count: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return { sum: read('stratum_replica_batch_size_sum'), count: read('stratum_replica_batch_size_count') };
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const timing = quick ? { durationMs: 1500, warmupMs: 300 } : { durationMs: 5000, warmupMs: 1000 };
  const { modelPath, rows } = makeModel();
  const points: Point[] = [];
  const log = (p: Point) => {
    points.push(p);
    console.error(
      `${p.series} ${p.mode === 'closed' ? `c=${p.concurrency}` : `rate=${p.ratePerSec}/s`}: ${p.throughput.toFixed(0)} req/s, p50 ${p.latency.p50Ms.toFixed(3)} ms, p99 ${p.latency.p99Ms.toFixed(3)} ms${p.errors ? `, ${p.errors} errors (${p.firstError})` : ''}`,
    );
  };

  const runtime = await ModelRuntime.load(modelPath);
  for (const c of CONCURRENCY)
    log({
      series: 'in-process onnxruntime',
      ...(await measured(inProcessTask(runtime, rows), { concurrency: c, ...timing }, undefined)),
    });
  await runtime.close();

  for (const [mode, flags] of Object.entries(BATCHING)) {
    const replica = await startReplica(modelPath, flags);
    try {
      for (const [protocol, make] of [
        ['REST', (c: number) => restTask(replica.url, rows, c)],
        ['gRPC', () => grpcTask(replica.url, rows)],
      ] as const) {
        const series = `replica ${protocol}, batching ${mode}`;
        for (const c of CONCURRENCY) {
          const before = await batchStats(replica.url);
          const result = await measured(make(c), { concurrency: c, ...timing }, replica.child.pid);
          const after = await batchStats(replica.url);
          log({ series, ...result, meanBatchRows: (after.sum - before.sum) / Math.max(1, after.count - before.count) });
        }
        if (mode === 'on') {
          const peak = points.find((p) => p.series === series && p.concurrency === 32)!.throughput;
          for (const share of [0.5, 0.9]) {
            const rate = Math.round(peak * share);
            // A pool of 32 connections, as in the closed loop at c=32; requests due while all are
            // busy wait in the client, and that wait counts in their latency.
            log({
              series: `${series}, open loop ${share * 100}%`,
              ...(await openLoop(make(32), { ratePerSec: rate, maxOutstanding: 1024, ...timing })),
            });
          }
        }
      }
    } finally {
      await replica.stop();
    }
  }

  printTable(
    `serving: one-row requests, penguins classifier (${quick ? 'quick' : 'full'} run, ${timing.durationMs / 1000} s per point)`,
    [
      'series',
      'load',
      'req/s',
      'p50 ms',
      'p90 ms',
      'p99 ms',
      'max ms',
      'rows/run',
      'server CPU µs/req',
      'client CPU µs/req',
      'errors',
    ],
    points.map((p) => [
      p.series,
      p.mode === 'closed' ? `c=${p.concurrency}` : `${p.ratePerSec}/s`,
      p.throughput.toFixed(0),
      p.latency.p50Ms.toFixed(3),
      p.latency.p90Ms.toFixed(3),
      p.latency.p99Ms.toFixed(3),
      p.latency.maxMs.toFixed(3),
      p.meanBatchRows === undefined ? '' : p.meanBatchRows.toFixed(1),
      p.serverCpuUsPerRequest === undefined ? '' : p.serverCpuUsPerRequest.toFixed(0),
      p.clientCpuUsPerRequest === undefined ? '' : p.clientCpuUsPerRequest.toFixed(0),
      p.errors,
    ]),
  );
  const at32 = (series: string) => points.find((p) => p.series === series && p.concurrency === 32)?.throughput ?? 0;
  const ceiling = at32('in-process onnxruntime');
  const rest = at32('replica REST, batching on');
  const ratio = rest / ceiling;
  console.log(
    `\nREST with batching at c=32: ${rest.toFixed(0)} req/s = ${ratio.toFixed(3)} × in-process unbatched (${ceiling.toFixed(0)} req/s); target ≥ 1: ${ratio >= 1 ? 'met' : 'not met'}`,
  );
  const path = writeResult(quick ? 'serving-quick' : 'serving', {
    model: 'scikit-learn penguins (StandardScaler + LogisticRegression), FP32 [-1,4] → label, probabilities',
    timing,
    target: { restBatchedOverInProcessAt32: 1 },
    ratio: { restBatchedOverInProcessAt32: ratio },
    points,
  });
  console.log(`wrote ${path}`);
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});

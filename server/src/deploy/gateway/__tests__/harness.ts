/**
 * Test wiring for the gateway: a fake control plane that is a real ConnectRPC server answering
 * only WatchRoutes and ReportGatewayMetrics, a tiny ONNX model for real replicas, small clients.
 */
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient, type Client, type ServiceImpl } from '@connectrpc/connect';
import { connectNodeAdapter, createGrpcTransport } from '@connectrpc/connect-node';
import {
  DeploymentService,
  inference,
  RoutingTableSchema,
  type ReportGatewayMetricsRequest,
  type RoutingTable,
} from '@stratum/proto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';

import { createDualServer, type DualHandler, type DualServer } from '../../../api/listener';
import { bearerOf } from '../../../api/auth';

export const TOKEN = 'test-token';

type RouteInit = MessageInitShape<typeof RoutingTableSchema>['routes'] extends (infer R)[] | undefined ? R : never;

/** The control plane, reduced to the two RPCs a gateway uses. */
export class FakeControlPlane {
  url = '';
  readonly reports: ReportGatewayMetricsRequest[] = [];
  private table: RoutingTable = create(RoutingTableSchema, { generation: 0n });
  private readonly changed = new Set<() => void>();
  private dual: DualServer | null = null;
  private port = 0;
  private subscriptions = 0;

  get watchers(): number {
    return this.subscriptions;
  }

  async start(): Promise<string> {
    const routes: Partial<ServiceImpl<typeof DeploymentService>> = {
      watchRoutes: (req, ctx) => this.watch(ctx.signal),
      reportGatewayMetrics: (req) => {
        this.reports.push(req);
        for (const wake of [...this.changed]) wake();
        return {};
      },
    };
    const handler = connectNodeAdapter({
      interceptors: [
        (next) => (req) => {
          if (bearerOf(req.header.get('authorization')) !== TOKEN)
            throw new ConnectError('invalid API token', Code.Unauthenticated);
          return next(req);
        },
      ],
      routes: (router) => router.service(DeploymentService, routes),
    });
    this.dual = createDualServer(handler as DualHandler);
    const { port } = await this.dual.listen(this.port, '127.0.0.1');
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    return this.url;
  }

  /** Kills the server and every open stream, as a crash would. */
  async stop(): Promise<void> {
    await this.dual?.close();
    this.dual = null;
  }

  setRoutes(routes: RouteInit[]): void {
    this.table = create(RoutingTableSchema, { generation: this.table.generation + 1n, routes });
    for (const wake of [...this.changed]) wake();
  }

  private async *watch(signal: AbortSignal): AsyncGenerator<RoutingTable> {
    this.subscriptions++;
    try {
      let sent = -1n;
      while (!signal.aborted) {
        if (this.table.generation !== sent) {
          sent = this.table.generation;
          yield this.table;
        }
        await this.next(signal);
      }
    } finally {
      this.subscriptions--;
    }
  }

  private next(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.changed.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.changed.add(done);
      signal.addEventListener('abort', done);
    });
  }

  /** The first report (already received or coming) that has a load matching `match`. */
  async report(
    match: (load: ReportGatewayMetricsRequest['loads'][number]) => boolean,
    timeoutMs = 20_000,
  ): Promise<ReportGatewayMetricsRequest> {
    const found = () => this.reports.find((r) => r.loads.some(match));
    await waitUntil(() => found() !== undefined, timeoutMs, 'a matching load report');
    return found()!;
  }
}

export const route = (
  deployment: string,
  targets: { replicaId: string; url: string }[],
  modelName = 'tiny',
  modelVersion = 1,
): RouteInit => ({
  deployment,
  modelName,
  modelVersion,
  targets,
  scaledToZero: targets.length === 0,
});

export async function waitUntil(
  ready: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
  what = 'the condition',
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** W [4,3] and B [3] of the tiny model: y = x·W + B. */
const W = [0.5, -0.2, 0.1, -0.3, 0.8, 0.0, 0.2, 0.1, -0.6, 0.0, -0.4, 0.9];
const B = [0.1, -0.1, 0.05];

/** FP32 "x" [batch, 4] → FP32 "y" [batch, 3], opset 13, written to a temporary file. */
export function tinyModelFile(): string {
  const info = (name: string, width: number): onnx.IValueInfoProto => ({
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: [{ dimParam: 'batch' }, { dimValue: width }] },
      },
    },
  });
  const bytes = onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'tiny',
      node: [
        { opType: 'MatMul', input: ['x', 'W'], output: ['xw'] },
        { opType: 'Add', input: ['xw', 'B'], output: ['y'] },
      ],
      initializer: [
        { name: 'W', dims: [4, 3], dataType: onnx.TensorProto.DataType.FLOAT, floatData: W },
        { name: 'B', dims: [3], dataType: onnx.TensorProto.DataType.FLOAT, floatData: B },
      ],
      input: [info('x', 4)],
      output: [info('y', 3)],
    },
  }).finish();
  const path = join(mkdtempSync(join(tmpdir(), 'stratum-gateway-')), 'tiny.onnx');
  writeFileSync(path, bytes);
  return path;
}

export const tinyAnswer = (x: readonly number[]): number[] =>
  B.map((b, j) => b + x.reduce((s, v, i) => s + v * W[i * 3 + j]!, 0));

export const inferBody = (rows: number[][]) => ({
  inputs: [{ name: 'x', datatype: 'FP32', shape: [rows.length, 4], data: rows.flat() }],
});

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  json<T = Record<string, unknown>>(): T;
}

export async function http(
  url: string,
  init: { method?: string; body?: string | Uint8Array; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const res = await fetch(url, { method: init.method ?? (init.body === undefined ? 'GET' : 'POST'), ...init });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: <T>() => JSON.parse(text) as T };
}

export const infer = (gateway: string, deployment: string, rows: number[][]): Promise<Answer> =>
  http(`${gateway}/v2/models/${deployment}/infer`, { body: JSON.stringify(inferBody(rows)) });

export function grpc(url: string): Client<typeof inference.GRPCInferenceService> {
  return createClient(inference.GRPCInferenceService, createGrpcTransport({ baseUrl: url }));
}

/** One Prometheus sample whose labels include `labels`, or 0. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.split(' ').pop());
  }
  return 0;
}

/** A replica's count of answered REST infer requests with `status`. */
export async function replicaCount(url: string, status = 200): Promise<number> {
  const text = (await http(`${url}/metrics`)).text;
  return sample(text, 'stratum_replica_requests_total', {
    protocol: 'rest',
    route: '/v2/models/{name}/infer',
    status: String(status),
  });
}

/** Small clients for the replica tests: REST calls, a gRPC client, metric reading. */
import { createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { inference } from '@stratum/proto';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
  json<T = Record<string, unknown>>(): T;
}

export async function call(
  url: string,
  path: string,
  init: { method?: string; body?: string | Uint8Array; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const res = await fetch(`${url}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    ...(init.body !== undefined ? { body: init.body } : {}),
    ...(init.headers ? { headers: init.headers } : {}),
  });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body, json: <T>() => JSON.parse(body.toString('utf8')) as T };
}

export const post = (url: string, path: string, body: unknown): Promise<Answer> =>
  call(url, path, { body: JSON.stringify(body) });

export function grpcClient(url: string): Client<typeof inference.GRPCInferenceService> {
  return createClient(inference.GRPCInferenceService, createGrpcTransport({ baseUrl: url }));
}

/** The value of one Prometheus sample (labels matched as a substring set), or 0. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.split(' ').pop());
  }
  return 0;
}

/** Rows of a flat list. */
export const chunk = <T>(flat: readonly T[], width: number): T[][] =>
  Array.from({ length: flat.length / width }, (_, i) => flat.slice(i * width, (i + 1) * width));

export function expectClose(actual: readonly number[][], expected: readonly number[][], tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  actual.forEach((row, i) => row.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - expected[i]![j]!)))));
  expect(worst).toBeLessThan(tolerance);
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export const REPLICA_MAIN = join(__dirname, '..', '..', '..', 'dist', 'serving', 'replica-main.js');

export interface ReplicaProcess {
  readonly url: string;
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** `node server/dist/serving/replica-main.js ARGS` (the built replica), once it prints its ready line. */
export function spawnReplica(args: readonly string[]): Promise<ReplicaProcess> {
  const child = spawn(process.execPath, [REPLICA_MAIN, ...args], {
    env: { ...process.env, STRATUM_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const m = /ready on (http:\/\/\S+)\n/.exec(out);
      if (!m) return;
      child.stdout!.off('data', check);
      resolve({
        url: m[1]!,
        child,
        stdout: () => out,
        stderr: () => err,
        stop: () => {
          child.kill('SIGTERM');
          return exited;
        },
      });
    };
    child.stdout!.on('data', check);
    void exited.then((code) => reject(new Error(`replica exited (${code}) before it was ready: ${out}${err}`)));
  });
}

/** An infer body: the JSON header, then binary tensor data, with the header length to send. */
export function withBinary(header: unknown, binary: Uint8Array, length?: string) {
  const json = Buffer.from(JSON.stringify(header));
  return {
    body: Buffer.concat([json, binary]),
    headers: { 'inference-header-content-length': length ?? String(json.length) },
  };
}

export const f32 = (...v: number[]): Uint8Array => new Uint8Array(Float32Array.from(v).buffer);

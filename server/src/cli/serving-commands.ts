/** `stratum serve-model` and `stratum predict`: a registered model behind the Open Inference Protocol. */
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

import { stratumHome } from '../config/home';
import { inferTensors, predictRows, type TensorInput } from '../serving/client';
import { startReplica } from '../serving/replica';
import { createLogger, silentLogger } from '../util/log';
import { UsageError, type FlagValue } from './args';
import { clientFor, type Io } from './client-commands';

type Flags = Readonly<Record<string, FlagValue>>;

export function parseModelRef(ref: string): { name: string; version: number } {
  const [name, v, ...rest] = ref.split(':');
  const version = v === undefined ? 0 : Number(v);
  if (!name || rest.length > 0 || !Number.isInteger(version) || version < 0) {
    throw new UsageError(`bad model reference "${ref}": use NAME or NAME:VERSION`);
  }
  return { name, version };
}

/** Downloads a registered model into the local cache (by digest) and returns its path. */
export async function fetchModel(flags: Flags, ref: string): Promise<{ path: string; name: string; version: number }> {
  const { name, version } = parseModelRef(ref);
  const client = clientFor(flags);
  const { model } = await client.models.getModel({ name, version });
  if (model!.format !== 'onnx') {
    throw new UsageError(
      `model ${name}:${model!.version} is stored as ${model!.format}, not ONNX: train it again to serve it`,
    );
  }
  const dir = join(stratumHome(), 'models');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `${model!.digest.replace(':', '-')}.onnx`);
  if (!existsSync(path)) {
    const chunks: Uint8Array[] = [];
    for await (const c of client.models.downloadModel({ name, version: model!.version })) chunks.push(c.data);
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, Buffer.concat(chunks), { mode: 0o600 });
    renameSync(tmp, path);
  }
  return { path, name, version: model!.version };
}

export async function serveModel(args: readonly string[], flags: Flags, io: Io): Promise<number> {
  const { path, name, version } = await fetchModel(flags, args[0]!);
  const maxBatch = Number(flags['max-batch-size'] ?? 32);
  const delay = Number(flags['max-queue-delay-ms'] ?? 2);
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new UsageError(`--max-batch-size expects an integer ≥ 1`);
  if (!Number.isInteger(delay) || delay < 0) throw new UsageError(`--max-queue-delay-ms expects an integer ≥ 0`);
  const replica = await startReplica({
    modelPath: path,
    name,
    version: String(version),
    host: flags.host ? String(flags.host) : '127.0.0.1',
    port: flags.port !== undefined ? Number(flags.port) : 0,
    batching: { maxBatchSize: maxBatch, maxQueueDelayMs: delay },
    log: createLogger(`stratum-replica ${name}:${version}`),
  });
  io.out(`serving ${name}:${version} on ${replica.url}`);
  io.out(`  curl -s ${replica.url}/v2/models/${name}`);
  io.out(`  curl -s -X POST ${replica.url}/v2/models/${name}/predict -d '{"rows": [{...}]}'`);
  const stop = (): void => {
    void replica.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return -1;
}

function readInput(flags: Flags): unknown {
  const raw = flags.input;
  if (raw === undefined) throw new UsageError('predict needs --input JSON (or --input @file.json)');
  const text = String(raw).startsWith('@') ? readFileSync(String(raw).slice(1), 'utf8') : String(raw);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--input is not valid JSON: ${(e as Error).message}`);
  }
}

/** `{"rows": [...]}` or a bare list of records → records; `{"inputs": [...]}` → tensors. */
export function classifyInput(body: unknown): { rows: Record<string, unknown>[] } | { inputs: TensorInput[] } {
  if (Array.isArray(body)) return { rows: body as Record<string, unknown>[] };
  if (body && typeof body === 'object') {
    const o = body as { rows?: unknown; inputs?: unknown };
    if (Array.isArray(o.rows)) return { rows: o.rows as Record<string, unknown>[] };
    if (Array.isArray(o.inputs)) return { inputs: o.inputs as TensorInput[] };
  }
  throw new UsageError('--input must be {"rows": [...]}, a list of records, or {"inputs": [...]} (OIP tensors)');
}

/** URL forms: http://host:port with --model NAME, or http://host:port/v2/models/NAME. */
function endpointOf(target: string, flags: Flags): { url: string; name: string } {
  const m = /^(https?:\/\/[^/]+)(?:\/v2\/models\/([^/]+))?\/?$/.exec(target);
  if (!m)
    throw new UsageError(
      `cannot use "${target}" as an endpoint: give http://HOST:PORT or http://HOST:PORT/v2/models/NAME`,
    );
  const name = m[2] ?? (flags.model ? String(flags.model) : '');
  if (!name) throw new UsageError('give the model: --model NAME, or a URL ending in /v2/models/NAME');
  return { url: m[1]!, name };
}

export async function predict(args: readonly string[], flags: Flags, io: Io): Promise<number> {
  const target = args[0]!;
  const input = classifyInput(readInput(flags));
  const apiKey = flags['api-key'] !== undefined ? String(flags['api-key']) : process.env.STRATUM_API_KEY;
  const o = apiKey ? { apiKey } : {};
  const call = (url: string, name: string) =>
    'rows' in input ? predictRows(url, name, input.rows, o) : inferTensors(url, name, input.inputs, o);
  let result: unknown;
  if (/^https?:\/\//.test(target)) {
    const { url, name } = endpointOf(target, flags);
    result = await call(url, name);
  } else {
    // A model name: run it here, in a replica of this process, on the registered file.
    const { path, name, version } = await fetchModel(flags, target);
    const replica = await startReplica({
      modelPath: path,
      name,
      version: String(version),
      port: 0,
      log: silentLogger(),
    });
    try {
      result = await call(replica.url, name);
    } finally {
      await replica.close();
    }
  }
  io.out(JSON.stringify(result, null, flags.json ? 2 : undefined));
  return 0;
}

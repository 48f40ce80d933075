/**
 * The replica process:
 *
 *   node server/dist/serving/replica-main.js --model PATH --name N --version V [--port P]
 *     [--host 127.0.0.1] [--max-batch-size 32] [--max-queue-delay-ms 2] [--max-body-bytes N]
 *     [--max-queue-size N] [--threads N]
 *
 * Prints exactly one line on stdout, `stratum replica NAME:VERSION ready on URL`, once the
 * model is loaded; logs go to stderr. SIGTERM/SIGINT drain the batcher and exit 0.
 */
import { parseArgs } from 'node:util';

import { createLogger } from '../util/log';
import { DEFAULT_BATCHING, startReplica, type ReplicaOptions } from './replica';

export const USAGE =
  'usage: replica-main --model PATH --name NAME --version VERSION [--port 0] [--host 127.0.0.1] [--max-batch-size 32] [--max-queue-delay-ms 2] [--max-body-bytes 8388608] [--max-queue-size 1024] [--threads N]';

/** argv (without node and script) → options; throws with the usage on a mistake. */
export function parseReplicaArgs(argv: readonly string[]): ReplicaOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      model: { type: 'string' },
      name: { type: 'string' },
      version: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'max-batch-size': { type: 'string' },
      'max-queue-delay-ms': { type: 'string' },
      'max-body-bytes': { type: 'string' },
      'max-queue-size': { type: 'string' },
      threads: { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  const int = (flag: keyof typeof values, fallback: number, min: number): number => {
    const text = values[flag];
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < min)
      throw new Error(`--${flag} must be an integer ≥ ${min}, got "${text}"\n${USAGE}`);
    return n;
  };
  for (const flag of ['model', 'name', 'version'] as const) {
    if (!values[flag]) throw new Error(`--${flag} is required\n${USAGE}`);
  }
  const limits = {
    ...(values['max-body-bytes'] !== undefined ? { maxBodyBytes: int('max-body-bytes', 0, 1) } : {}),
    ...(values['max-queue-size'] !== undefined ? { maxQueueSize: int('max-queue-size', 0, 1) } : {}),
  };
  const threads = int('threads', 0, 0);
  return {
    modelPath: values.model!,
    name: values.name!,
    version: values.version!,
    host: values.host ?? '127.0.0.1',
    port: int('port', 0, 0),
    batching: {
      maxBatchSize: int('max-batch-size', DEFAULT_BATCHING.maxBatchSize, 1),
      maxQueueDelayMs: int('max-queue-delay-ms', DEFAULT_BATCHING.maxQueueDelayMs, 0),
    },
    limits,
    ...(threads > 0 ? { intraOpNumThreads: threads } : {}),
  };
}

async function main(): Promise<void> {
  const options = parseReplicaArgs(process.argv.slice(2));
  const log = createLogger(`stratum-replica ${options.name}:${options.version}`);
  const replica = await startReplica({ ...options, log });
  process.stdout.write(`stratum replica ${options.name}:${options.version} ready on ${replica.url}\n`);
  const stop = (signal: string): void => {
    log.info({ signal }, 'draining');
    void replica.close().then(
      () => process.exit(0),
      (e: unknown) => {
        log.error({ err: e }, 'close failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // Started by a worker agent with an IPC channel: when the agent dies (even by kill -9) the
  // channel closes, and the replica must not live on as an orphan nobody routes to or stops.
  if (process.send) process.once('disconnect', () => stop('parent gone'));
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`stratum replica: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}

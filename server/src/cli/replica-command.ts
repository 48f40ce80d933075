/**
 * `stratum replica --model NAME:VERSION`: one replica of a registered model, as a container
 * runs it (the Kubernetes manifests in deploy/iac/kubernetes.ts). It fetches the model from the
 * control plane (URL from --server or $STRATUM_SERVER, token from $STRATUM_TOKEN or the home's
 * secrets) into $STRATUM_HOME/models, and serves it with the same replica runtime as a worker's
 * replicas: preprocessing and signature travel inside the ONNX file's metadata, so the replica
 * answers exactly like the registered model. The OIP health routes answer the probes; SIGTERM
 * drains the batcher before the process exits.
 */
import { DEFAULT_BATCHING, startReplica, type ReplicaOptions } from '../serving/replica';
import { createLogger } from '../util/log';
import { UsageError, type FlagValue } from './args';
import type { Io } from './client-commands';
import { fetchModel } from './serving-commands';

type Flags = Readonly<Record<string, FlagValue>>;

function int(flags: Flags, flag: string, fallback: number, min: number): number {
  const v = flags[flag];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min)
    throw new UsageError(`--${flag} expects a whole number ≥ ${min}, got ${String(v)}`, 'replica');
  return n;
}

/** The replica's options from the command's flags, given where the model file landed; pure. */
export function replicaOptionsOf(
  flags: Flags,
  model: { path: string; name: string; version: number },
): Omit<ReplicaOptions, 'log'> {
  const threads = int(flags, 'threads', 0, 0);
  return {
    modelPath: model.path,
    // A deployment serves under its own name, so the gateway's and the Service's routes match.
    name: flags.name ? String(flags.name) : model.name,
    version: flags.version !== undefined ? String(int(flags, 'version', 0, 1)) : String(model.version),
    host: flags.host ? String(flags.host) : '127.0.0.1',
    port: int(flags, 'port', 0, 0),
    batching: {
      maxBatchSize: int(flags, 'max-batch-size', DEFAULT_BATCHING.maxBatchSize, 1),
      maxQueueDelayMs: int(flags, 'max-queue-delay-ms', DEFAULT_BATCHING.maxQueueDelayMs, 0),
    },
    ...(threads > 0 ? { intraOpNumThreads: threads } : {}),
  };
}

export async function replica(flags: Flags, io: Io): Promise<number> {
  if (!flags.model) throw new UsageError('replica needs --model NAME:VERSION (a registered model)', 'replica');
  // Flags are checked before the download, so a typo does not cost a fetch.
  replicaOptionsOf(flags, { path: '', name: 'x', version: 1 });
  const model = await fetchModel(flags, String(flags.model));
  const options = replicaOptionsOf(flags, model);
  const log = createLogger(`stratum-replica ${options.name}:${options.version}`);
  const running = await startReplica({ ...options, log });
  // The same line replica-main prints: whoever started the process waits for it.
  io.out(`stratum replica ${options.name}:${options.version} ready on ${running.url}`);
  const stop = (signal: string): void => {
    log.info({ signal }, 'draining');
    void running.close().then(
      () => process.exit(0),
      (e: unknown) => {
        log.error({ err: e }, 'close failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return -1;
}

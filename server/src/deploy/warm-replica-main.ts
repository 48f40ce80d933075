/**
 * A replica process started before it is needed, for the warm pool (warm-pool.ts):
 *
 *   node server/dist/deploy/warm-replica-main.js
 *
 * It pays the cold costs first — Node, onnxruntime's native binding, the serving runtime, and
 * onnxruntime's environment (by opening and dropping a one-node session) — then prints
 * `stratum warm replica waiting` and reads ONE line on stdin: a JSON array of the arguments
 * replica-main takes (`["--model", PATH, "--name", N, "--version", V, ...]`). From there it is
 * that replica: it prints `stratum replica NAME:VERSION ready on URL` once the model is loaded,
 * and SIGTERM/SIGINT drain it and exit 0. Before a load line, SIGTERM or a closed stdin exit 0.
 */
import { InferenceSession } from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { createInterface } from 'node:readline';

import { startReplica, type Replica } from '../serving/replica';
import { parseReplicaArgs } from '../serving/replica-main';
import { createLogger } from '../util/log';
import { parseLoadLine, WAITING_LINE } from './warm-protocol';

/** A one-node graph (Identity on a float vector): enough for onnxruntime to build its environment. */
export function warmupModel(): Uint8Array {
  const vector: onnx.IValueInfoProto = {
    name: 'x',
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: 'n' }] } } },
  };
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'warmup',
      node: [{ opType: 'Identity', input: ['x'], output: ['y'] }],
      input: [vector],
      output: [{ ...vector, name: 'y' }],
    },
  }).finish();
}

async function main(): Promise<void> {
  const warm = await InferenceSession.create(warmupModel(), { executionProviders: ['cpu'] });
  await warm.release();
  let replica: Replica | null = null;
  const stop = (): void => {
    if (!replica) process.exit(0);
    void replica.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);

  const lines = createInterface({ input: process.stdin });
  process.stdout.write(`${WAITING_LINE}\n`);
  const line = await new Promise<string | null>((resolve) => {
    lines.once('line', resolve);
    lines.once('close', () => resolve(null));
  });
  lines.close();
  if (line === null) process.exit(0);
  const options = parseReplicaArgs(parseLoadLine(line));
  const log = createLogger(`stratum-replica ${options.name}:${options.version}`);
  replica = await startReplica({ ...options, log });
  process.stdout.write(`stratum replica ${options.name}:${options.version} ready on ${replica.url}\n`);
  // The owner keeps stdin open for the replica's life: when it closes (the agent died, even by
  // kill -9), the replica drains and exits instead of serving on as an orphan.
  process.stdin.once('end', stop);
  process.stdin.resume();
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`stratum replica: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}

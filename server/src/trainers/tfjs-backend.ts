/**
 * The one process-wide piece of trainer state: tfjs's compute backend, chosen lazily on first
 * use. Order: tfjs-node-gpu, then tfjs-node (native TensorFlow, used when installed but never
 * required, since their installers download binaries), then WebAssembly from the installed
 * package's own .wasm files, and the pure-JS 'cpu' backend only when wasm cannot start.
 * `STRATUM_TFJS_BACKEND=tensorflow|wasm|cpu` forces one (for determinism checks and debugging).
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { patchWasmKernels } from './tfjs-kernels';

export type TfjsBackendName = 'tensorflow' | 'wasm' | 'cpu';

/** Loads an optional package by a computed name so neither tsc nor bundlers insist it exists. */
async function optionalImport(name: string): Promise<boolean> {
  try {
    await import(name);
    return true;
  } catch {
    return false;
  }
}

async function trySet(name: string): Promise<boolean> {
  try {
    return (await tf.setBackend(name)) && tf.getBackend() === name;
  } catch {
    return false;
  }
}

const starters: Record<TfjsBackendName, () => Promise<boolean>> = {
  // Requiring either package registers the 'tensorflow' backend with the shared tfjs-core.
  tensorflow: async () =>
    ((await optionalImport('@tensorflow/tfjs-node-gpu')) || (await optionalImport('@tensorflow/tfjs-node'))) &&
    trySet('tensorflow'),
  wasm: async () => {
    // In Node the wasm loader reads the binaries from the file system under this prefix.
    setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep);
    if (!(await trySet('wasm'))) return false;
    patchWasmKernels();
    return true;
  },
  cpu: () => trySet('cpu'),
};

function order(forced: string | undefined): TfjsBackendName[] {
  if (forced === undefined || forced === '') return ['tensorflow', 'wasm', 'cpu'];
  if (forced in starters) return [forced as TfjsBackendName];
  throw new Error(`STRATUM_TFJS_BACKEND=${forced}: expected one of ${Object.keys(starters).join(', ')}`);
}

async function start(): Promise<TfjsBackendName> {
  const candidates = order(process.env.STRATUM_TFJS_BACKEND);
  for (const name of candidates) {
    if (await starters[name]()) return name;
  }
  throw new Error(`no tfjs backend could start (tried ${candidates.join(', ')})`);
}

let ready: Promise<TfjsBackendName> | undefined;

/** Starts the backend once per process and returns its name; later calls share the result. */
export function tfjsBackend(): Promise<TfjsBackendName> {
  ready ??= start().catch((err: unknown) => {
    // Let a later call retry rather than caching a failure forever.
    ready = undefined;
    throw err;
  });
  return ready;
}

export { tf };

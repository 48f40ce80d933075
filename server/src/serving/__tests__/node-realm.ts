/**
 * Import first in any test that runs onnxruntime. Jest evaluates each test file in its own
 * realm, while onnxruntime-node's native binding builds output arrays in Node's main realm, so
 * onnxruntime-common's `data instanceof Float32Array` checks fail under jest only (see
 * microsoft/onnxruntime#16622). Giving the test realm the main realm's typed-array
 * constructors makes both sides agree; plain Node has one realm and needs nothing.
 */
import { runInThisContext } from 'node:vm';

const NAMES = [
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
] as const;

const g = globalThis as unknown as Record<string, unknown>;
for (const name of NAMES) g[name] = runInThisContext(name);

/**
 * The profiler as its own process, so its load generator never runs on the control plane's
 * event loop:
 *
 *   node server/dist/profiler/profile-main.js < job.json
 *
 * reads a ProfileJob (JSON) on stdin and writes one JSON ProfileEvent per line on stdout, the
 * last of kind "done"; a failure is one line {"kind": "error", "message": ...} and exit 1.
 * SIGTERM/SIGINT cancel it: the replica in use is stopped before the process exits.
 */
import { profileModel, type ProfileOptions } from './profiler';
import type { ProfileEvent } from './types';

export type ProfileJob = Pick<ProfileOptions, 'modelPath' | 'model' | 'tiers' | 'settings' | 'inputs'>;

export type ProfileLine = ProfileEvent | { readonly kind: 'error'; readonly message: string };

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function main(): Promise<void> {
  const abort = new AbortController();
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => abort.abort());
  const write = (line: ProfileLine): void => void process.stdout.write(JSON.stringify(line) + '\n');
  try {
    const job = JSON.parse(await readStdin()) as ProfileJob;
    await profileModel({ ...job, onEvent: write, signal: abort.signal });
  } catch (e) {
    write({ kind: 'error', message: e instanceof Error ? e.message : String(e) });
    process.exitCode = 1;
  }
}

if (require.main === module) void main();

/** Runs a profile in its own process (profile-main.ts) and yields its events as they come. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import type { ProfileJob, ProfileLine } from './profile-main';
import type { ProfileEvent } from './types';

/** Where a profile runs: a child process by default; tests pass a fake. */
export type ProfileRunner = (job: ProfileJob, signal?: AbortSignal) => AsyncIterable<ProfileEvent>;

export function profileMainPath(): string {
  const here = join(__dirname, 'profile-main.js');
  return existsSync(here) ? here : join(__dirname, '..', '..', 'dist', 'profiler', 'profile-main.js');
}

export const processRunner: ProfileRunner = async function* (job, signal) {
  const child = spawn(process.execPath, [profileMainPath()], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, STRATUM_LOG_LEVEL: 'warn' },
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const cancel = (): void => {
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10000).unref();
  };
  signal?.addEventListener('abort', cancel, { once: true });
  child.stdin.end(JSON.stringify(job));
  let finished = false;
  try {
    for await (const text of createInterface({ input: child.stdout })) {
      if (!text.trim()) continue;
      const line = JSON.parse(text) as ProfileLine;
      if (line.kind === 'error') throw new Error(line.message);
      yield line;
      if (line.kind === 'done') finished = true;
    }
    const code = await exited;
    if (!finished) {
      if (signal?.aborted) throw new Error('the profile was cancelled');
      throw new Error(
        `the profiler exited (code ${code}) without a profile: ${stderr.trim().split('\n').slice(-3).join(' | ')}`,
      );
    }
  } finally {
    signal?.removeEventListener('abort', cancel);
    if (child.exitCode === null && child.signalCode === null) cancel();
  }
};

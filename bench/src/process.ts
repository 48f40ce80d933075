/**
 * A server process of a benchmark (a replica, a relay): started, awaited until it prints the
 * URL it listens on, stopped with SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface Started {
  readonly url: string;
  readonly child: ChildProcess;
  /** SIGTERM, resolved once the process has exited. */
  stop(): Promise<void>;
}

/** Quiet parts: warnings and errors only. */
export const BENCH_ENV = { ...process.env, STRATUM_LOG_LEVEL: 'warn' };

/** Runs `node ...args` until its stdout matches `ready` (whose first group is the URL). */
export function startServer(
  args: readonly string[],
  ready: RegExp,
  env: NodeJS.ProcessEnv = BENCH_ENV,
): Promise<Started> {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      const m = ready.exec((out += d.toString()));
      if (!m) return;
      resolve({
        url: m[1]!,
        child,
        stop: async () => {
          child.kill('SIGTERM');
          await exited;
        },
      });
    });
    void exited.then(() => reject(new Error(`${args[0]} exited before it was ready: ${out}`)));
  });
}

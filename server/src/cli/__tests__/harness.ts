/**
 * Drives real `stratum` processes (the built CLI) for end-to-end tests: a control plane,
 * workers, and client commands, each its own OS process talking gRPC over loopback.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REPO = join(__dirname, '..', '..', '..', '..');
export const CLI = join(REPO, 'server', 'dist', 'cli', 'main.js');

/** A penguin every penguins model of the examples calls Gentoo: the row of examples/penguins-request.json. */
export const GENTOO = (
  JSON.parse(readFileSync(join(REPO, 'examples', 'penguins-request.json'), 'utf8')) as {
    rows: Record<string, string | number>[];
  }
).rows[0]!;

export function tempHome(): string {
  return mkdtempSync(join(tmpdir(), 'stratum-e2e-'));
}

function bindable(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(undefined));
    s.listen(port, '127.0.0.1', () => {
      const bound = (s.address() as { port: number }).port;
      s.close(() => resolve(bound));
    });
  });
}

/**
 * A free port whose successor is free too: `serve` puts its gateway on port + 1, and under
 * load tests' socket churn an ephemeral client port can hold it.
 */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = await bindable(0);
    if (port !== undefined && port < 65535 && (await bindable(port + 1)) !== undefined) return port;
  }
  throw new Error('no free port with a free successor in 50 tries');
}

export interface Proc {
  readonly child: ChildProcess;
  output(): string;
}

export function startProcess(args: string[], home: string, waitFor?: RegExp, timeoutMs = 30000): Promise<Proc> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, STRATUM_HOME: home, STRATUM_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const proc = { child, output: () => out };
  if (!waitFor) return Promise.resolve(proc);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${waitFor}: ${out}`)), timeoutMs);
    const check = (): void => {
      if (waitFor.test(out)) {
        clearTimeout(timer);
        resolve(proc);
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`process exited (${code}) before ${waitFor}: ${out}`));
    });
  });
}

export function serve(home: string, port: number, extra: string[] = []): Promise<Proc> {
  return startProcess(['serve', '--port', String(port), ...extra], home, /control plane on/);
}

export async function waitFor<T>(
  what: string,
  fn: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 60000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], home: string, server: string): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args, '--server', server], {
    env: { ...process.env, STRATUM_HOME: home },
    encoding: 'utf8',
    timeout: 240000,
    maxBuffer: 64 << 20,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function cliJson<T>(args: string[], home: string, server: string): T {
  const r = cli([...args, '--json'], home, server);
  if (r.code !== 0 && !r.stdout.trim().startsWith('{') && !r.stdout.trim().startsWith('[')) {
    throw new Error(`stratum ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  }
  return JSON.parse(r.stdout) as T;
}

export function stop(p: Proc | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  return new Promise((resolve) => {
    if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return resolve();
    p.child.once('exit', () => resolve());
    p.child.kill(signal);
  });
}

/** A pipeline of synthetic trials (fixed duration) on real data, for fault tests. */
export function syntheticSpec(dir: string, name: string, trials: number, durationMs: number): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(
    path,
    `apiVersion: stratum/v1
kind: Pipeline
metadata: { name: ${name} }
data: { source: ${join(REPO, 'node_modules', 'vega-datasets', 'data', 'penguins.json')} }
target: Species
features: [Beak Length (mm), Flipper Length (mm)]
transforms:
  - dropMissing: {}
task: classification
models:
  - name: wait
    trainer: synthetic
    params:
      durationMs: { range: [${durationMs}, ${durationMs + 100}] }
      epochs: 4
search: { strategy: random, samples: ${trials}, seed: 1 }
selection: { metric: accuracy }
`,
  );
  return path;
}

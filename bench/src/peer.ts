/**
 * The Python peer: KServe's model server (bench/peer/kserve_onnx.py) on the same ONNX file,
 * in a venv of its own, .venv/bench-peer, from requirements-bench.txt (see that file for why
 * it is not the project's .venv itself; inside .venv/ it is out of git's, ESLint's and
 * Prettier's way, like the project venv). Installed on first use, again only when the
 * requirements change.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

import { REPO } from './system';

const VENV = join(REPO, '.venv', 'bench-peer');
const PYTHON = join(VENV, 'bin', 'python');
const REQUIREMENTS = join(REPO, 'requirements-bench.txt');
const SCRIPT = join(REPO, 'bench', 'peer', 'kserve_onnx.py');

/** Creates or updates the peer's venv when requirements-bench.txt changed; returns the seconds it took. */
export function ensurePeerVenv(log: (line: string) => void = (l) => console.error(l)): number {
  const t0 = performance.now();
  const marker = join(VENV, '.stratum-requirements');
  const hash = createHash('sha256').update(readFileSync(REQUIREMENTS)).digest('hex');
  if (existsSync(marker) && readFileSync(marker, 'utf8') === hash) return 0;
  log('bench: installing the Python peer (KServe + onnxruntime) into .venv/bench-peer…');
  if (!existsSync(PYTHON)) execFileSync(process.env.PYTHON ?? 'python3', ['-m', 'venv', VENV], { stdio: 'inherit' });
  execFileSync(PYTHON, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', REQUIREMENTS], {
    stdio: 'inherit',
  });
  writeFileSync(marker, hash);
  return (performance.now() - t0) / 1000;
}

export function peerVersions(): Record<string, string> {
  const code = [
    'import json, platform',
    'from importlib.metadata import version',
    'names = ["kserve", "onnxruntime", "fastapi", "uvicorn", "numpy"]',
    'print(json.dumps({"python": platform.python_version(), **{n: version(n) for n in names}}))',
  ].join('\n');
  return JSON.parse(execFileSync(PYTHON, ['-c', code], { encoding: 'utf8' })) as Record<string, string>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface Peer {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Starts the peer on a model and waits until /v2/models/NAME/ready answers 200. */
export async function startPeer(modelPath: string, name: string, threads: number): Promise<Peer> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    PYTHON,
    [SCRIPT, '--model', modelPath, '--model_name', name, '--http_port', String(port), '--threads', String(threads)],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const end = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the KServe peer exited (${child.exitCode}): ${err}`);
    const ok = await fetch(`${url}/v2/models/${name}/ready`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (Date.now() > end) {
      child.kill('SIGKILL');
      throw new Error(`the KServe peer was not ready within 120 s: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

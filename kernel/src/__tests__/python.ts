/**
 * Running the kernel's Python-side tests from jest: the project venv's Python, a kernelspec
 * installed by kernel/scripts/install-kernelspec.mjs into a temporary prefix, JUPYTER_PATH
 * pointing there. The kernel is the built one (kernel/dist/main.js), as Jupyter would start it.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';

export const REPO = join(__dirname, '..', '..', '..');
export const PYTHON = join(REPO, '.venv', 'bin', 'python');
export const HERE = __dirname;

/** Installs the kernelspec into a fresh prefix and returns the JUPYTER_PATH for it. */
export function installKernelspec(): string {
  const main = join(REPO, 'kernel', 'dist', 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is not built: run npm run build first`);
  const prefix = mkdtempSync(join(tmpdir(), 'stratum-kernelspec-'));
  execFileSync(process.execPath, [join(REPO, 'kernel', 'scripts', 'install-kernelspec.mjs'), prefix], {
    stdio: 'pipe',
  });
  return join(prefix, 'share', 'jupyter');
}

export interface PyResult {
  readonly code: number | null;
  readonly output: string;
}

/** Runs the venv's Python with `args` in this directory; stdout and stderr together. */
export function python(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 240000): Promise<PyResult> {
  return new Promise((resolve) => {
    const child = spawn(PYTHON, args, {
      cwd: HERE,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

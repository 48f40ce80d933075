#!/usr/bin/env node
// `npm start`: the control plane with its local workers, then JupyterLab from .venv with the
// Stratum panel, in the foreground; Ctrl-C stops both.
//
// The control plane starts first (arguments go to `stratum serve`, e.g. `npm start -- --workers 4`)
// and JupyterLab gets STRATUM_SERVER=<its URL>: the panel's proxy route <base_url>/stratum/
// forwards there, and kernels, the CLI and the panel share one control plane. With
// STRATUM_SERVER already set, no control plane is started and JupyterLab attaches to that one.
// JupyterLab listens on 127.0.0.1 with a token as usual and opens a browser only on a terminal;
// STRATUM_NOTEBOOK_DIR sets its root directory (default: the repository).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'server', 'dist', 'cli', 'main.js');
const venvBin = join(root, '.venv', 'bin');
const children = new Set();
let stopping = false;

function start(cmd, args, options) {
  // Own process group: Ctrl-C reaches this script only, which stops each child in order.
  const child = spawn(cmd, args, { detached: true, ...options });
  children.add(child);
  child.on('exit', (code, signal) => {
    children.delete(child);
    if (!stopping) {
      console.error(
        `start: ${args.includes(cli) ? 'control plane' : 'JupyterLab'} exited (${signal ?? code}); stopping`,
      );
      void stop(code || 1);
    }
  });
  return child;
}

async function stop(code = 0) {
  stopping = true;
  for (const child of [...children].reverse()) {
    child.kill('SIGTERM');
    await new Promise((resolve) =>
      child.exitCode !== null || child.signalCode ? resolve() : child.once('exit', resolve),
    );
  }
  process.exit(code);
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => void stop(0));

/** Starts `stratum serve` and resolves with its URL once it says it is listening. */
function startControlPlane() {
  // The V8 flags of Stratum's long-lived processes (server/src/util/node-flags.ts says why).
  const { LONG_LIVED_NODE_FLAGS } = createRequire(import.meta.url)(
    join(root, 'server', 'dist', 'util', 'node-flags.js'),
  );
  const child = start(process.execPath, [...LONG_LIVED_NODE_FLAGS, cli, 'serve', ...process.argv.slice(2)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      buffered += chunk.toString();
      const m = /control plane on (http:\/\/\S+)/.exec(buffered);
      if (m) resolve(m[1]);
    });
    child.on('exit', () => reject(new Error('the control plane did not start')));
  });
}

const url = process.env.STRATUM_SERVER || (await startControlPlane());
const args = ['lab', '--ServerApp.ip=127.0.0.1', `--ServerApp.root_dir=${process.env.STRATUM_NOTEBOOK_DIR || root}`];
if (!process.stdout.isTTY) args.push('--no-browser');
if (process.getuid?.() === 0) args.push('--allow-root');
console.error(`start: JupyterLab with the Stratum panel, control plane ${url}`);
start(join(venvBin, 'jupyter'), args, {
  stdio: 'inherit',
  env: { ...process.env, STRATUM_SERVER: url, PATH: `${venvBin}:${process.env.PATH}` },
});

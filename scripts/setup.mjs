#!/usr/bin/env node
// `npm run setup`: makes a fresh clone ready, idempotently. Each step checks before it acts,
// so running it again is quick. Used by `npm start`, `npm test` and `npm run bench`.
//
// STRATUM_VENV=PREFIX installs the extension and the kernelspec into that existing Python
// environment instead of .venv, and leaves its packages to whoever made it (binder/postBuild
// points it at Binder's environment, which binder/requirements.txt filled).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const givenVenv = process.env.STRATUM_VENV ? resolve(process.env.STRATUM_VENV) : undefined;
const venv = givenVenv ?? join(root, '.venv');
const env = {
  ...process.env,
  // onnxruntime-node's installer would try to download CUDA files; its CPU binaries ship in the package.
  ONNXRUNTIME_NODE_INSTALL: 'skip',
  ONNXRUNTIME_NODE_INSTALL_CUDA: 'skip',
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1',
};

function step(name, fn) {
  const t0 = Date.now();
  process.stderr.write(`setup: ${name}…\n`);
  fn();
  process.stderr.write(`setup: ${name} done in ${((Date.now() - t0) / 1000).toFixed(1)}s\n`);
}

function run(cmd, args, opts = {}) {
  execFileSync(cmd, args, { cwd: root, stdio: 'inherit', env, ...opts });
}

function hashOf(...files) {
  const h = createHash('sha256');
  for (const f of files) if (existsSync(join(root, f))) h.update(readFileSync(join(root, f)));
  return h.digest('hex');
}

/** Runs `fn` when the inputs' hash differs from the one recorded at `marker`. */
function whenChanged(marker, inputs, fn) {
  const path = resolve(root, marker);
  const hash = hashOf(...inputs);
  if (existsSync(path) && readFileSync(path, 'utf8') === hash) return false;
  fn();
  writeFileSync(path, hash);
  return true;
}

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`setup: Node ${process.versions.node} is too old; Stratum needs Node 20.19 or later.`);
  process.exit(1);
}

step('npm packages', () => {
  whenChanged('node_modules/.stratum-install', ['package-lock.json', 'package.json'], () =>
    run('npm', [existsSync(join(root, 'package-lock.json')) ? 'ci' : 'install', '--no-audit', '--no-fund']),
  );
});

step('build (proto codegen + TypeScript)', () => {
  run('npm', ['run', 'build', '--silent']);
});

const pythonStep = givenVenv
  ? `python environment (${venv}, as given)`
  : 'python venv (.venv: JupyterLab, nbclient, test clients)';
step(pythonStep, () => {
  const py = join(venv, 'bin', 'python');
  if (givenVenv) {
    if (!existsSync(py)) throw new Error(`STRATUM_VENV=${venv} has no bin/python`);
    return;
  }
  if (!existsSync(py)) run(process.env.PYTHON ?? 'python3', ['-m', 'venv', join(root, '.venv')]);
  whenChanged('.venv/.stratum-requirements', ['requirements-dev.txt'], () => {
    run(py, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--upgrade', 'pip']);
    run(py, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', 'requirements-dev.txt']);
  });
});

// JupyterLab extension (extension/) and the browser its UI tests (ui-tests/) drive.
const fsx = await import('node:fs');

/** Every file under the given paths (relative to the root), in a stable order, for change detection. */
function filesUnder(...paths) {
  const out = [];
  const walk = (rel) => {
    const abs = join(root, rel);
    if (!existsSync(abs) || rel.endsWith('__pycache__')) return;
    if (fsx.statSync(abs).isDirectory()) for (const e of fsx.readdirSync(abs).sort()) walk(join(rel, e));
    else out.push(rel);
  };
  paths.forEach(walk);
  return out;
}

step("chromium (Debian's package, for the UI tests)", () => {
  if (existsSync('/usr/bin/chromium')) return;
  if (process.getuid?.() !== 0) {
    process.stderr.write(
      'setup: /usr/bin/chromium is missing; as root: apt-get install chromium (the UI tests need it)\n',
    );
    return;
  }
  const apt = { env: { ...env, DEBIAN_FRONTEND: 'noninteractive' } };
  run('apt-get', ['update', '-qq'], apt);
  run('apt-get', ['install', '-y', '-qq', 'chromium'], apt);
});

step('JupyterLab extension (build stratum-jupyterlab, pip install it into the venv)', () => {
  const venvBin = join(venv, 'bin');
  const sources = filesUnder(
    'extension/src',
    'extension/style',
    'extension/schema',
    'extension/package.json',
    'extension/tsconfig.json',
    'proto/stratum',
    'server/src/scheduler/selection.ts',
    'server/src/cli/render.ts',
    'package-lock.json',
  );
  whenChanged('extension/dist/.stratum-build', sources, () => {
    run('npx', ['tsc', '-p', 'extension/tsconfig.json']);
    run(join(venvBin, 'jupyter-builder'), ['build', 'extension'], { env: { ...env, PATH: `${venvBin}:${env.PATH}` } });
  });
  // The wheel carries the stratum-ts kernelspec when the kernel package provides one.
  if (existsSync(join(root, 'kernel', 'scripts', 'install-kernelspec.mjs'))) {
    run(process.execPath, ['kernel/scripts/install-kernelspec.mjs', 'extension/dist/kernelspec'], {
      stdio: ['ignore', 'ignore', 'ignore'],
    });
  }
  const packaged = filesUnder(
    'extension/dist/labextension',
    'extension/dist/kernelspec',
    'extension/stratum_jupyterlab',
    'extension/pyproject.toml',
    'extension/hatch_build.py',
    'extension/install.json',
  );
  whenChanged(join(venv, '.stratum-extension'), packaged, () =>
    run(join(venvBin, 'python'), [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      '--no-build-isolation',
      '--no-deps',
      './extension',
    ]),
  );
});

step('Jupyter kernelspec (stratum-ts in the venv)', () => {
  run(process.execPath, [join(root, 'kernel', 'scripts', 'install-kernelspec.mjs'), venv]);
});

#!/usr/bin/env node
// UI tests of the Stratum JupyterLab extension, in a real JupyterLab from .venv and Debian's
// Chromium. Checks that the extension is installed and enabled, the proxy configuration's unit
// tests, JupyterLab's own browser check, then the Galata tests against a JupyterLab on a free
// port with a temporary STRATUM_HOME and notebook directory (the control plane is started on
// demand by jupyter-server-proxy). Screenshots go to ui-tests/test-results/. Ends with the
// plain line "ui-tests: N passed, N failed"; exits non-zero on any failure.
import { Buffer } from 'node:buffer';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const bin = join(root, '.venv', 'bin');
const results = join(here, 'test-results');
const CHROMIUM = process.env.STRATUM_CHROMIUM || '/usr/bin/chromium';
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const env = { ...process.env, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1', STRATUM_LOG_LEVEL: 'warn' };
let passed = 0;
let failed = 0;
const cleanups = [];

function record(name, ok, detail = '') {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`);
}

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
const stripAnsi = (s) => s.replace(ANSI, '');

function prerequisites() {
  const missing = [
    [join(bin, 'jupyter'), 'the Python venv (npm run setup)'],
    [join(root, 'node_modules', '@jupyterlab', 'galata'), 'the npm packages (npm run setup)'],
    [CHROMIUM, "Debian's chromium (npm run setup installs it)"],
    [join(root, 'server', 'dist', 'cli', 'main.js'), 'the built control plane (npm run build)'],
  ].filter(([path]) => !existsSync(path));
  for (const [path, what] of missing) console.error(`ui-tests: missing ${path}: ${what}`);
  return missing.length === 0;
}

function labextensionListed() {
  const r = spawnSync(join(bin, 'jupyter'), ['labextension', 'list'], { env, encoding: 'utf8' });
  const text = stripAnsi(`${r.stdout}\n${r.stderr}`);
  const line = text.split('\n').find((l) => l.includes('stratum-jupyterlab'));
  record(
    'jupyter labextension list shows stratum-jupyterlab enabled and OK',
    !!line && /enabled\s+OK/.test(line),
    line?.trim() ?? 'not listed',
  );
}

function proxyUnitTests() {
  const r = spawnSync(join(bin, 'python'), ['-m', 'unittest', 'discover', '-s', join(root, 'extension', 'tests')], {
    env,
    encoding: 'utf8',
  });
  const ran = Number(/Ran (\d+) test/.exec(r.stderr)?.[1] ?? 0);
  const bad = [...r.stderr.matchAll(/(failures|errors)=(\d+)/g)].reduce((a, m) => a + Number(m[2]), 0);
  if (r.status !== 0) process.stderr.write(r.stderr);
  passed += ran - bad;
  failed += bad + (r.status !== 0 && bad === 0 ? 1 : 0);
  console.log(`${r.status === 0 ? 'ok  ' : 'FAIL'} proxy configuration unit tests: ${ran - bad}/${ran} passed`);
}

/**
 * `python -m jupyterlab.browser_check` drives the `playwright` package in its app dir and would
 * install a browser first; this shim hands it playwright-core with Debian's chromium instead.
 */
function browserCheckShim() {
  const target = join(root, '.venv', 'share', 'jupyter', 'lab', 'browser_test');
  const pkg = join(target, 'node_modules', 'playwright');
  mkdirSync(join(target, 'node_modules', '.bin'), { recursive: true });
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(target, 'package.json'), JSON.stringify({ name: 'browser_test', private: true }) + '\n');
  writeFileSync(
    join(pkg, 'package.json'),
    JSON.stringify({
      name: 'playwright',
      version: '0.0.0-debian-chromium',
      main: 'index.js',
      bin: { playwright: 'cli.js' },
    }),
  );
  writeFileSync(
    join(pkg, 'index.js'),
    `// Playwright with Debian's chromium, for jupyterlab.browser_check (written by ui-tests/run.mjs).
const core = require(${JSON.stringify(join(root, 'node_modules', 'playwright-core'))});
const args = ${JSON.stringify(FLAGS)};
module.exports = { ...core, chromium: { launch: (o = {}) => core.chromium.launch({ ...o, executablePath: ${JSON.stringify(CHROMIUM)}, args: [...(o.args || []), ...args] }) } };
`,
  );
  writeFileSync(
    join(pkg, 'cli.js'),
    `#!/usr/bin/env node\n// "playwright install" has nothing to do: the browser is Debian's chromium.\nconsole.log('using ${CHROMIUM}');\n`,
    { mode: 0o755 },
  );
  const link = join(target, 'node_modules', '.bin', 'playwright');
  rmSync(link, { force: true });
  symlinkSync('../playwright/cli.js', link);
}

function browserCheck(home) {
  browserCheckShim();
  const out = join(results, 'browser-check');
  const cwd = mkdtempSync(join(tmpdir(), 'stratum-browser-check-'));
  cleanups.push(() => rmSync(cwd, { recursive: true, force: true }));
  const r = spawnSync(join(bin, 'python'), ['-m', 'jupyterlab.browser_check', '--allow-root'], {
    cwd,
    env: { ...env, STRATUM_HOME: home, JLAB_BROWSER_CHECK_OUTPUT: out, PATH: `${bin}:${env.PATH}` },
    encoding: 'utf8',
    timeout: 300_000,
  });
  const log = `${r.stdout}\n${r.stderr}`;
  if (r.status !== 0) process.stderr.write(log.slice(-4000));
  record(
    'python -m jupyterlab.browser_check (Debian chromium)',
    r.status === 0,
    r.status === 0 ? `screenshots in ${out}` : `exit ${r.status}`,
  );
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stop(pid) {
  if (!pid || !alive(pid)) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(100);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

function kernelName() {
  if (process.env.STRATUM_UI_KERNEL) return process.env.STRATUM_UI_KERNEL;
  const spec = join(root, '.venv', 'share', 'jupyter', 'kernels', 'stratum-ts', 'kernel.json');
  try {
    const argv = JSON.parse(readFileSync(spec, 'utf8')).argv;
    return existsSync(argv[1]) ? 'stratum-ts' : 'python3';
  } catch {
    return 'python3';
  }
}

async function galata(home) {
  const port = await freePort();
  const notebooks = mkdtempSync(join(tmpdir(), 'stratum-ui-notebooks-'));
  cleanups.push(() => rmSync(notebooks, { recursive: true, force: true }));
  const labEnv = { ...env, STRATUM_HOME: home, JUPYTERLAB_GALATA_ROOT_DIR: notebooks, PATH: `${bin}:${env.PATH}` };
  delete labEnv.STRATUM_SERVER;
  const logPath = join(results, 'jupyterlab.log');
  const lab = spawn(
    join(bin, 'jupyter'),
    ['lab', '--config', join(here, 'jupyter_server_test_config.py'), `--ServerApp.port=${port}`],
    { cwd: notebooks, env: labEnv, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const log = [];
  lab.stdout.on('data', (b) => log.push(b));
  lab.stderr.on('data', (b) => log.push(b));
  cleanups.push(async () => {
    await stop(lab.pid);
    writeFileSync(logPath, Buffer.concat(log));
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await globalThis.fetch(`${url}/api`)).ok) break;
    } catch {
      // Not listening yet.
    }
    if (i > 600 || lab.exitCode !== null) {
      record('JupyterLab starts for the Galata tests', false, `see ${logPath}`);
      return;
    }
    await sleep(100);
  }
  const kernel = kernelName();
  console.log(`ui-tests: JupyterLab on ${url}; notebooks use the ${kernel} kernel`);
  const report = join(results, 'report.json');
  rmSync(report, { force: true });
  const r = spawnSync('npx', ['playwright', 'test', ...process.argv.slice(2)], {
    cwd: here,
    stdio: 'inherit',
    env: {
      ...env,
      TARGET_URL: url,
      STRATUM_REPO: root,
      STRATUM_HOME: home,
      STRATUM_UI_KERNEL: kernel,
      STRATUM_UI_REPORT: report,
    },
  });
  try {
    const stats = JSON.parse(readFileSync(report, 'utf8')).stats;
    passed += stats.expected;
    failed += stats.unexpected + stats.flaky + (stats.skipped ?? 0);
  } catch {
    record('Galata tests report', false, `playwright exited ${r.status} without a report`);
  }
  if (r.status !== 0 && failed === 0) record('Galata tests', false, `playwright exited ${r.status}`);
}

async function main() {
  mkdirSync(results, { recursive: true });
  // Screenshots are this run's only: a renamed or removed one must not linger from an older run.
  rmSync(join(results, 'screenshots'), { recursive: true, force: true });
  if (!prerequisites()) {
    failed++;
    return;
  }
  const home = mkdtempSync(join(tmpdir(), 'stratum-ui-home-'));
  cleanups.push(async () => {
    // Control planes started by the proxy or by the tests write their pid here.
    for (const file of ['server.json', 'ui-test-server.pid']) {
      try {
        const text = readFileSync(join(home, file), 'utf8');
        await stop(file.endsWith('.json') ? JSON.parse(text).pid : Number(text));
      } catch {
        // Never started.
      }
    }
    rmSync(home, { recursive: true, force: true });
  });
  labextensionListed();
  proxyUnitTests();
  browserCheck(home);
  await galata(home);
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    failed++;
    void finish(130);
  });
}

async function finish(code) {
  for (const fn of cleanups.splice(0).reverse()) await fn();
  console.log(`\nui-tests: ${passed} passed, ${failed} failed`);
  process.exit(code ?? (failed === 0 && passed > 0 ? 0 : 1));
}

main().then(
  () => finish(),
  (err) => {
    console.error(err);
    failed++;
    return finish(1);
  },
);

/**
 * The Binder environment (binder/), built and run the way Binder does it, and its demo
 * notebooks executed headless:
 *
 *   1. a fresh Python environment (`python -m venv` in a temporary folder) with
 *      binder/requirements.txt installed — repo2docker's pip step;
 *   2. binder/postBuild with that environment first on PATH — the project's own setup into
 *      it (its npm and build steps find this checkout built and do nothing);
 *   3. `binder/start jupyter lab ...` — the control plane and its worker in the background, then
 *      JupyterLab with the Stratum extension, whose proxy route attaches to that control plane;
 *   4. every binder/notebooks/*.ipynb executed with nbclient (binder/run_notebooks.py, run
 *      through binder/start as well, so kernels get the environment JupyterLab's kernels get) on
 *      the kernelspec that postBuild installed into the environment, while the resident memory
 *      of the whole stack is sampled from /proc.
 *
 * Any error output fails; each notebook must carry HTML tables and Vega-Lite charts; the peak
 * of the summed RSS must stay under the 2 GB of a Binder pod.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO = join(__dirname, '..', '..', '..');
const BINDER = join(REPO, 'binder');
const NOTEBOOKS = join(BINDER, 'notebooks');
const POD_MEMORY_MB = 2048;
const TABLE = 'text/html';
const CHART = 'application/vnd.vegalite.v5+json';
const TOKEN = 'binder-test-token';

interface NotebookReport {
  notebook: string;
  executed: string;
  seconds: number;
  errors: { cell: number | null; ename: string; evalue: string }[];
  mime_types: string[];
}
interface Report {
  notebooks: NotebookReport[];
  peak_rss_mb: number;
  peak_processes: { pid: number; rss_mb: number; what: string }[];
  samples: number;
}

let work: string;
let venv: string;
let home: string;
let cpPort: number;
let labPort: number;
let lab: ChildProcess | undefined;
let labOutput = '';
const phases: string[] = [];

/** The environment a Binder user's processes would see: ours, less what would point elsewhere. */
function binderEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['STRATUM_SERVER', 'STRATUM_TOKEN', 'NODE_OPTIONS', 'JUPYTER_PATH', 'PYTHONPATH', 'VIRTUAL_ENV']) {
    delete env[k];
  }
  return {
    ...env,
    PATH: `${join(venv, 'bin')}:${process.env.PATH}`,
    STRATUM_HOME: home,
    // Jupyter's per-user folders, so nothing of the developer's own Jupyter set-up joins in.
    JUPYTER_CONFIG_DIR: join(work, 'jupyter', 'config'),
    JUPYTER_DATA_DIR: join(work, 'jupyter', 'data'),
    JUPYTER_RUNTIME_DIR: join(work, 'jupyter', 'runtime'),
    ...extra,
  };
}

function timed<T>(phase: string, fn: () => T): T {
  const t0 = Date.now();
  const out = fn();
  phases.push(`${phase}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return out;
}

function check(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): string {
  const r = spawnSync(cmd, args, { cwd: REPO, env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}:\n${output.slice(-6000)}`);
  }
  return output;
}

function listen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A free port whose successor is free too (the control plane's gateway takes port + 1). */
async function freePortPair(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    if ((await listen(port)) && (await listen(port + 1))) return port;
  }
  throw new Error('no two consecutive free ports');
}

async function get(path: string): Promise<{ status: number; text: string }> {
  const r = await fetch(`http://127.0.0.1:${labPort}${path}`, {
    headers: { authorization: `token ${TOKEN}` },
    signal: AbortSignal.timeout(10000),
  });
  return { status: r.status, text: await r.text() };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; JupyterLab said:\n${labOutput.slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Processes of this test's stack, found by the STRATUM_HOME they inherited (they may have been re-parented). */
function stackPids(): number[] {
  const marker = `STRATUM_HOME=${home}\0`;
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e) && Number(e) !== process.pid)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'latin1').includes(marker);
      } catch {
        return false;
      }
    })
    .map(Number);
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'stratum-binder-'));
  venv = join(work, 'env');
  home = join(work, 'stratum-home');
  mkdirSync(home);
  const python = process.env.PYTHON ?? 'python3';
  timed('fresh venv', () => check(python, ['-m', 'venv', venv], process.env, 120000));
  timed('pip install -r binder/requirements.txt', () =>
    check(
      join(venv, 'bin', 'python'),
      // --no-compile: the same files, without byte-compiling them all up front (Python compiles
      // what it imports); that is most of the install time.
      [
        '-m',
        'pip',
        'install',
        '--quiet',
        '--disable-pip-version-check',
        '--no-compile',
        '-r',
        join(BINDER, 'requirements.txt'),
      ],
      binderEnv(),
      600000,
    ),
  );
  timed('binder/postBuild', () => check(join(BINDER, 'postBuild'), [], binderEnv(), 300000));

  cpPort = await freePortPair();
  const lp = createServer();
  labPort = await new Promise<number>((resolve) =>
    lp.listen(0, '127.0.0.1', () => {
      const { port } = lp.address() as { port: number };
      lp.close(() => resolve(port));
    }),
  );
  const args = [
    join(venv, 'bin', 'jupyter'),
    'lab',
    '--no-browser',
    '--ServerApp.ip=127.0.0.1',
    `--ServerApp.port=${labPort}`,
    `--IdentityProvider.token=${TOKEN}`,
    `--ServerApp.root_dir=${REPO}`,
    ...(process.getuid?.() === 0 ? ['--allow-root'] : []),
  ];
  const t0 = Date.now();
  // Its own process group: binder/start, then JupyterLab (exec), the control plane and its children.
  lab = spawn(join(BINDER, 'start'), args, {
    cwd: REPO,
    env: binderEnv({ STRATUM_PORT: String(cpPort) }),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  lab.stdout!.on('data', (d: Buffer) => (labOutput += d.toString()));
  lab.stderr!.on('data', (d: Buffer) => (labOutput += d.toString()));
  await until('JupyterLab', async () => ((await get('/api/status')).status === 200 ? true : undefined), 120000);
  phases.push(`binder/start until JupyterLab answers: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}, 1_200_000);

afterAll(async () => {
  if (lab?.pid) {
    try {
      process.kill(-lab.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  // Whatever of the stack is left (the control plane drains first): SIGKILL after a grace period.
  const end = Date.now() + 15000;
  while (home && stackPids().length > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 250));
  for (const pid of home ? stackPids() : []) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  console.log(`binder test phases:\n  ${phases.join('\n  ')}`);
  if (work) rmSync(work, { recursive: true, force: true });
}, 60000);

it('ships clean notebooks on the Stratum (TypeScript) kernel', () => {
  const names = readdirSync(NOTEBOOKS).filter((n) => n.endsWith('.ipynb'));
  expect(names.length).toBeGreaterThanOrEqual(3);
  for (const name of names) {
    const nb = JSON.parse(readFileSync(join(NOTEBOOKS, name), 'utf8')) as {
      metadata: { kernelspec: { name: string; display_name: string } };
      cells: { cell_type: string; outputs?: unknown[]; execution_count?: number | null }[];
    };
    expect(nb.metadata.kernelspec).toMatchObject({ name: 'stratum-ts', display_name: 'Stratum (TypeScript)' });
    for (const cell of nb.cells.filter((c) => c.cell_type === 'code')) {
      expect(cell.outputs).toEqual([]);
      expect(cell.execution_count ?? null).toBeNull();
    }
  }
});

it('installs the extension, its proxy route and the kernelspec into the fresh environment', async () => {
  const specs = JSON.parse((await get('/api/kernelspecs')).text) as {
    kernelspecs: Record<string, { resource_dir?: string; spec: { argv: string[]; display_name: string } }>;
  };
  const ts = specs.kernelspecs['stratum-ts'];
  expect(ts?.spec.display_name).toBe('Stratum (TypeScript)');
  expect(ts!.spec.argv[1]).toBe(join(REPO, 'kernel', 'dist', 'main.js'));
  expect(existsSync(join(venv, 'share', 'jupyter', 'kernels', 'stratum-ts', 'kernel.json'))).toBe(true);

  const listed = spawnSync(join(venv, 'bin', 'jupyter'), ['labextension', 'list'], {
    env: binderEnv(),
    encoding: 'utf8',
  });
  expect(`${listed.stdout}${listed.stderr}`).toMatch(/stratum-jupyterlab v\S+ .*enabled.*OK/);

  // The panel's route reaches the control plane that binder/start started (attached, not a second one).
  expect(await get('/stratum/healthz')).toEqual({ status: 200, text: 'ok\n' });
  const server = JSON.parse(readFileSync(join(home, 'server.json'), 'utf8')) as { url: string };
  expect(server.url).toBe(`http://127.0.0.1:${cpPort}`);
});

it('executes every demo notebook without an error, with its tables and charts, within a Binder pod’s memory', () => {
  const out = join(work, 'executed');
  const reportFile = join(work, 'report.json');
  const r = timed('demo notebooks', () =>
    spawnSync(
      join(BINDER, 'start'),
      [
        join(venv, 'bin', 'python'),
        join(BINDER, 'run_notebooks.py'),
        out,
        '--measure',
        String(lab!.pid),
        '--report',
        reportFile,
      ],
      {
        cwd: REPO,
        // As JupyterLab's kernels would: binder/start's environment, attached to its control plane.
        env: binderEnv({ STRATUM_SERVER: `http://127.0.0.1:${cpPort}` }),
        encoding: 'utf8',
        timeout: 900000,
        maxBuffer: 64 << 20,
      },
    ),
  );
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  console.log(output);
  expect(existsSync(reportFile)).toBe(true);
  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as Report;

  const names = readdirSync(NOTEBOOKS)
    .filter((n) => n.endsWith('.ipynb'))
    .sort();
  expect(report.notebooks.map((n) => n.notebook)).toEqual(names);
  for (const nb of report.notebooks) {
    expect({ notebook: nb.notebook, errors: nb.errors }).toEqual({ notebook: nb.notebook, errors: [] });
    expect({ notebook: nb.notebook, tables: nb.mime_types.includes(TABLE) }).toEqual({
      notebook: nb.notebook,
      tables: true,
    });
    expect({ notebook: nb.notebook, charts: nb.mime_types.includes(CHART) }).toEqual({
      notebook: nb.notebook,
      charts: true,
    });
  }
  expect(r.status).toBe(0);

  console.log(
    `binder: peak memory of the whole stack ${report.peak_rss_mb} MiB (sum of RSS over ${report.samples} samples):\n` +
      report.peak_processes.map((p) => `  ${p.rss_mb.toFixed(1).padStart(7)} MiB  ${p.what}`).join('\n'),
  );
  const kinds = new Set(report.peak_processes.map((p) => p.what));
  // The sample covers the stack, not just part of it.
  for (const what of ['jupyterlab', 'control plane', 'worker', 'gateway', 'kernel']) expect(kinds).toContain(what);
  expect(report.peak_rss_mb).toBeLessThan(POD_MEMORY_MB);
}, 1_000_000);

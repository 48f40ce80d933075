/** What the UI tests share: the environment run.mjs sets up, control plane calls, processes. */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';

function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: start the UI tests with node ui-tests/run.mjs`);
  return v;
}

export const REPO = need('STRATUM_REPO');
export const HOME = need('STRATUM_HOME');
export const TARGET = need('TARGET_URL').replace(/\/$/, '');
/** `stratum-ts` when the kernel is installed in .venv, else `python3` (runs submitted by the CLI). */
export const KERNEL = process.env.STRATUM_UI_KERNEL || 'python3';
export const CLI = join(REPO, 'server', 'dist', 'cli', 'main.js');
export const SHOTS = join(__dirname, '..', 'test-results', 'screenshots');

export async function shot(page: IJupyterLabPageFixture, name: string): Promise<string> {
  mkdirSync(SHOTS, { recursive: true });
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/**
 * A pipeline that keeps one worker busy for a while, so a run is seen running then done; with
 * `quick`, only the random forest (a model to deploy, trained in seconds).
 */
export function uiPipelineYaml(name: string, o: { readonly quick?: boolean } = {}): string {
  const data = join(REPO, 'node_modules', 'vega-datasets', 'data', 'penguins.json');
  return `apiVersion: stratum/v1
kind: Pipeline
metadata: { name: ${name} }
data: { source: ${data} }
target: Species
features: [Island, Beak Length (mm), Beak Depth (mm), Flipper Length (mm), Body Mass (g), Sex]
transforms:
  - dropMissing: { columns: [Beak Length (mm), Beak Depth (mm), Flipper Length (mm), Body Mass (g)] }
  - fillMissing: { columns: [Sex], strategy: mostFrequent }
  - oneHot: { columns: [Island, Sex] }
split: { holdout: { test: 0.25, seed: 7, stratify: true } }
task: classification
models:
  - name: forest
    trainer: random-forest
    params: { nEstimators: 25, maxDepth: ${o.quick ? 6 : '[4, 8]'} }
${o.quick ? '' : SLOW_CANDIDATES}selection: { metric: accuracy }
resources: { cpus: 1, memory: 256Mi }
seed: 7
`;
}

const SLOW_CANDIDATES = `  - name: logistic
    trainer: logistic-regression
    params: { learningRate: 0.1, numSteps: 300 }
  - name: slow
    trainer: synthetic
    params: { durationMs: 12000, epochs: 6 }
`;

/** Calls the control plane through the proxy, as the panel does (Connect/JSON). */
export async function callApi<T>(method: string, body: unknown = {}): Promise<T> {
  const resp = await fetch(`${TARGET}/stratum/${method}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!resp.ok) throw new Error(`${method}: HTTP ${resp.status} ${await resp.text()}`);
  return (await resp.json()) as T;
}

/** Whether the control plane runs deployments: one without the engine answers 404 (Unimplemented). */
export async function deploymentsAvailable(): Promise<boolean> {
  const resp = await fetch(`${TARGET}/stratum/stratum.v1.DeploymentService/ListDeployments`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: '{}',
  });
  if (resp.ok) return true;
  if (resp.status === 404) return false;
  throw new Error(`ListDeployments: HTTP ${resp.status} ${await resp.text()}`);
}

/** Whether the profiler has measured the model ("name:version"): false for no profiler or no profile yet. */
export async function profileAvailable(model: string): Promise<boolean> {
  const resp = await fetch(`${TARGET}/stratum/stratum.v1.ProfileService/GetProfile`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ model }),
  });
  if (resp.ok) return true;
  if (resp.status === 404) return false;
  throw new Error(`GetProfile: HTTP ${resp.status} ${await resp.text()}`);
}

/** A penguin of the data set (a Gentoo), as a record for the endpoint's /predict route. */
export const PENGUIN = {
  Island: 'Biscoe',
  'Beak Length (mm)': 47.5,
  'Beak Depth (mm)': 14.2,
  'Flipper Length (mm)': 214,
  'Body Mass (g)': 5050,
  Sex: 'FEMALE',
};

export const SPECIES = /Adelie|Chinstrap|Gentoo/;

/** Predicts through the endpoint over HTTP, as a notebook or curl would. */
export async function predictOverHttp(url: string, rows: unknown[]): Promise<{ predictions: string[] }> {
  const resp = await fetch(`${url}/predict`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ rows }),
  });
  if (!resp.ok) throw new Error(`predict: HTTP ${resp.status} ${await resp.text()}`);
  return (await resp.json()) as { predictions: string[] };
}

/** Sends predictions one after another until `until` settles, so the gateway reports load. */
export async function loadUntil(url: string, until: Promise<unknown>): Promise<number> {
  let done = false;
  void until.finally(() => (done = true));
  let sent = 0;
  while (!done) {
    await predictOverHttp(url, [PENGUIN]);
    sent++;
  }
  return sent;
}

/** Submits a spec with the CLI (`stratum run --detach`) and returns the run id. */
export function submitWithCli(specPath: string): Promise<string> {
  const info = JSON.parse(readFileSync(join(HOME, 'server.json'), 'utf8')) as { url: string };
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [CLI, 'run', specPath, '--server', info.url, '--detach'],
      { env: { ...process.env, STRATUM_HOME: HOME } },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout.trim())),
    );
  });
}

export function writeSpec(name: string, o: { readonly quick?: boolean } = {}): string {
  const path = join(HOME, `${name}.yaml`);
  writeFileSync(path, uiPipelineYaml(name, o));
  return path;
}

/** The pid and URL of the control plane that serves this STRATUM_HOME. */
export function serverInfo(): { url: string; pid: number } {
  return JSON.parse(readFileSync(join(HOME, 'server.json'), 'utf8')) as { url: string; pid: number };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function stopProcess(pid: number): Promise<void> {
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 300 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

/** Starts a control plane on `port` (detached; run.mjs stops it through server.json). */
export function startControlPlane(port: number): Promise<void> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', String(port), '--workers', '2'], {
    env: { ...process.env, STRATUM_HOME: HOME },
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  child.unref();
  writeFileSync(join(HOME, 'ui-test-server.pid'), String(child.pid));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`control plane not ready after 60 s: ${out}`)), 60_000);
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('control plane on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`control plane exited with ${code}: ${out}`));
    });
  });
}

export function section(page: IJupyterLabPageFixture, name: string): Locator {
  return page.locator(`.jp-stratum-section-${name}`);
}

export async function openPanel(page: IJupyterLabPageFixture): Promise<void> {
  const tab = page.sidebar.getTabLocator('stratum-sidebar');
  if ((await tab.getAttribute('aria-selected')) !== 'true') await tab.click();
  await page.locator('#stratum-sidebar').waitFor({ state: 'visible' });
}

/** Opens a section of the accordion if it is collapsed. */
export async function expandSection(page: IJupyterLabPageFixture, name: string): Promise<void> {
  await setExpanded(page, name, true);
}

const SECTIONS = ['Cluster', 'Runs', 'Models', 'Deployments'];

async function setExpanded(page: IJupyterLabPageFixture, name: string, expanded: boolean): Promise<void> {
  const title = page.locator('#stratum-sidebar .jp-AccordionPanel-title', { hasText: new RegExp(`^${name}`, 'i') });
  if ((await title.getAttribute('aria-expanded')) !== String(expanded)) await title.click();
}

/** Collapses every section but `name`, so a screenshot shows it whole. */
export async function focusSection(page: IJupyterLabPageFixture, name: string): Promise<void> {
  for (const s of SECTIONS) await setExpanded(page, s, s === name);
}

export async function showAllSections(page: IJupyterLabPageFixture): Promise<void> {
  for (const s of SECTIONS) await setExpanded(page, s, true);
}

/**
 * Notebooks executed headless with nbclient on the stratum-ts kernel against a real control
 * plane (`stratum serve --workers 2`, its own STRATUM_HOME): a pipeline cell, training with
 * `--as`, TypeScript using the result; a bad spec; an unreachable control plane; an interrupt
 * while a run is watched.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort, serve, stop, tempHome, type Proc } from '../../../server/src/cli/__tests__/harness';
import { installKernelspec, python, REPO } from './python';

interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
  traceback?: string[];
}
interface Notebook {
  cells: { source: string; outputs: Output[] }[];
}

const PENGUINS = join(REPO, 'node_modules', 'vega-datasets', 'data', 'penguins.json');

/** A small pipeline over `source`, with a tfjs candidate so trials report epochs. */
const pipeline = (source: string, trainer = 'decision-tree') => `apiVersion: stratum/v1
kind: Pipeline
metadata: { name: penguins }
data: { source: ${source} }
target: Species
features: [Island, Beak Length (mm), Beak Depth (mm), Flipper Length (mm)]
transforms:
  - dropMissing: { columns: [Beak Length (mm), Beak Depth (mm), Flipper Length (mm)] }
  - oneHot: { columns: [Island] }
  - standardize: { columns: [Beak Length (mm), Beak Depth (mm), Flipper Length (mm)] }
split:
  holdout: { test: 0.25, seed: 7, stratify: true }
task: classification
models:
  - name: tree
    trainer: ${trainer}
    params: { maxDepth: [3, 6] }
  - name: mlp
    trainer: tfjs
    params: { units: 8, epochs: 4, learningRate: 0.01 }
    layers:
      - dense: { units: $units, activation: relu }
selection: { metric: accuracy }
resources: { cpus: 1, memory: 512Mi }
seed: 7
`;

let home: string;
let control: Proc | undefined;
let server: string;
let jupyterPath: string;

beforeAll(async () => {
  home = tempHome();
  const port = await freePort();
  control = await serve(home, port, ['--workers', '2']);
  server = `http://127.0.0.1:${port}`;
  jupyterPath = installKernelspec();
});

afterAll(async () => {
  // SIGTERM drains the control plane; should that hang, the test must not hang with it.
  const stopped = stop(control).then(() => true);
  const quit = await Promise.race([stopped, new Promise<boolean>((r) => setTimeout(() => r(false), 15000).unref())]);
  if (!quit) await stop(control, 'SIGKILL');
});

/** Executes cells in a fresh notebook directory (holding data/penguins.json) and reads the result. */
async function execute(cells: string[], env: NodeJS.ProcessEnv): Promise<Notebook> {
  const dir = mkdtempSync(join(tmpdir(), 'stratum-nb-'));
  mkdirSync(join(dir, 'data'));
  copyFileSync(PENGUINS, join(dir, 'data', 'penguins.json'));
  writeFileSync(join(dir, 'cells.json'), JSON.stringify(cells));
  const out = join(dir, 'notebook.ipynb');
  const r = await python(['run_notebook.py', join(dir, 'cells.json'), out], { JUPYTER_PATH: jupyterPath, ...env });
  if (r.code !== 0) throw new Error(`run_notebook.py exited ${r.code}:\n${r.output}`);
  return JSON.parse(readFileSync(out, 'utf8')) as Notebook;
}

/** nbformat keeps multi-line text as a list of lines. */
const str = (v: unknown): string => (Array.isArray(v) ? v.join('') : String(v ?? ''));
const texts = (outs: Output[], mime = 'text/plain'): string[] =>
  outs.map((o) => (o.output_type === 'stream' ? str(o.text) : str(o.data?.[mime])));

it('trains a pipeline from a notebook and hands the run to the next TypeScript cell', async () => {
  const nb = await execute(
    [
      `%%stratum pipeline penguins\n${pipeline('data/penguins.json')}`,
      '%stratum train penguins --as run',
      'console.log("accuracy", run.best.metrics.accuracy.toFixed(4), run.best.modelName);',
      'import { stratum } from "@stratum/kernel";\nconst models = await stratum.models("penguins");\nconsole.log(models.map((m) => `${m.name}:${m.version}`).join(","));',
      'const again = await stratum.train("penguins");\nconsole.log(again.best.modelName, again.best.modelVersion, again.id !== run.id);',
    ],
    { STRATUM_SERVER: server, STRATUM_HOME: home },
  );
  const [define, train, ts, api, fromCode] = nb.cells;
  expect(texts(define!.outputs)[0]).toMatch(
    /^pipeline penguins: classification of Species by accuracy, 2 candidate model\(s\), 3 trial\(s\)/,
  );

  const errors = nb.cells.flatMap((c) => c.outputs.filter((o) => o.output_type === 'error'));
  expect(errors).toEqual([]);
  // The live display ends as the final leaderboard: HTML and its text/plain twin.
  const board = train!.outputs.find((o) => o.data?.['text/html'])!;
  const html = str(board.data!['text/html']);
  const text = str(board.data!['text/plain']);
  expect(html).toContain('<table class="stratum-table"');
  expect(html).toContain('★ best');
  expect(text).toMatch(/^\[█{30}\] 100% {2}3\/3 done, 0 running$/m);
  expect(text).toMatch(/^rank +trial +candidate +params +state +accuracy +time +note$/m);
  const best = /best: \S+ \(trial \w+\) accuracy=(\d\.\d{4}) .*→ model penguins:1$/m.exec(text);
  expect(best).not.toBeNull();
  // Learning curves from the tfjs trial's epochs.
  const curves = train!.outputs.find((o) => o.data?.['application/vnd.vegalite.v5+json']);
  expect(str(curves?.data?.['text/plain'])).toMatch(/^learning curves: 1 trial\(s\) over epochs; .*loss/);

  expect(texts(ts!.outputs).join('')).toBe(`accuracy ${best![1]} penguins\n`);
  expect(texts(api!.outputs).join('')).toBe('penguins:1\n');
  // The API, called from code, trains the pipeline the magic defined, live in its own cell.
  expect(fromCode!.outputs.some((o) => str(o.data?.['text/html']).includes('★ best'))).toBe(true);
  expect(texts(fromCode!.outputs.filter((o) => o.output_type === 'stream')).join('')).toBe('penguins 2 true\n');
});

it('deploys the trained model from the notebook and predicts through the endpoint, by magic and by code', async () => {
  const all = JSON.parse(readFileSync(PENGUINS, 'utf8')) as Record<string, unknown>[];
  const rows = all
    .filter((r) => r['Beak Length (mm)'] != null && r['Flipper Length (mm)'] != null)
    .slice(0, 3)
    .map((r) => ({
      Island: r.Island,
      'Beak Length (mm)': r['Beak Length (mm)'],
      'Beak Depth (mm)': r['Beak Depth (mm)'],
      'Flipper Length (mm)': r['Flipper Length (mm)'],
    }));
  const nb = await execute(
    [
      '%stratum deploy penguins:1 --tier cloud --dry-run',
      '%stratum deploy penguins:1 --tier edge',
      '%stratum deploy penguins:1 --tier cloud --min 1',
      '%stratum deployments',
      `%stratum predict penguins ${JSON.stringify({ rows })}`,
      'import { stratum, Replica_State } from "@stratum/kernel";\n' +
        'const [dep] = await stratum.deployments();\n' +
        'const replica = dep.replicas.find((r) => r.state === Replica_State.READY).url;\n' +
        `const answer = await stratum.predict(\`\${replica}/v2/models/penguins\`, ${JSON.stringify(rows)});\n` +
        'console.log(answer.model_name, answer.predictions.join(","));',
      '%stratum undeploy penguins',
      '%stratum deployments',
    ],
    { STRATUM_SERVER: server, STRATUM_HOME: home },
  );
  const [plan, refused, deployed, listed, predicted, code, undeployed, after] = nb.cells.map((c) => c.outputs);
  expect(texts(plan!)[0]).toMatch(/^plan: penguins:1 as "penguins" on cloud/);
  expect(texts(plan!)[0]).toMatch(/^ {2}feasible$/m);
  expect(refused).toEqual([expect.objectContaining({ output_type: 'error', ename: 'DeployRefused' })]);
  expect(refused![0]!.evalue).toMatch(/^the plan for penguins:1 on edge is not feasible: /);
  expect(texts(deployed!).at(-1)).toMatch(/^endpoint: http:\/\/127\.0\.0\.1:\d+\/v2\/models\/penguins$/m);
  expect(texts(listed!)[0]).toMatch(/^penguins +penguins:1 +cloud +ready +1\/1 /m);
  expect(texts(listed!, 'text/html')[0]).toContain('<table class="stratum-table"');
  // The same rows through the gateway (magic) and straight to the replica (code) agree.
  const table = texts(predicted!)[0]!;
  expect(table.split('\n')[0]).toBe('model penguins:1');
  const labels = table
    .split('\n')
    .slice(3)
    .map((line) => /(Adelie|Gentoo|Chinstrap)/.exec(line)?.[1]);
  expect(labels).toHaveLength(3);
  expect(texts(code!).join('')).toBe(`penguins ${labels.join(',')}\n`);
  expect(texts(undeployed!)[0]).toBe('undeployed penguins');
  expect(texts(after!)[0]).toBe('no deployments');
});

it('names the cell line of a mistake in a pipeline cell', async () => {
  const nb = await execute([`%%stratum pipeline penguins\n${pipeline('data/penguins.json', 'decision-tre')}`], {
    STRATUM_SERVER: server,
    STRATUM_HOME: home,
  });
  const [error] = nb.cells[0]!.outputs;
  expect(error).toMatchObject({ output_type: 'error', ename: 'SpecError' });
  // `trainer:` is on line 16 of the YAML, line 17 of the cell.
  expect(error!.evalue).toMatch(/^pipeline penguins, cell line 17, column 14: models\[0\]\.trainer: .*"decision-tree"/);
});

it('gives one clear message when the control plane cannot be reached', async () => {
  const closed = await freePort();
  const nb = await execute(
    [`%%stratum pipeline penguins\n${pipeline('data/penguins.json')}`, '%stratum train penguins'],
    {
      STRATUM_SERVER: `http://127.0.0.1:${closed}`,
      STRATUM_HOME: mkdtempSync(join(tmpdir(), 'stratum-none-')),
    },
  );
  const outputs = nb.cells[1]!.outputs;
  expect(outputs).toHaveLength(1);
  expect(outputs[0]).toMatchObject({ output_type: 'error', ename: 'ConnectionError' });
  expect(outputs[0]!.evalue).toMatch(
    new RegExp(
      `^cannot reach the Stratum control plane at http://127\\.0\\.0\\.1:${closed} \\(.*ECONNREFUSED.*\\); is \`stratum serve\` running\\?`,
    ),
  );
  expect(outputs[0]!.traceback).toEqual([`ConnectionError: ${outputs[0]!.evalue}`]);
});

it('stops watching on interrupt while the run goes on, and the kernel stays', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stratum-nb-'));
  const spec = pipeline(PENGUINS)
    .replace(
      /models:[\s\S]*selection:/,
      'models:\n  - name: wait\n    trainer: synthetic\n    params: { durationMs: [1500, 1600], epochs: 3 }\nselection:',
    )
    .replace('resources: { cpus: 1, memory: 512Mi }\n', '');
  writeFileSync(join(dir, 'slow.yaml'), spec);
  const r = await python(['interrupt_watch.py', join(dir, 'slow.yaml')], {
    JUPYTER_PATH: jupyterPath,
    STRATUM_SERVER: server,
    STRATUM_HOME: home,
  });
  expect(r.output).toMatch(/^\{"define".*\}$/m);
  expect(r.code).toBe(0);
  const report = JSON.parse(r.output.trim().split('\n').at(-1)!) as Record<string, unknown>;
  expect(report.define).toBe('ok');
  expect(report.train).toMatchObject({ status: 'error', ename: 'KeyboardInterrupt' });
  expect(String((report.train as { evalue: string }).evalue)).toMatch(/^stopped watching run \w{8}; the run goes on/);
  expect(report.alive).toBe('ok');
  expect(report.alive_text).toBe('alive 2\n');
  expect(report.follow).toBe('ok');
  expect(report.final_text).toMatch(/100% {2}2\/2 done[\s\S]*succeeded \(2\/2 trials succeeded\)/);
});

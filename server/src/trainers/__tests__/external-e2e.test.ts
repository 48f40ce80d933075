/**
 * The external trainer end to end, with real processes: `stratum serve --allow-trainer`
 * hands the allow-list to its local workers, `stratum run` trains scikit-learn models through
 * the contract (examples/external/sklearn_train.py, exported by skl2onnx), the best one is
 * registered with its lineage and `stratum serve-model` answers raw records with it. A name
 * the operator did not allow fails the run with a message that says how to allow it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import {
  cli,
  cliJson,
  freePort,
  REPO,
  serve,
  startProcess,
  stop,
  tempHome,
  type Proc,
} from '../../cli/__tests__/harness';
import { detectGpus } from '../../workers/gpus';

interface RunJson {
  state: string;
  stateReason?: string;
  trials: { trainer: string; state: string; stateReason?: string; metrics?: Record<string, number> }[];
  best?: { modelName: string; metrics: Record<string, number> };
}
interface WorkerJson {
  name: string;
  trainers?: string[];
  total?: { gpus?: number };
  versions?: Record<string, string>;
}

const PYTHON = join(REPO, '.venv', 'bin', 'python');
const SCRIPT = join(REPO, 'examples', 'external', 'sklearn_train.py');
const SPEC = join(REPO, 'examples', 'external', 'penguins-sklearn.yaml');

describe('external trainer (scikit-learn through the contract)', () => {
  let home: string;
  let url: string;
  let server: Proc;

  beforeAll(async () => {
    home = tempHome();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = await serve(home, port, ['--workers', '2', '--allow-trainer', `sklearn=${PYTHON} ${SCRIPT}`]);
  });
  afterAll(() => stop(server));

  it('trains, selects and registers a scikit-learn model, and serves it from its ONNX file', async () => {
    const r = cli(['run', SPEC, '--json'], home, url);
    expect(r.code).toBe(0);
    const run = JSON.parse(r.stdout) as RunJson;
    expect(run.state).toBe('STATE_SUCCEEDED');
    expect(run.trials).toHaveLength(3);
    expect(run.trials.every((t) => t.trainer === 'external' && t.state === 'STATE_SUCCEEDED')).toBe(true);
    expect(run.best!.modelName).toBe('penguins-sklearn');
    expect(run.best!.metrics.accuracy).toBeGreaterThanOrEqual(0.95);
    const model = cliJson<{ lineage: { trainer: string; backend: string } }>(['model', 'penguins-sklearn'], home, url);
    expect(model.lineage).toMatchObject({ trainer: 'external', backend: 'external:sklearn' });

    const port = await freePort();
    const replica = await startProcess(
      ['serve-model', 'penguins-sklearn', '--port', String(port), '--server', url],
      home,
      /serving penguins-sklearn:1 on/,
    );
    try {
      const res = await fetch(`http://127.0.0.1:${port}/v2/models/penguins-sklearn/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          rows: [
            {
              Island: 'Biscoe',
              'Beak Length (mm)': 48.6,
              'Beak Depth (mm)': 16,
              'Flipper Length (mm)': 230,
              'Body Mass (g)': 5800,
              Sex: 'MALE',
            },
            {
              Island: 'Torgersen',
              'Beak Length (mm)': 39.1,
              'Beak Depth (mm)': 18.7,
              'Flipper Length (mm)': 181,
              'Body Mass (g)': 3750,
              Sex: 'MALE',
            },
          ],
        }),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { predictions: string[]; probabilities: number[][] };
      expect(body.predictions).toEqual(['Gentoo', 'Adelie']);
      expect(body.probabilities[0]).toHaveLength(3);
    } finally {
      await stop(replica);
    }
  });

  it('fails a run whose command name is not allowed, saying how to allow it', () => {
    const spec = join(home, 'not-allowed.yaml');
    writeFileSync(
      spec,
      `apiVersion: stratum/v1
kind: Pipeline
metadata: { name: not-allowed }
data: { source: ${join(REPO, 'node_modules', 'vega-datasets', 'data', 'penguins.json')} }
target: Species
features: [Beak Length (mm), Flipper Length (mm)]
transforms:
  - dropMissing: {}
task: classification
models:
  - name: torch
    trainer: external
    params: { command: torch }
selection: { metric: accuracy }
`,
    );
    const run = JSON.parse(cli(['run', spec, '--json'], home, url).stdout) as RunJson;
    expect(run.state).toBe('STATE_FAILED');
    expect(run.trials[0]!.stateReason).toContain(
      'command "torch" is not allowed on this worker (allowed: sklearn); the operator allows one with --allow-trainer torch=COMMAND',
    );
  });

  it('workers advertise the external trainer, declared GPUs and their execution providers', async () => {
    const port = Number(new URL(url).port);
    const gpuBox = await startProcess(
      ['worker', '--join', `http://127.0.0.1:${port}`, '--name', 'gpu-box', '--gpus', '1', '--cpus', '1'],
      home,
      /joined/,
    );
    try {
      const workers = cliJson<{ workers?: WorkerJson[] }>(['workers'], home, url).workers ?? [];
      const local = workers.find((w) => w.name === 'local-1')!;
      expect(local.trainers).toContain('external');
      const box = workers.find((w) => w.name === 'gpu-box')!;
      expect(box.total?.gpus).toBe(1);
      // Without nvidia-smi a declared GPU is taken on trust, but only the CPU provider is claimed.
      expect(box.versions?.executionProviders).toBe(detectGpus().length > 0 ? 'cpu,cuda' : 'cpu');
    } finally {
      await stop(gpuBox);
    }
  });
});

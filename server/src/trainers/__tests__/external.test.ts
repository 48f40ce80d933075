/**
 * The external trainer with a real command (a small Node script standing in for PyTorch or
 * scikit-learn): the job file and data it is given, metric lines, early stop through the STOP
 * file, failures with the command's stderr, abort, and — through runTrial — an ONNX model
 * scored by onnxruntime and shipped with the serving metadata. Last, executors: a trial's
 * CUDA_VISIBLE_DEVICES reaches the command, from an executor started with that environment.
 */
import '../../serving/__tests__/node-realm';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { onnx } from 'onnx-proto';

import { parseSpec } from '../../spec';
import { readOnnxSignature } from '../../onnx/signature';
import { runTrial } from '../../workers/runner';
import type { ProcessExecutor as ProcessExecutorType } from '../../workers/executor';
import { createExternalTrainer, parseMetricLine } from '../external';
import { builtinTrainers, createTrainerRegistry } from '../registry';
import type { TrainInput } from '../types';

const REPO = resolve(__dirname, '../../../..');
const dir = mkdtempSync(join(tmpdir(), 'stratum-external-test-'));
const SCRIPT = join(dir, 'fake-trainer.js');
writeFileSync(
  SCRIPT,
  `const fs = require('fs'), path = require('path');
const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const p = job.params;
if (p.capture) fs.writeFileSync(p.capture, JSON.stringify({
  job, train: fs.readFileSync(job.train.path, 'utf8'), test: job.test && fs.readFileSync(job.test.path, 'utf8'),
  cuda: process.env.CUDA_VISIBLE_DEVICES ?? null, ppid: process.ppid, pid: process.pid }));
const finish = () => {
  fs.copyFileSync(p.modelFrom, path.join(job.outputDir, 'model.onnx'));
  fs.writeFileSync(path.join(job.outputDir, 'metrics.json'), JSON.stringify({ train_seconds: 0.5, note: 'x' }));
};
if (p.mode === 'fail') { console.error('boom: CUDA out of memory'); process.exit(3); }
else if (p.mode === 'nomodel') process.exit(0);
else if (p.mode === 'hang') setInterval(() => {}, 1000);
else if (p.mode === 'stoppable') {
  let e = 0;
  const tick = () => {
    e++;
    console.log(JSON.stringify({ epoch: e, metrics: { loss: 1 / e } }));
    if (fs.existsSync(job.stopFile) || e >= 200) finish(); else setTimeout(tick, 20);
  };
  tick();
} else {
  console.log('loading data...');
  for (let e = 1; e <= 3; e++) console.log(JSON.stringify({ epoch: e, metrics: { loss: 1 / e, bad: 'x' } }));
  finish();
}
`,
);
const allowed = { fake: [process.execPath, SCRIPT] };
const trainer = createExternalTrainer({ allowed: () => allowed, workDir: dir });
const MODEL = join(dir, 'any.bin');
writeFileSync(MODEL, Buffer.from([8, 8]));

function input(params: Record<string, unknown>, over: Partial<TrainInput> = {}): TrainInput {
  return {
    task: 'classification',
    x: [Float64Array.of(1, 2), Float64Array.of(3, 4), Float64Array.of(5, 6)],
    y: Float64Array.of(0, 1, 1),
    featureNames: ['Beak Length (mm)', 'Island=Biscoe, "north"'],
    classes: ['Adelie', 'Gentoo'],
    params: { command: 'fake', modelFrom: MODEL, ...params },
    seed: 7,
    attempt: 2,
    ...over,
  };
}

describe('external trainer', () => {
  it('hands the command the job file and data, forwards metric lines and returns its model', async () => {
    const capture = join(dir, 'capture.json');
    const epochs: [number, Record<string, number>][] = [];
    const model = await trainer.train(
      input(
        { capture, C: 0.5 },
        {
          heldOut: { x: [Float64Array.of(7, 8)], y: Float64Array.of(0) },
          onEpoch: async (e, m) => {
            epochs.push([e, { ...m }]);
            return 'continue';
          },
        },
      ),
    );
    const seen = JSON.parse(readFileSync(capture, 'utf8')) as {
      job: Record<string, unknown> & { train: { path: string }; outputDir: string };
      train: string;
      test: string;
    };
    expect(seen.job).toMatchObject({
      contract: 'stratum.external/v1',
      task: 'classification',
      params: { command: 'fake', C: 0.5, dataFormat: 'csv', timeoutS: 3600 },
      seed: 7,
      attempt: 2,
      features: ['Beak Length (mm)', 'Island=Biscoe, "north"'],
      target: 'target',
      classes: ['Adelie', 'Gentoo'],
      train: { format: 'csv', rows: 3 },
      test: { format: 'csv', rows: 1 },
      model: { input: 'features', outputs: ['label', 'probabilities'] },
    });
    expect(seen.train).toBe('Beak Length (mm),"Island=Biscoe, ""north""",target\n1,2,0\n3,4,1\n5,6,1\n');
    expect(seen.test).toBe('Beak Length (mm),"Island=Biscoe, ""north""",target\n7,8,0\n');
    expect(epochs).toEqual([
      [1, { loss: 1 }],
      [2, { loss: 0.5 }],
      [3, { loss: 1 / 3 }],
    ]);
    expect(model.trainer).toBe('external');
    expect(model.backend).toBe('external:fake');
    expect(model.onnx).toEqual({ bytes: new Uint8Array([8, 8]), metrics: { train_seconds: 0.5 } });
    expect(() => model.predict([])).toThrow(/through its ONNX file/);
    // The job directory is gone once the model is read.
    expect(existsSync(seen.job.outputDir)).toBe(false);
  });

  it('writes JSON data when asked, and no test file when nothing is held out', async () => {
    const capture = join(dir, 'capture-json.json');
    await trainer.train(input({ capture, dataFormat: 'json' }, { task: 'regression', classes: undefined }));
    const seen = JSON.parse(readFileSync(capture, 'utf8')) as {
      job: { test: unknown; classes: unknown };
      train: string;
    };
    expect(seen.job).toMatchObject({ test: null, classes: null });
    expect(JSON.parse(seen.train)).toEqual({
      columns: ['Beak Length (mm)', 'Island=Biscoe, "north"'],
      x: [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
      y: [0, 1, 1],
    });
  });

  it('asks the command to stop early through the STOP file', async () => {
    let calls = 0;
    await trainer.train(input({ mode: 'stoppable' }, { onEpoch: async () => (++calls >= 3 ? 'stop' : 'continue') }));
    expect(calls).toBeGreaterThanOrEqual(3);
    expect(calls).toBeLessThan(200);
  });

  it('reports a failing command with its stderr, and a missing model', async () => {
    await expect(trainer.train(input({ mode: 'fail' }))).rejects.toThrow(
      /external: command "fake" exited with code 3:\nboom: CUDA out of memory/,
    );
    await expect(trainer.train(input({ mode: 'nomodel' }))).rejects.toThrow(/wrote no model\.onnx/);
  });

  it('refuses a name the operator did not allow, before running anything', async () => {
    await expect(trainer.train(input({ command: 'rm' }))).rejects.toMatchObject({
      code: 'INVALID_PARAM',
      param: 'command',
      message: expect.stringContaining('command "rm" is not allowed on this worker (allowed: fake)'),
    });
  });

  it('kills the command when the trial is aborted', async () => {
    const capture = join(dir, 'capture-hang.json');
    const ac = new AbortController();
    const training = trainer.train(input({ mode: 'hang', capture }, { signal: ac.signal }));
    while (!existsSync(capture)) await new Promise((r) => setTimeout(r, 50));
    ac.abort('lease revoked');
    await expect(training).rejects.toMatchObject({ name: 'AbortError' });
    const { pid } = JSON.parse(readFileSync(capture, 'utf8')) as { pid: number };
    expect(() => process.kill(pid, 0)).toThrow();
  });

  it('reads only well-formed metric lines', () => {
    expect(parseMetricLine('{"epoch": 2, "metrics": {"a": 1, "b": "x", "c": null}}')).toEqual({
      epoch: 2,
      metrics: { a: 1 },
    });
    expect(parseMetricLine('epoch 2 loss 0.1')).toBeUndefined();
    expect(parseMetricLine('{"epoch": "2", "metrics": {}}')).toBeUndefined();
    expect(parseMetricLine('{not json')).toBeUndefined();
  });
});

describe('external trainer in runTrial and executors', () => {
  const specFile = join(REPO, 'examples', 'penguins.yaml');
  const specYaml = readFileSync(specFile, 'utf8');
  const { spec } = parseSpec(specYaml, specFile);
  const dataFile = resolve(REPO, 'examples', spec.data.source);
  const registry = createTrainerRegistry([...builtinTrainers().filter((p) => p.name !== 'external'), trainer]);
  const base = {
    specYaml,
    specFile,
    candidate: 'logistic',
    seed: 7,
    attempt: 1,
    data: { [spec.data.source]: 'sha256:data' },
  };
  const FOREIGN = join(dir, 'foreign.onnx');
  let logistic: Awaited<ReturnType<typeof runTrial>>;

  beforeAll(async () => {
    // A model made "elsewhere": Stratum's logistic regression with its metadata taken out.
    logistic = await runTrial(
      {
        ...base,
        trainer: 'logistic-regression',
        params: { learningRate: 0.1, numSteps: 300 },
        readArtifact: async () => readFileSync(dataFile),
      },
      { trainers: registry },
    );
    const proto = onnx.ModelProto.decode(logistic.artifact);
    proto.metadataProps = [];
    writeFileSync(FOREIGN, onnx.ModelProto.encode(proto).finish());
  });

  it('scores the command model with onnxruntime and ships it with the serving metadata', async () => {
    const out = await runTrial(
      {
        ...base,
        trainer: 'external',
        params: { command: 'fake', modelFrom: FOREIGN },
        readArtifact: async () => readFileSync(dataFile),
      },
      { trainers: registry },
    );
    expect(out.metrics.accuracy).toBeCloseTo(logistic.metrics.accuracy!, 10);
    expect(out.metrics.train_seconds).toBe(0.5);
    expect(out.backend).toBe('external:fake');
    const meta = readOnnxSignature(out.artifact).metadata;
    expect(meta).toMatchObject({
      'stratum.trainer': 'external',
      'stratum.task': 'classification',
      'stratum.candidate': 'logistic',
      'stratum.backend': 'external:fake',
      'stratum.classes': JSON.stringify(['Adelie', 'Chinstrap', 'Gentoo']),
    });
    expect(meta['stratum.preprocessor']).toBe(readOnnxSignature(logistic.artifact).metadata['stratum.preprocessor']);
  });

  it('refuses a model that does not take the feature vector', async () => {
    // The penguins model handed to the cars pipeline: another width, another task.
    const carsFile = join(REPO, 'examples', 'cars.yaml');
    const carsYaml = readFileSync(carsFile, 'utf8');
    const cars = parseSpec(carsYaml, carsFile).spec;
    const out = runTrial(
      {
        ...base,
        specYaml: carsYaml,
        specFile: carsFile,
        data: { [cars.data.source]: 'sha256:cars' },
        trainer: 'external',
        params: { command: 'fake', modelFrom: FOREIGN },
        readArtifact: async () => readFileSync(resolve(REPO, 'examples', cars.data.source)),
      },
      { trainers: registry },
    );
    await expect(out).rejects.toThrow(
      /model\.onnx must take one FP32 input \[batch, \d+\]; it takes features FP32 \[-1,10\]/,
    );
  });

  it("gives each trial its GPUs' CUDA_VISIBLE_DEVICES from an executor started with it", async () => {
    // The built executor: its child entry point is compiled JavaScript.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { ProcessExecutor } = require(join(REPO, 'server', 'dist', 'workers', 'executor.js')) as {
      ProcessExecutor: typeof ProcessExecutorType;
    };
    const executor = new ProcessExecutor({
      maxIdle: 4,
      env: { STRATUM_EXTERNAL_TRAINERS: JSON.stringify(allowed) },
    });
    const capture = join(dir, 'capture-gpu.json');
    const runOn = async (gpus: string): Promise<{ cuda: string; ppid: number }> => {
      await executor.run(
        {
          ...base,
          trainer: 'external',
          params: { command: 'fake', modelFrom: FOREIGN, capture },
          dataPaths: { 'sha256:data': dataFile },
        },
        { onProgress: () => undefined, shouldStop: () => false },
        new AbortController().signal,
        { env: { CUDA_VISIBLE_DEVICES: gpus, CUDA_DEVICE_ORDER: 'PCI_BUS_ID' } },
      );
      return JSON.parse(readFileSync(capture, 'utf8')) as { cuda: string; ppid: number };
    };
    try {
      const first = await runOn('1');
      const second = await runOn('0');
      const again = await runOn('1');
      expect([first.cuda, second.cuda, again.cuda]).toEqual(['1', '0', '1']);
      // Another GPU needs another executor process; the same GPU reuses the idle one.
      expect(second.ppid).not.toBe(first.ppid);
      expect(again.ppid).toBe(first.ppid);
    } finally {
      await executor.close();
    }
  });
});

/** runTrial delivers its model as ONNX: the artifact a worker uploads for every trainer. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { preprocessRecords, type Preprocessor } from '../../data/prepare';
import { parseSpec } from '../../spec';
import { createTrainerRegistry } from '../../trainers/registry';
import { runTrial } from '../../workers/runner';
import { readOnnxSignature } from '../signature';
import { onnxCheck, runOnnx } from './helpers';

const EXAMPLES = path.resolve(__dirname, '../../../../examples');

async function trial(example: string, candidate: string, trainer: string, params: Record<string, unknown>) {
  const specFile = path.join(EXAMPLES, example);
  const specYaml = fs.readFileSync(specFile, 'utf8');
  const { spec } = parseSpec(specYaml, specFile);
  const dataFile = path.resolve(EXAMPLES, spec.data.source);
  return runTrial(
    {
      specYaml,
      specFile,
      candidate,
      trainer,
      params,
      seed: 7,
      attempt: 1,
      data: { [spec.data.source]: 'sha256:data' },
      readArtifact: async () => fs.readFileSync(dataFile),
    },
    { trainers: createTrainerRegistry() },
  );
}

describe('runTrial artifact', () => {
  it.each([
    ['penguins.yaml', 'mlp', 'tfjs', { units: 8, epochs: 10, learningRate: 0.01 }],
    ['penguins.yaml', 'tree', 'decision-tree', { maxDepth: 3 }],
    ['cars.yaml', 'linear', 'linear-regression', { ridge: 1 }],
  ])('%s %s: an ONNX file with the lineage in its metadata', async (example, candidate, trainer, params) => {
    const out = await trial(example, candidate, trainer, params);
    expect(out.format).toBe('onnx');
    expect(Object.keys(out.metrics).length).toBeGreaterThan(0);
    const sig = readOnnxSignature(out.artifact);
    expect(sig.metadata).toMatchObject({
      'stratum.trainer': trainer,
      'stratum.candidate': candidate,
      'stratum.params': JSON.stringify(params),
      'stratum.backend': out.backend,
    });
    expect(onnxCheck(out.artifact)).toEqual({ ok: true, message: '' });
    // The file alone serves a raw record: preprocessor from its metadata, then the graph.
    const pre = JSON.parse(sig.metadata['stratum.preprocessor']!) as Preprocessor;
    const record =
      pre.task === 'classification'
        ? {
            Island: 'Biscoe',
            'Beak Length (mm)': 48.6,
            'Beak Depth (mm)': 16,
            'Flipper Length (mm)': 230,
            'Body Mass (g)': 5800,
            Sex: 'MALE',
          }
        : {
            Cylinders: 4,
            Displacement: 97,
            Horsepower: null,
            Weight_in_lbs: 2130,
            Acceleration: 14.5,
            Origin: 'Japan',
          };
    const result = runOnnx(out.artifact, preprocessRecords(pre, [record]));
    if (pre.task === 'classification') {
      expect(JSON.parse(sig.metadata['stratum.classes']!)[Number(result.label![0])]).toBe('Gentoo');
    } else {
      expect(result.prediction![0]).toBeGreaterThan(25);
    }
  });
});

/**
 * Parity of tfjs models exported to ONNX: trained MLPs (penguins, cars), a trained CNN with
 * batch normalisation, pooling and dropout on 8×8×1 images, and hand-built stacks that cover
 * every activation and a first layer that takes [H, W, C] directly.
 */
import type { Preprocessor } from '../../data/prepare';
import { tfjsBackend } from '../../trainers/tfjs-backend';
import { tfjsTrainer } from '../../trainers/tfjs';
import type { TrainedModel } from '../../trainers/types';
import type { LayerSpec } from '../../spec/schema';
import { exportOnnx } from '../export';
import {
  asFloat32,
  example,
  figures,
  imagePipeline,
  maxAbsDiff,
  onnxCheck,
  report,
  runOnnx,
  type Pipeline,
} from './helpers';

const TOLERANCE = 1e-4;

afterAll(() => report('tfjs'));

async function trainOn(p: Pipeline, layers: readonly LayerSpec[], params: Record<string, unknown>) {
  const { train, preprocessor } = p.fold;
  return tfjsTrainer.train({
    task: p.spec.task,
    x: train.x,
    y: train.y,
    featureNames: preprocessor.featureNames,
    classes: preprocessor.classes,
    params,
    layers: [...layers],
    seed: 21,
  });
}

/** Exports, runs and compares; returns the ONNX bytes. */
function expectParity(
  label: string,
  model: TrainedModel,
  pre: Preprocessor,
  rows: readonly Float64Array[],
): Uint8Array {
  const bytes = exportOnnx(model, pre);
  const x = asFloat32(rows);
  const out = runOnnx(bytes, x);
  if (pre.task === 'classification') {
    const diff = maxAbsDiff(model.predictProba!(x), out.probabilities!);
    figures[label] = diff;
    expect(diff).toBeLessThan(TOLERANCE);
    expect(Array.from(out.label!, Number)).toEqual(Array.from(model.predict(x)));
  } else {
    const diff = maxAbsDiff(
      Array.from(model.predict(x), (v) => [v]),
      out.prediction!,
    );
    figures[label] = diff;
    expect(diff).toBeLessThan(TOLERANCE);
  }
  return bytes;
}

describe('tfjs → ONNX', () => {
  beforeAll(async () => {
    await tfjsBackend();
  });

  it('dense classifier (penguins): same probabilities and classes, passes the checker', async () => {
    const p = await example('penguins');
    const layers: LayerSpec[] = [
      { dense: { units: 16, activation: 'relu' } },
      { dropout: { rate: 0.2 } },
      { dense: { units: 8, activation: 'tanh' } },
    ];
    const model = await trainOn(p, layers, { epochs: 30, learningRate: 0.01 });
    try {
      const bytes = expectParity('tfjs dense classifier (probabilities)', model, p.fold.preprocessor, p.fold.test.x);
      expect(new Set(model.predict(p.fold.test.x)).size).toBe(3);
      expect(onnxCheck(bytes)).toEqual({ ok: true, message: '' });
    } finally {
      model.dispose?.();
    }
  });

  it('dense regressor with batch normalisation (cars): same predictions, passes the checker', async () => {
    const p = await example('cars');
    const layers: LayerSpec[] = [
      { dense: { units: 16, activation: 'relu' } },
      { batchNormalization: { momentum: 0.5 } },
      { dense: { units: 8, activation: 'elu' } },
    ];
    const model = await trainOn(p, layers, { epochs: 30, learningRate: 0.02 });
    try {
      const bytes = expectParity('tfjs dense regressor (prediction)', model, p.fold.preprocessor, p.fold.test.x);
      expect(onnxCheck(bytes)).toEqual({ ok: true, message: '' });
    } finally {
      model.dispose?.();
    }
  });

  it('conv2d + batchNormalization + pooling + dropout on 8×8×1 images, incl. stride-2 "same"', async () => {
    const p = await imagePipeline(IMAGE_SPEC);
    const model = await trainOn(p, p.spec.models[0]!.layers!, { epochs: 25, learningRate: 0.02, batchSize: 16 });
    try {
      const saved = model.toJSON() as { topology: { config: { layers: { class_name: string }[] } } };
      expect(saved.topology.config.layers.map((l) => l.class_name)).toEqual([
        'Reshape',
        'Conv2D',
        'BatchNormalization',
        'MaxPooling2D',
        'Dropout',
        'Conv2D',
        'AveragePooling2D',
        'Flatten',
        'Dense',
      ]);
      const bytes = expectParity('tfjs conv2d classifier (probabilities)', model, p.fold.preprocessor, p.fold.test.x);
      expect(new Set(model.predict(p.fold.test.x)).size).toBeGreaterThan(1);
      expect(onnxCheck(bytes)).toEqual({ ok: true, message: '' });
    } finally {
      model.dispose?.();
    }
  });
});

const IMAGE_SPEC = `
apiVersion: stratum/v1
kind: Pipeline
metadata: { name: images }
data: { source: images.json }
target: label
task: classification
split: { holdout: { test: 0.25, seed: 1 } }
models:
  - name: cnn
    trainer: tfjs
    layers:
      - reshape: { targetShape: [8, 8, 1] }
      - conv2d: { filters: 4, kernelSize: 3, strides: 2, padding: same, activation: relu }
      - batchNormalization: { momentum: 0.5 }
      - maxPooling2d: { poolSize: 2, strides: 1, padding: same }
      - dropout: { rate: 0.2 }
      - conv2d: { filters: 6, kernelSize: 2, padding: valid, activation: tanh }
      - averagePooling2d: { poolSize: 2, strides: 2, padding: same }
      - flatten: {}
selection: { metric: accuracy }
`;

/** A small MLP as ONNX (x FP32 [-1,16] → 64 relu → 3 softmax), built here: no Python needed. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { attr, ELEMENT, GraphBuilder } from '../../onnx/builder';
import { createRng } from '../../util/random';

export function mlpModel(inputs = 16, hidden = 64, classes = 3): Uint8Array {
  const rng = createRng(7);
  const weights = (n: number) => Float32Array.from({ length: n }, () => rng.next() - 0.5);
  const g = new GraphBuilder('mlp');
  const x = g.input('x', ELEMENT.FLOAT, ['n', inputs]);
  const h = g.op('Relu', [
    g.op('Gemm', [
      x,
      g.floats('w1', weights(inputs * hidden), [inputs, hidden]),
      g.floats('b1', weights(hidden), [hidden]),
    ]),
  ]);
  const logits = g.op('Gemm', [
    h,
    g.floats('w2', weights(hidden * classes), [hidden, classes]),
    g.floats('b2', weights(classes), [classes]),
  ]);
  g.node('Softmax', [logits], ['probabilities'], { axis: attr.int(-1) }, { exact: true });
  g.output('probabilities', ELEMENT.FLOAT, ['n', classes]);
  return g.encode();
}

export function writeModel(bytes: Uint8Array = mlpModel()): string {
  const path = join(mkdtempSync(join(tmpdir(), 'stratum-profiler-')), 'model.onnx');
  writeFileSync(path, bytes);
  return path;
}

/**
 * A small CNN on image-like input (x FP32 [-1,1,64,64] → three conv 3×3 + relu + max-pool
 * stages of 32, 64, 128 channels → 10 softmax): about 39 M multiply-adds a row, so its
 * throughput is bound by compute (what the tiers' limits ration), not by parsing requests.
 */
export function cnnModel(): Uint8Array {
  const rng = createRng(11);
  const weights = (n: number, scale: number) => Float32Array.from({ length: n }, () => (rng.next() - 0.5) * scale);
  const g = new GraphBuilder('cnn');
  let h = g.input('x', ELEMENT.FLOAT, ['n', 1, 64, 64]);
  let channels = 1;
  for (const out of [32, 64, 128]) {
    const conv = g.op(
      'Conv',
      [
        h,
        g.floats('w', weights(out * channels * 9, 0.2), [out, channels, 3, 3]),
        g.floats('b', weights(out, 0.1), [out]),
      ],
      { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]) },
    );
    h = g.op('MaxPool', [g.op('Relu', [conv])], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) });
    channels = out;
  }
  const flat = g.op('Flatten', [h], { axis: attr.int(1) });
  const logits = g.op('Gemm', [
    flat,
    g.floats('wf', weights(128 * 8 * 8 * 10, 0.05), [128 * 8 * 8, 10]),
    g.floats('bf', weights(10, 0.1), [10]),
  ]);
  g.node('Softmax', [logits], ['probabilities'], { axis: attr.int(-1) }, { exact: true });
  g.output('probabilities', ELEMENT.FLOAT, ['n', 10]);
  return g.encode();
}

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

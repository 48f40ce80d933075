import { createRng } from '../../util/random';
import { tf, tfjsBackend } from '../tfjs-backend';

/** dL/dfilter for L = Σ conv2d(x, f) ⊙ dy, by the definition (NHWC, TF 'same'/'valid' padding). */
function reference(
  x: Float32Array,
  [n, h, w, ci]: number[],
  dy: Float32Array,
  [, oh, ow, co]: number[],
  [kh, kw]: number[],
  [sh, sw]: [number, number],
  pad: 'same' | 'valid',
): Float32Array {
  const padTop = pad === 'same' ? Math.floor(Math.max(0, (oh! - 1) * sh + kh! - h!) / 2) : 0;
  const padLeft = pad === 'same' ? Math.floor(Math.max(0, (ow! - 1) * sw + kw! - w!) / 2) : 0;
  const out = new Float32Array(kh! * kw! * ci! * co!);
  for (let a = 0; a < kh!; a++)
    for (let b = 0; b < kw!; b++)
      for (let c = 0; c < ci!; c++)
        for (let d = 0; d < co!; d++) {
          let s = 0;
          for (let m = 0; m < n!; m++)
            for (let i = 0; i < oh!; i++)
              for (let j = 0; j < ow!; j++) {
                const r = i * sh + a - padTop;
                const q = j * sw + b - padLeft;
                if (r < 0 || r >= h! || q < 0 || q >= w!) continue;
                s += x[((m * h! + r) * w! + q) * ci! + c]! * dy[((m * oh! + i) * ow! + j) * co! + d]!;
              }
          out[((a * kw! + b) * ci! + c) * co! + d] = s;
        }
  return out;
}

describe('wasm Conv2DBackpropFilter', () => {
  it.each([
    [[1, 1], 'same'],
    [[1, 1], 'valid'],
    [[2, 2], 'valid'],
    [[2, 2], 'same'],
    [[2, 1], 'same'],
  ] as [[number, number], 'same' | 'valid'][])(
    'matches the definition with strides %j and %s padding',
    async (stride, pad) => {
      expect(await tfjsBackend()).toBe('wasm');
      const rng = createRng(stride[0] * 10 + stride[1] + pad.length);
      const xShape = [2, 7, 6, 3];
      const filterShape: [number, number, number, number] = [3, 2, 3, 4];
      const x = Float32Array.from({ length: 2 * 7 * 6 * 3 }, () => rng.next() - 0.5);
      const xt = tf.tensor4d(x, xShape as [number, number, number, number]);
      const f = tf.zeros(filterShape) as tf.Tensor4D;
      const outShape = tf.conv2d(xt, f, stride, pad).shape;
      const dy = Float32Array.from({ length: outShape.reduce((p, v) => p * v, 1) }, () => rng.next() - 0.5);
      const dyt = tf.tensor(dy, outShape);
      const grad = tf.grad((filter: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv2d(xt, filter as tf.Tensor4D, stride, pad), dyt)),
      )(f);
      const got = grad.dataSync();
      const want = reference(x, xShape, dy, outShape, filterShape, stride, pad);
      expect(got).toHaveLength(want.length);
      want.forEach((v, i) => expect(got[i]).toBeCloseTo(v, 4));
      tf.dispose([xt, f, dyt, grad]);
    },
  );
});

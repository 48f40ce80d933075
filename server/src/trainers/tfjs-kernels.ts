/**
 * Fills the one gap that stops conv2d stacks training on the wasm backend: tfjs-backend-wasm
 * 4.22 registers Conv2D and Conv2DBackpropInput but not Conv2DBackpropFilter, the gradient for
 * the filter.
 *
 * Stride 1 (the usual conv layer) runs in wasm: a 2-D convolution is a 3-D one over a depth
 * of 1, and wasm ships Conv3DBackpropFilterV2. That kernel gives wrong results for strides
 * above 1 (checked against the cpu backend), so strided convolutions take a plain loop over
 * the definition instead. tfjs's conv2d gradient already refuses dilations > 1, and tfjs-layers
 * only uses NHWC with 'same'/'valid' padding, which is all this covers.
 */
import * as tf from '@tensorflow/tfjs';

type TensorInfo = tf.TensorInfo;
type KernelArgs = Parameters<tf.KernelFunc>[0];
type Shape4 = [number, number, number, number];

interface Attrs {
  strides: number | [number, number];
  pad: 'same' | 'valid';
  filterShape: Shape4;
}

function kernel(name: string): tf.KernelFunc {
  const config = tf.getKernel(name, 'wasm');
  if (!config) throw new Error(`the wasm backend has no ${name} kernel`);
  return config.kernelFunc;
}

function viaConv3d(x: TensorInfo, dy: TensorInfo, backend: tf.KernelBackend, { pad, filterShape }: Attrs): TensorInfo {
  const reshape = kernel('Reshape');
  const as5d = (t: TensorInfo): TensorInfo =>
    reshape({ inputs: { x: t }, backend, attrs: { shape: [t.shape[0]!, 1, ...t.shape.slice(1)] } }) as TensorInfo;
  const x5 = as5d(x);
  const dy5 = as5d(dy);
  const dw5 = kernel('Conv3DBackpropFilterV2')({
    inputs: { x: x5, dy: dy5 },
    backend,
    attrs: { strides: [1, 1, 1], pad, filterShape: [1, ...filterShape] },
  }) as TensorInfo;
  const dw = reshape({ inputs: { x: dw5 }, backend, attrs: { shape: filterShape } }) as TensorInfo;
  // Reshape shares data and counts a reference; drop the ones the intermediates hold.
  for (const t of [x5, dy5, dw5]) backend.disposeData(t.dataId);
  return dw;
}

/** TF's padding before the first row/column: none for 'valid', half the overhang for 'same'. */
function padBefore(pad: 'same' | 'valid', input: number, output: number, stride: number, filter: number): number {
  return pad === 'same' ? Math.floor(Math.max(0, (output - 1) * stride + filter - input) / 2) : 0;
}

/** dW[a,b,c,d] = Σ x[n, i·sh + a − top, j·sw + b − left, c] · dy[n, i, j, d]. */
export function conv2dFilterGradient(
  x: ArrayLike<number>,
  xShape: readonly number[],
  dy: ArrayLike<number>,
  dyShape: readonly number[],
  filterShape: readonly number[],
  [sh, sw]: readonly [number, number],
  pad: 'same' | 'valid',
): Float32Array {
  const [n, h, w, ci] = xShape as Shape4;
  const [, oh, ow, co] = dyShape as Shape4;
  const [kh, kw] = filterShape as Shape4;
  const top = padBefore(pad, h, oh, sh, kh);
  const left = padBefore(pad, w, ow, sw, kw);
  const dw = new Float32Array(kh * kw * ci * co);
  for (let m = 0; m < n; m++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++) {
        const dyBase = ((m * oh + i) * ow + j) * co;
        for (let a = 0; a < kh; a++) {
          const r = i * sh + a - top;
          if (r < 0 || r >= h) continue;
          for (let b = 0; b < kw; b++) {
            const q = j * sw + b - left;
            if (q < 0 || q >= w) continue;
            const xBase = ((m * h + r) * w + q) * ci;
            const dwBase = (a * kw + b) * ci * co;
            for (let c = 0; c < ci; c++) {
              const xv = x[xBase + c]!;
              const row = dwBase + c * co;
              for (let d = 0; d < co; d++) dw[row + d]! += xv * dy[dyBase + d]!;
            }
          }
        }
      }
  return dw;
}

function conv2DBackpropFilter({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const a = attrs as unknown as Attrs & { dataFormat: string };
  if (a.dataFormat !== 'NHWC' || (a.pad !== 'same' && a.pad !== 'valid')) {
    throw new Error(
      `Conv2DBackpropFilter on wasm supports NHWC with 'same' or 'valid' padding, got ${a.dataFormat}, ${String(a.pad)}`,
    );
  }
  const strides: [number, number] = typeof a.strides === 'number' ? [a.strides, a.strides] : a.strides;
  const b = backend as tf.KernelBackend;
  if (strides[0] === 1 && strides[1] === 1) return viaConv3d(x, dy, b, a);
  const values = conv2dFilterGradient(
    b.readSync(x.dataId) as Float32Array,
    x.shape,
    b.readSync(dy.dataId) as Float32Array,
    dy.shape,
    a.filterShape,
    strides,
    a.pad,
  );
  return { dataId: b.write(values, a.filterShape, 'float32'), shape: a.filterShape, dtype: 'float32' };
}

/** Registers the missing wasm kernels once; a later tfjs that ships them wins. */
export function patchWasmKernels(): void {
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm')) return;
  tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2DBackpropFilter });
}

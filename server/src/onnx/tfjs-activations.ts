/**
 * tfjs activations → ONNX operators, each written the way tfjs-layers computes it
 * (activations.js): hardSigmoid is clip(0.2x + 0.5, 0, 1), relu6 is min(relu(x), 6), swish
 * is sigmoid(x)·x, mish is x·tanh(softplus(x)), gelu uses erf and gelu_new the tanh form.
 * Softmax runs over tfjs's last axis, which is ONNX axis 1 for a map held as NCHW.
 * tfjs has no leakyRelu activation name; its LeakyReLU layer is handled with the layers.
 */
import { attr } from './builder';
import { fail, type Context, type Value } from './tfjs-layout';

type Unary = (ctx: Context, x: string, v: Value) => string;

const scalar = (ctx: Context, hint: string, value: number): string => ctx.g.floats(hint, [value], []);

const simple =
  (op: string, attributes: Record<string, ReturnType<typeof attr.float>> = {}): Unary =>
  (ctx, x) =>
    ctx.g.op(op, [x], attributes);

const softmaxAxis = (v: Value): number => (v.nchw ? 1 : -1);

const ACTIVATIONS: Record<string, Unary> = {
  relu: simple('Relu'),
  relu6: (ctx, x) => ctx.g.op('Clip', [x, scalar(ctx, 'zero', 0), scalar(ctx, 'six', 6)], {}, 'relu6'),
  sigmoid: simple('Sigmoid'),
  hardSigmoid: simple('HardSigmoid', { alpha: attr.float(0.2), beta: attr.float(0.5) }),
  tanh: simple('Tanh'),
  elu: simple('Elu', { alpha: attr.float(1) }),
  // ONNX's default alpha and gamma are SELU's constants, the ones tfjs uses.
  selu: simple('Selu'),
  softplus: simple('Softplus'),
  softsign: simple('Softsign'),
  softmax: (ctx, x, v) => ctx.g.op('Softmax', [x], { axis: attr.int(softmaxAxis(v)) }),
  logSoftmax: (ctx, x, v) => ctx.g.op('LogSoftmax', [x], { axis: attr.int(softmaxAxis(v)) }),
  swish: (ctx, x) => ctx.g.op('Mul', [ctx.g.op('Sigmoid', [x]), x], {}, 'swish'),
  mish: (ctx, x) => ctx.g.op('Mul', [x, ctx.g.op('Tanh', [ctx.g.op('Softplus', [x])])], {}, 'mish'),
  gelu: (ctx, x) => {
    const g = ctx.g;
    const erf = g.op('Erf', [g.op('Div', [x, scalar(ctx, 'sqrt2', Math.SQRT2)])]);
    const cdf = g.op('Mul', [scalar(ctx, 'half', 0.5), g.op('Add', [scalar(ctx, 'one', 1), erf])]);
    return g.op('Mul', [x, cdf], {}, 'gelu');
  },
  gelu_new: (ctx, x) => {
    const g = ctx.g;
    const cube = g.op('Mul', [scalar(ctx, 'c0044715', 0.044715), g.op('Pow', [x, scalar(ctx, 'three', 3)])]);
    const inner = g.op('Mul', [scalar(ctx, 'sqrt_2_pi', Math.sqrt(2 / Math.PI)), g.op('Add', [x, cube])]);
    const onePlus = g.op('Add', [scalar(ctx, 'one', 1), g.op('Tanh', [inner])]);
    return g.op('Mul', [scalar(ctx, 'half', 0.5), g.op('Mul', [x, onePlus])], {}, 'gelu_new');
  },
};

/** tfjs writes some names in Keras's snake case when serialising. */
const ALIASES: Record<string, string> = { hard_sigmoid: 'hardSigmoid', log_softmax: 'logSoftmax' };

export const ACTIVATION_NAMES: readonly string[] = ['linear', ...Object.keys(ACTIVATIONS)];

/** Applies a tfjs activation by name ('linear', undefined and null leave the value as it is). */
export function activation(ctx: Context, v: Value, name: unknown, layer: string): Value {
  if (name === undefined || name === null || name === 'linear') return v;
  const key = typeof name === 'string' ? (ALIASES[name] ?? name) : '';
  const apply = ACTIVATIONS[key];
  if (!apply) {
    fail(
      `layer ${layer}: activation ${JSON.stringify(name)} has no ONNX form (supported: ${ACTIVATION_NAMES.join(', ')})`,
    );
  }
  return { ...v, name: apply(ctx, v.name, v) };
}

/** The activation layers tfjs has besides `activation`: LeakyReLU, ELU, ReLU, Softmax. */
export function activationLayer(ctx: Context, v: Value, className: string, config: Record<string, unknown>): Value {
  const g = ctx.g;
  const layer = String(config.name);
  const num = (key: string, fallback: number): number =>
    typeof config[key] === 'number' ? (config[key] as number) : fallback;
  switch (className) {
    case 'LeakyReLU':
      return { ...v, name: g.op('LeakyRelu', [v.name], { alpha: attr.float(num('alpha', 0.3)) }) };
    case 'ELU':
      return { ...v, name: g.op('Elu', [v.name], { alpha: attr.float(num('alpha', 1)) }) };
    case 'ReLU': {
      if (config.max_value === null || config.max_value === undefined) return activation(ctx, v, 'relu', layer);
      const max = scalar(ctx, 'relu_max', num('max_value', Infinity));
      return { ...v, name: g.op('Clip', [v.name, scalar(ctx, 'zero', 0), max], {}, 'relu_clip') };
    }
    case 'Softmax': {
      const axis = num('axis', -1);
      if (axis !== -1 && axis !== v.shape.length) fail(`layer ${layer}: softmax over axis ${axis} is not supported`);
      return activation(ctx, v, 'softmax', layer);
    }
    default:
      return fail(`layer ${layer}: ${className} is not an activation layer`);
  }
}

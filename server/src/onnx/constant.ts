/**
 * The synthetic trainer's model → ONNX: the same answer for every row, the training class
 * frequencies (whose first largest entry is the majority class it predicts) or the mean
 * target, expanded to the batch size read from the input's shape.
 */
import { attr, type GraphBuilder } from './builder';
import { OnnxExportError } from './errors';

/** The synthetic trainer's state (trainers/synthetic.ts). */
export interface ConstantState {
  readonly task: 'classification' | 'regression';
  readonly features: number;
  readonly mean: number;
  readonly prior: readonly number[];
}

/** [N, features] → probabilities [N, classes] (classification) or prediction [N, 1]. */
export function constantGraph(g: GraphBuilder, x: string, state: ConstantState, nClasses: number): string {
  const row = state.task === 'classification' ? state.prior : [state.mean];
  if (state.task === 'classification' && row.length !== nClasses) {
    throw new OnnxExportError(
      'synthetic',
      `the saved state has ${row.length} class frequencies for ${nClasses} classes`,
    );
  }
  if (!row.every(Number.isFinite)) throw new OnnxExportError('synthetic', 'the saved state holds a non-finite value');
  const batch = g.op('Shape', [x], { start: attr.int(0), end: attr.int(1) }, 'batch');
  const shape = g.op('Concat', [batch, g.int64s('row_width', [row.length])], { axis: attr.int(0) }, 'out_shape');
  return g.op('Expand', [g.floats('constant', row, [1, row.length]), shape], {}, 'constant_out');
}

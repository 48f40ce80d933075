/** The trainer plugin interface: every trainer (built-in or external) sits behind it. */
import type { LayerSpec } from '../spec/schema';
import type { Task } from './catalog';

export type EpochDecision = 'continue' | 'stop';

export interface TrainInput {
  readonly task: Task;
  /** Feature rows, already preprocessed to numbers. */
  readonly x: readonly Float64Array[];
  /** Class index (classification) or value (regression). */
  readonly y: Float64Array;
  readonly featureNames: readonly string[];
  /** Class labels, index-aligned with y (classification only). */
  readonly classes?: readonly string[];
  /** Concrete hyper-parameters (one point of the search space), defaults not yet applied. */
  readonly params: Readonly<Record<string, unknown>>;
  /** The candidate's layer stack (tfjs only), `$name` references unresolved. */
  readonly layers?: readonly LayerSpec[];
  readonly seed: number;
  /**
   * Called after each epoch by trainers that have epochs; 'stop' ends training early (the model
   * trained so far is returned). `epoch` counts completed epochs from 1. tfjs reports `loss`,
   * `val_loss` (when validationSplit leaves validation rows) and, for classification,
   * `accuracy` / `val_accuracy`.
   */
  readonly onEpoch?: (epoch: number, metrics: Readonly<Record<string, number>>) => Promise<EpochDecision>;
  /** Aborting rejects `train` with an error whose `name` is 'AbortError'. */
  readonly signal?: AbortSignal;
  /**
   * Which attempt at this trial this is, counting from 1 as the scheduler's leases do. The
   * synthetic trainer fails while `attempt <= failAttempts` (its first failAttempts attempts).
   */
  readonly attempt?: number;
  /**
   * This fold's held-out rows, for trainers that report validation metrics while they train
   * (the external trainer hands them to its command); never to fit on. Absent when the model
   * is trained on every row (after k-fold).
   */
  readonly heldOut?: { readonly x: readonly Float64Array[]; readonly y: Float64Array };
}

export interface TrainedModel {
  readonly trainer: string;
  /** Which compute backend trained it: tfjs's backend ("tensorflow", "wasm", "cpu"), "ml.js", or "js". */
  readonly backend: string;
  /** Predicted class index (classification) or value (regression), one per row. */
  predict(x: readonly Float64Array[]): Float64Array;
  /** Class probabilities per row (classification only). */
  predictProba?(x: readonly Float64Array[]): Float64Array[];
  /** JSON-serialisable state that `TrainerPlugin.load` turns back into an equal model. */
  toJSON(): unknown;
  /** Free native memory (tfjs tensors). */
  dispose?(): void;
  /**
   * Set by trainers whose model arrives as an ONNX file (external): the runner scores and ships
   * these bytes instead of calling predict and exportOnnx; `metrics` are the trainer's own final
   * metrics, kept where Stratum computed none of the same name.
   */
  readonly onnx?: { readonly bytes: Uint8Array; readonly metrics: Readonly<Record<string, number>> };
}

export interface TrainerPlugin {
  readonly name: string;
  train(input: TrainInput): Promise<TrainedModel>;
  load(state: unknown): Promise<TrainedModel>;
}

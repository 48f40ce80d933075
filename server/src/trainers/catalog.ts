/**
 * The trainer catalog: which trainers exist, the tasks they handle and the hyper-parameters
 * each accepts. Pure data, shared by the spec validator (names, types, typo suggestions)
 * and the trainer plugins (defaults), so neither re-declares the other's knowledge.
 */
import { Type, type TObject } from '@sinclair/typebox';

export type Task = 'classification' | 'regression';

export interface TrainerInfo {
  readonly name: string;
  readonly tasks: readonly Task[];
  readonly description: string;
  /** Schema of one concrete parameter set (after the search space is expanded). */
  readonly params: TObject;
  /** Whether the candidate carries a `layers` stack. */
  readonly layers: boolean;
  /** Whether the trainer reports per-epoch metrics (and so can be early-stopped). */
  readonly epochs: boolean;
  /** Whether parameters beyond `params` are accepted and handed to the trainer as they are (external). */
  readonly passThrough?: boolean;
}

const S = { additionalProperties: false } as const;

export const TRAINERS: readonly TrainerInfo[] = [
  {
    name: 'tfjs',
    tasks: ['classification', 'regression'],
    description: 'TensorFlow.js layer stack (wasm backend; tfjs-node when installed).',
    layers: true,
    epochs: true,
    params: Type.Object(
      {
        epochs: Type.Integer({ minimum: 1, maximum: 10000, default: 50 }),
        batchSize: Type.Integer({ minimum: 1, maximum: 65536, default: 32 }),
        learningRate: Type.Number({ exclusiveMinimum: 0, maximum: 10, default: 0.01 }),
        optimizer: Type.Union([Type.Literal('adam'), Type.Literal('sgd'), Type.Literal('rmsprop')], {
          default: 'adam',
        }),
        validationSplit: Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0.1 }),
      },
      // Extra keys are allowed: layer stacks refer to them as `$name`.
      { additionalProperties: true },
    ),
  },
  {
    name: 'random-forest',
    tasks: ['classification', 'regression'],
    description: 'Random forest (ml.js).',
    layers: false,
    epochs: false,
    params: Type.Object(
      {
        nEstimators: Type.Integer({ minimum: 1, maximum: 1000, default: 50 }),
        maxFeatures: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 1 }),
        maxDepth: Type.Integer({ minimum: 1, maximum: 64, default: 10 }),
        minSamplesLeaf: Type.Integer({ minimum: 1, maximum: 10000, default: 1 }),
        replacement: Type.Boolean({ default: true }),
      },
      S,
    ),
  },
  {
    name: 'decision-tree',
    tasks: ['classification', 'regression'],
    description: 'CART decision tree (ml.js).',
    layers: false,
    epochs: false,
    params: Type.Object(
      {
        maxDepth: Type.Integer({ minimum: 1, maximum: 64, default: 10 }),
        minNumSamples: Type.Integer({ minimum: 1, maximum: 10000, default: 3 }),
        gainFunction: Type.Union([Type.Literal('gini')], { default: 'gini' }),
      },
      S,
    ),
  },
  {
    name: 'logistic-regression',
    tasks: ['classification'],
    description: 'Multinomial (softmax) logistic regression, full-batch gradient descent on standardised features.',
    layers: false,
    epochs: false,
    params: Type.Object(
      {
        numSteps: Type.Integer({ minimum: 1, maximum: 1000000, default: 2000 }),
        learningRate: Type.Number({ exclusiveMinimum: 0, maximum: 10, default: 0.05 }),
      },
      S,
    ),
  },
  {
    name: 'linear-regression',
    tasks: ['regression'],
    description: 'Ordinary least squares, optionally ridge-regularised.',
    layers: false,
    epochs: false,
    params: Type.Object(
      {
        ridge: Type.Number({ minimum: 0, default: 0 }),
        intercept: Type.Boolean({ default: true }),
      },
      S,
    ),
  },
  {
    name: 'synthetic',
    tasks: ['classification', 'regression'],
    description:
      'Holds a slot for a fixed time and predicts the majority class / mean: for scheduler benchmarks and fault tests.',
    layers: false,
    epochs: true,
    params: Type.Object(
      {
        durationMs: Type.Integer({ minimum: 0, maximum: 3600000, default: 1000 }),
        epochs: Type.Integer({ minimum: 1, maximum: 1000, default: 1 }),
        failAttempts: Type.Integer({ minimum: 0, maximum: 100, default: 0, description: 'Fail the first N attempts.' }),
      },
      S,
    ),
  },
  {
    name: 'external',
    tasks: ['classification', 'regression'],
    description:
      'Runs a command the operator allowed (params.command names it) under the external-trainer contract: ' +
      'a job JSON in, metric lines out, model.onnx written. Other params are passed to the command.',
    layers: false,
    epochs: true,
    passThrough: true,
    params: Type.Object(
      {
        command: Type.String({
          pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$',
          description:
            'Name of an allowed command (--allow-trainer NAME=COMMAND or trainers.json), never a command line.',
        }),
        dataFormat: Type.Union([Type.Literal('csv'), Type.Literal('json')], { default: 'csv' }),
        timeoutS: Type.Integer({ minimum: 1, maximum: 604800, default: 3600 }),
      },
      { additionalProperties: true },
    ),
  },
];

export function trainerInfo(name: string): TrainerInfo | undefined {
  return TRAINERS.find((t) => t.name === name);
}

export type MetricName = 'accuracy' | 'f1' | 'precision' | 'recall' | 'logloss' | 'rmse' | 'mae' | 'r2';

export const METRICS: Record<MetricName, { task: Task; goal: 'maximize' | 'minimize' }> = {
  accuracy: { task: 'classification', goal: 'maximize' },
  f1: { task: 'classification', goal: 'maximize' },
  precision: { task: 'classification', goal: 'maximize' },
  recall: { task: 'classification', goal: 'maximize' },
  logloss: { task: 'classification', goal: 'minimize' },
  rmse: { task: 'regression', goal: 'minimize' },
  mae: { task: 'regression', goal: 'minimize' },
  r2: { task: 'regression', goal: 'maximize' },
};

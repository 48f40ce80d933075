/**
 * A trainer that only holds its slot: it waits `durationMs` spread over `epochs`, reports a
 * seeded, decreasing loss curve (different per seed, so early-stopping rules have something to
 * compare), fails its first `failAttempts` attempts on purpose, and predicts the majority class
 * or the mean. Scheduler benchmarks and fault-tolerance tests run on it.
 */
import { createRng } from '../util/random';
import type { Task } from './catalog';
import { checkInput, predictors, readState } from './common';
import { throwIfAborted, TrainerError, TrainingAbortedError } from './errors';
import { classFrequencies } from './metrics';
import { resolveParams } from './params';
import type { TrainedModel, TrainerPlugin, TrainInput } from './types';

const NAME = 'synthetic';

interface SyntheticParams {
  durationMs: number;
  epochs: number;
  failAttempts: number;
}

interface SyntheticState {
  trainer: typeof NAME;
  version: 1;
  task: Task;
  features: number;
  /** The mean (regression) or the training class frequencies (classification). */
  mean: number;
  prior: number[];
}

/** Resolves after `ms`, or rejects with TrainingAbortedError as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new TrainingAbortedError(NAME, signal.reason));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new TrainingAbortedError(NAME, signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** loss(e) = a/√e + b with a, b drawn from the seed: decreasing, and distinct across trials. */
export function syntheticCurve(seed: number): (epoch: number) => { loss: number; val_loss: number } {
  const rng = createRng(seed);
  const a = 0.5 + rng.next();
  const b = 0.1 * rng.next();
  return (epoch) => {
    const valLoss = a / Math.sqrt(epoch) + b;
    return { loss: 0.9 * valLoss, val_loss: valLoss };
  };
}

function wrap(state: SyntheticState): TrainedModel {
  return {
    trainer: NAME,
    backend: 'js',
    ...predictors(
      NAME,
      state.task,
      state.features,
      (x) => x.map(() => Float64Array.from(state.prior)),
      (x) => new Float64Array(x.length).fill(state.mean),
    ),
    toJSON: () => state,
  };
}

export const syntheticTrainer: TrainerPlugin = {
  name: NAME,
  async train(input: TrainInput): Promise<TrainedModel> {
    const params = resolveParams<SyntheticParams>(NAME, input.params);
    const { features, nClasses } = checkInput(NAME, input);
    throwIfAborted(NAME, input.signal);
    // Attempts count from 1, so "fail the first N attempts" is attempt <= N.
    if (input.attempt !== undefined && input.attempt <= params.failAttempts) {
      throw new TrainerError(NAME, `synthetic failure (attempt ${input.attempt})`, { code: 'TRAINING_FAILED' });
    }
    const curve = syntheticCurve(input.seed);
    for (let epoch = 1; epoch <= params.epochs; epoch++) {
      await sleep(params.durationMs / params.epochs, input.signal);
      const decision = await input.onEpoch?.(epoch, curve(epoch));
      throwIfAborted(NAME, input.signal);
      if (decision === 'stop') break;
    }
    const mean = input.task === 'regression' ? input.y.reduce((s, v) => s + v, 0) / input.y.length : 0;
    const prior = input.task === 'classification' ? classFrequencies(input.y, nClasses) : [];
    return wrap({ trainer: NAME, version: 1, task: input.task, features, mean, prior });
  },
  async load(raw: unknown): Promise<TrainedModel> {
    return wrap(readState<SyntheticState>(NAME, 1, raw));
  },
};

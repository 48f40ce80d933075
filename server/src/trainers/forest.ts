/** Random forest (ml-random-forest): bagged CART trees, seeded so a trial is reproducible. */
import { RandomForestClassifier, RandomForestRegression } from 'ml-random-forest';
import type { Task } from './catalog';
import { checkInput, predictors, readState, toRows } from './common';
import { asTrainerError, throwIfAborted, TrainerError } from './errors';
import { resolveParams } from './params';
import type { TrainedModel, TrainerPlugin, TrainInput } from './types';

const NAME = 'random-forest';

interface ForestParams {
  nEstimators: number;
  maxFeatures: number;
  maxDepth: number;
  minSamplesLeaf: number;
  replacement: boolean;
}

interface ForestState {
  trainer: typeof NAME;
  version: 1;
  task: Task;
  features: number;
  nClasses: number;
  model: object;
}

type Forest = RandomForestClassifier | RandomForestRegression;

/**
 * The library reads maxFeatures in (0, 1] as a fraction and larger integers as a count, so a
 * count of 1 would mean "all features". Keep the catalog's fraction semantics, never drop
 * below one feature, and hand over a fraction whose floor is exactly the count wanted.
 */
export function featureFraction(maxFeatures: number, features: number): number {
  const count = Math.min(features, Math.max(1, Math.floor(maxFeatures * features + 1e-9)));
  return count === features ? 1 : (count + 0.5) / features;
}

function wrap(forest: Forest, state: ForestState): TrainedModel {
  const { task, features, nClasses } = state;
  // Each tree votes; the share of votes is the probability, and predict is its argmax so the
  // two never disagree (the library's own mode breaks ties differently).
  const votes = (x: readonly Float64Array[]): Float64Array[] => {
    const perTree = forest.predictionValues(toRows(x));
    return Array.from({ length: x.length }, (_, i) => {
      const row = perTree.getRow(i);
      const p = new Float64Array(nClasses);
      for (const c of row) p[c]! += 1 / row.length;
      return p;
    });
  };
  return {
    trainer: NAME,
    backend: 'ml.js',
    ...predictors(NAME, task, features, votes, (x) => Float64Array.from(forest.predict(toRows(x)))),
    toJSON: () => state,
  };
}

export const randomForestTrainer: TrainerPlugin = {
  name: NAME,
  async train(input: TrainInput): Promise<TrainedModel> {
    const params = resolveParams<ForestParams>(NAME, input.params);
    const { features, nClasses } = checkInput(NAME, input);
    throwIfAborted(NAME, input.signal);
    const options = {
      nEstimators: params.nEstimators,
      maxFeatures: featureFraction(params.maxFeatures, features),
      replacement: params.replacement,
      // The library seeds a 32-bit Mersenne Twister and rejects non-integers.
      seed: input.seed | 0,
      useSampleBagging: true,
      noOOB: true,
      treeOptions: { maxDepth: params.maxDepth, minNumSamples: params.minSamplesLeaf },
    };
    let forest: Forest;
    try {
      forest =
        input.task === 'classification'
          ? new RandomForestClassifier(options)
          : new RandomForestRegression({ ...options, selectionMethod: 'mean' });
      forest.train(toRows(input.x), Array.from(input.y));
    } catch (err) {
      throw asTrainerError(NAME, err);
    }
    const model = JSON.parse(JSON.stringify(forest.toJSON())) as object;
    return wrap(forest, { trainer: NAME, version: 1, task: input.task, features, nClasses, model });
  },
  async load(raw: unknown): Promise<TrainedModel> {
    const state = readState<ForestState>(NAME, 1, raw);
    try {
      const forest =
        state.task === 'classification'
          ? RandomForestClassifier.load(state.model as Parameters<typeof RandomForestClassifier.load>[0])
          : RandomForestRegression.load(state.model as Parameters<typeof RandomForestRegression.load>[0]);
      return wrap(forest, state);
    } catch (err) {
      throw new TrainerError(NAME, `cannot load model: ${(err as Error).message}`, {
        code: 'INVALID_STATE',
        cause: err,
      });
    }
  },
};

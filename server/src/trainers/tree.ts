/** CART decision tree (ml-cart): classification with leaf class distributions, or regression. */
import { DecisionTreeClassifier, DecisionTreeRegression } from 'ml-cart';
import type { Task } from './catalog';
import { checkInput, predictors, readState, toRows } from './common';
import { asTrainerError, throwIfAborted, TrainerError } from './errors';
import { resolveParams } from './params';
import type { TrainedModel, TrainerPlugin, TrainInput } from './types';

const NAME = 'decision-tree';

interface TreeParams {
  maxDepth: number;
  minNumSamples: number;
  gainFunction: 'gini';
}

interface TreeState {
  trainer: typeof NAME;
  version: 1;
  task: Task;
  features: number;
  nClasses: number;
  /** ml-cart's own JSON, passed through JSON so it holds no Matrix instances. */
  model: object;
}

type Cart = DecisionTreeClassifier | DecisionTreeRegression;

function wrap(cart: Cart, state: TreeState): TrainedModel {
  const { task, features, nClasses } = state;
  // A leaf's distribution only spans the classes seen under it; pad to all classes.
  const proba = (x: readonly Float64Array[]): Float64Array[] =>
    toRows(x).map((row) => {
      const out = new Float64Array(nClasses);
      const leaf = cart.root.classify(row);
      if (typeof leaf !== 'number') leaf.to1DArray().forEach((p, c) => (out[c] = p));
      return out;
    });
  return {
    trainer: NAME,
    backend: 'ml.js',
    ...predictors(NAME, task, features, proba, (x) => Float64Array.from(cart.predict(toRows(x)))),
    toJSON: () => state,
  };
}

export const decisionTreeTrainer: TrainerPlugin = {
  name: NAME,
  async train(input: TrainInput): Promise<TrainedModel> {
    const params = resolveParams<TreeParams>(NAME, input.params);
    const { features, nClasses } = checkInput(NAME, input);
    throwIfAborted(NAME, input.signal);
    const options = { maxDepth: params.maxDepth, minNumSamples: params.minNumSamples };
    let cart: Cart;
    try {
      cart =
        input.task === 'classification'
          ? new DecisionTreeClassifier({ ...options, gainFunction: params.gainFunction })
          : new DecisionTreeRegression(options);
      cart.train(toRows(input.x), Array.from(input.y));
    } catch (err) {
      throw asTrainerError(NAME, err);
    }
    const model = JSON.parse(JSON.stringify(cart.toJSON())) as object;
    return wrap(cart, { trainer: NAME, version: 1, task: input.task, features, nClasses, model });
  },
  async load(raw: unknown): Promise<TrainedModel> {
    const state = readState<TreeState>(NAME, 1, raw);
    try {
      const cart =
        state.task === 'classification'
          ? DecisionTreeClassifier.load(state.model)
          : DecisionTreeRegression.load(state.model);
      return wrap(cart, state);
    } catch (err) {
      throw new TrainerError(NAME, `cannot load model: ${(err as Error).message}`, {
        code: 'INVALID_STATE',
        cause: err,
      });
    }
  },
};

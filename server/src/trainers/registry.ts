/**
 * Trainer lookup by name. A registry is a value handed to whoever needs it (worker executor,
 * tests), so a test or an embedding can register its own plugins without global state.
 */
import { TrainerError } from './errors';
import { decisionTreeTrainer } from './tree';
import { externalTrainer } from './external';
import { linearRegressionTrainer } from './linear';
import { logisticRegressionTrainer } from './logistic';
import { randomForestTrainer } from './forest';
import { syntheticTrainer } from './synthetic';
import { tfjsTrainer } from './tfjs';
import type { TrainerPlugin } from './types';

export interface TrainerRegistry {
  /** The plugin, or a TrainerError (code UNKNOWN_TRAINER) that lists the known names. */
  get(name: string): TrainerPlugin;
  has(name: string): boolean;
  /** Registered names, sorted. */
  names(): string[];
}

/** Every built-in plugin, one per catalog entry. */
export function builtinTrainers(): TrainerPlugin[] {
  return [
    tfjsTrainer,
    randomForestTrainer,
    decisionTreeTrainer,
    logisticRegressionTrainer,
    linearRegressionTrainer,
    syntheticTrainer,
    externalTrainer,
  ];
}

export function createTrainerRegistry(plugins: readonly TrainerPlugin[] = builtinTrainers()): TrainerRegistry {
  const byName = new Map<string, TrainerPlugin>();
  for (const plugin of plugins) {
    if (byName.has(plugin.name)) {
      throw new TrainerError(plugin.name, 'registered twice', { code: 'INVALID_INPUT' });
    }
    byName.set(plugin.name, plugin);
  }
  const names = (): string[] => [...byName.keys()].sort();
  return {
    get(name) {
      const plugin = byName.get(name);
      if (!plugin)
        throw new TrainerError(name, `unknown trainer (known: ${names().join(', ')})`, { code: 'UNKNOWN_TRAINER' });
      return plugin;
    },
    has: (name) => byName.has(name),
    names,
  };
}

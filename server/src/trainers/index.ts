/** The trainers package: plugins behind one interface, their registry, params and metrics. */
export * from './types';
export * from './errors';
export { TRAINERS, METRICS, trainerInfo, type Task, type TrainerInfo, type MetricName } from './catalog';
export { resolveParams } from './params';
export {
  evaluate,
  evaluateClassification,
  evaluateRegression,
  baselineMetrics,
  logloss,
  type Metrics,
} from './metrics';
export { createTrainerRegistry, builtinTrainers, type TrainerRegistry } from './registry';
export { tfjsBackend, type TfjsBackendName } from './tfjs-backend';
export { tfjsTrainer } from './tfjs';
export { randomForestTrainer } from './forest';
export { decisionTreeTrainer } from './tree';
export { logisticRegressionTrainer } from './logistic';
export { linearRegressionTrainer } from './linear';
export { syntheticTrainer } from './synthetic';

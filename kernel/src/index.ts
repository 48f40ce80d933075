/**
 * What notebook code imports: `import { stratum } from "@stratum/kernel"`. The magics run on the
 * same `stratum` instance, so `%stratum train p --as run` and `await stratum.train("p")` are one
 * implementation, and pipelines defined by either are seen by both.
 */
export { stratum, Stratum, type TrainOptions, type WatchOptions } from './api/stratum';
export { StratumError, NotAvailableError, UnreachableError, SpecLineError } from './api/errors';
export { WatchStopped } from './api/watch';
export type { ConnectOptions } from './api/connection';
export type { Pipeline } from './api/pipelines';
export type { PredictOptions } from './api/predict';
export type { CellOutput, DeployOptions, MimeBundle, PredictResponse, ProfileOptions, Row } from './types';
export type {
  BestModel,
  Deployment,
  DeploymentPlan,
  EpochMetrics,
  GetClusterResponse,
  Model,
  Replica,
  Run,
  Tier,
  Trial,
  Worker,
} from '@stratum/proto';
export { Deployment_State, Replica_State, State } from '@stratum/proto';
export { createStratumClient as connect, type StratumClient, type ClientOptions } from '@stratum/server/dist/client';

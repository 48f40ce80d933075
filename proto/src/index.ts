/** The generated wire types and service descriptors of stratum/v1. */
export * from './gen/stratum/v1/common_pb';
export * from './gen/stratum/v1/runs_pb';
export * from './gen/stratum/v1/workers_pb';
export * from './gen/stratum/v1/cluster_pb';
export * from './gen/stratum/v1/models_pb';
export * from './gen/stratum/v1/deployments_pb';
export * from './gen/stratum/v1/profiles_pb';
export * as inference from './gen/inference/v2/grpc_predict_v2_pb';

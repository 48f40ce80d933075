/**
 * The typed client of the control plane, the same in the CLI, the worker agent, the kernel
 * and the benchmarks: gRPC over HTTP/2 with the token as a bearer header.
 */
import { createClient, type Client, type Interceptor, type Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import {
  ClusterService,
  DeploymentService,
  ModelService,
  ProfileService,
  RunService,
  WorkerService,
} from '@stratum/proto';

export interface StratumClient {
  readonly runs: Client<typeof RunService>;
  readonly workers: Client<typeof WorkerService>;
  readonly cluster: Client<typeof ClusterService>;
  readonly models: Client<typeof ModelService>;
  readonly deployments: Client<typeof DeploymentService>;
  readonly profiles: Client<typeof ProfileService>;
}

export interface ClientOptions {
  readonly url: string;
  readonly token?: string;
  /** gRPC over HTTP/2 (default) or Connect/JSON over HTTP/1.1 (as browsers speak through a proxy). */
  readonly protocol?: 'grpc' | 'connect';
}

export function bearer(token: string | undefined): Interceptor {
  return (next) => (req) => {
    if (token) req.header.set('authorization', `Bearer ${token}`);
    return next(req);
  };
}

export function createTransport(o: ClientOptions): Transport {
  const interceptors = [bearer(o.token)];
  return o.protocol === 'connect'
    ? createConnectTransport({ baseUrl: o.url, httpVersion: '1.1', interceptors, useBinaryFormat: false })
    : createGrpcTransport({ baseUrl: o.url, interceptors, readMaxBytes: 512 << 20, writeMaxBytes: 512 << 20 });
}

export function createStratumClient(o: ClientOptions): StratumClient {
  const transport = createTransport(o);
  return {
    runs: createClient(RunService, transport),
    workers: createClient(WorkerService, transport),
    cluster: createClient(ClusterService, transport),
    models: createClient(ModelService, transport),
    deployments: createClient(DeploymentService, transport),
    profiles: createClient(ProfileService, transport),
  };
}

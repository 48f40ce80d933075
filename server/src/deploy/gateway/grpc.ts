/**
 * The gateway's gRPC front end: `inference.GRPCInferenceService`, so tritonclient and grpcio
 * clients use the gateway as they would a replica. ModelInfer and ModelMetadata go to a replica
 * (unchanged: replicas serve under the deployment's name); UNAVAILABLE and broken connections are
 * retried on another replica, any other replica error reaches the client as it was raised.
 */
import { Code, ConnectError, createClient, type Client, type ServiceImpl } from '@connectrpc/connect';
import { createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { inference } from '@stratum/proto';

import { toConnectError } from '../../serving/grpc';
import { checkApiKey, KeyRefused, type Headers } from './api-keys';
import type { Attempt, Dispatcher } from './dispatch';
import { isConnectionFailure } from './router';
import type { GatewayStats } from './stats';
import type { RouteTable } from './table';

type InferenceClient = Client<typeof inference.GRPCInferenceService>;

/** One HTTP/2 session per replica URL, closed when the URL leaves the routing table. */
export class ReplicaClients {
  private readonly clients = new Map<string, { client: InferenceClient; session: Http2SessionManager }>();

  constructor(private readonly limits: { readonly maxBodyBytes: number; readonly maxResponseBytes: number }) {}

  get(url: string): InferenceClient {
    let entry = this.clients.get(url);
    if (!entry) {
      const session = new Http2SessionManager(url, { idleConnectionTimeoutMs: 15_000 });
      const transport = createGrpcTransport({
        baseUrl: url,
        sessionManager: session,
        writeMaxBytes: this.limits.maxBodyBytes,
        readMaxBytes: this.limits.maxResponseBytes,
      });
      entry = { client: createClient(inference.GRPCInferenceService, transport), session };
      this.clients.set(url, entry);
    }
    return entry.client;
  }

  /** Closes the sessions of replicas no longer routed. */
  retain(urls: ReadonlySet<string>): void {
    for (const [url, entry] of this.clients) {
      if (urls.has(url)) continue;
      entry.session.abort();
      this.clients.delete(url);
    }
  }

  close(): void {
    this.retain(new Set());
  }
}

/** Codes that say the replica (not the request) failed: they count as failures in the load report. */
const SERVER_FAULTS = new Set([Code.Internal, Code.Unknown, Code.DataLoss, Code.Unimplemented, Code.DeadlineExceeded]);

/**
 * UNAVAILABLE: the replica is loading, draining or full. CANCELED: the replica's side reset the
 * stream (it was closing); the gateway never cancels its own calls to replicas.
 */
const RETRY = new Set([Code.Unavailable, Code.Canceled]);

type Outcome<T> = { ok: T } | { error: ConnectError };

export interface GatewayGrpcOptions {
  readonly table: RouteTable;
  readonly dispatcher: Dispatcher;
  readonly clients: ReplicaClients;
  readonly stats: GatewayStats;
  readonly serverMetadata: () => { name: string; version: string; extensions: string[] };
}

export function gatewayGrpcRoutes(o: GatewayGrpcOptions): ServiceImpl<typeof inference.GRPCInferenceService> {
  const { table, dispatcher, clients } = o;

  /** The key check of a keyed deployment, on the call's metadata; UNAUTHENTICATED when it fails. */
  async function authorize(deployment: string, metadata: globalThis.Headers, wait = true): Promise<void> {
    const headers: Headers = {
      authorization: metadata.get('authorization') ?? undefined,
      'x-api-key': metadata.get('x-api-key') ?? undefined,
    };
    try {
      // ModelReady answers from the table as it is (false for a name it does not route).
      const route = wait ? await dispatcher.route(deployment) : table.get(deployment);
      if (route) checkApiKey(route, headers);
    } catch (e) {
      if (e instanceof KeyRefused) throw new ConnectError(e.message, Code.Unauthenticated);
      throw toConnectError(e);
    }
  }

  /** Sends `call` to a replica of `deployment` through the dispatcher; answers or raises as the replica did. */
  async function viaReplica<T>(deployment: string, call: (client: InferenceClient) => Promise<T>): Promise<T> {
    const started = performance.now();
    let code = 'OK';
    let coldStart = false;
    try {
      const done = await dispatcher.dispatch<Outcome<T>>(deployment, async (target): Promise<Attempt<Outcome<T>>> => {
        try {
          return { kind: 'answer', value: { ok: await call(clients.get(target.url)) }, failed: false };
        } catch (e) {
          const error = ConnectError.from(e);
          if (RETRY.has(error.code) || isConnectionFailure(e)) return { kind: 'retry', reason: error.message };
          return { kind: 'answer', value: { error }, failed: SERVER_FAULTS.has(error.code) };
        }
      });
      coldStart = done.coldStart;
      if ('error' in done.value) throw done.value.error;
      return done.value.ok;
    } catch (e) {
      const error = e instanceof ConnectError ? e : toConnectError(e);
      code = Code[error.code];
      throw error;
    } finally {
      if (table.get(deployment))
        o.stats.answered(deployment, 'grpc', code, (performance.now() - started) / 1000, coldStart);
    }
  }

  return {
    serverLive: () => ({ live: true }),
    serverReady: () => ({ ready: table.received }),
    serverMetadata: () => o.serverMetadata(),
    modelReady: async (req, ctx) => {
      await authorize(req.name, ctx.requestHeader, false);
      return { ready: (table.get(req.name)?.targets.length ?? 0) > 0 };
    },
    modelMetadata: async (req, ctx) => {
      await authorize(req.name, ctx.requestHeader);
      return viaReplica(req.name, (client) => client.modelMetadata(req));
    },
    modelInfer: async (req, ctx) => {
      await authorize(req.modelName, ctx.requestHeader);
      return viaReplica(req.modelName, (client) => client.modelInfer(req));
    },
  };
}

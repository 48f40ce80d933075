/**
 * The gateway: one port (REST on HTTP/1.1, gRPC on h2c) in front of every deployment's
 * replicas. It routes by the table the control plane streams (WatchRoutes), keeps routing by
 * the last one while the control plane is away, buffers requests of deployments with no ready
 * replica and reports load (ReportGatewayMetrics) so the autoscaler can act, at once when a
 * request is buffered.
 */
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { inference } from '@stratum/proto';

import { createDualServer, type DualHandler } from '../../api/listener';
import { createLogger, type Logger } from '../../util/log';
import { SERVER_VERSION } from '../version';
import { connectControlPlane, Reporter, watchRoutes } from './control';
import { DEFAULT_DISPATCH, Dispatcher, type DispatchOptions } from './dispatch';
import { Upstreams } from './forward';
import { gatewayGrpcRoutes, ReplicaClients } from './grpc';
import { gatewayRestHandler } from './rest';
import { GatewayStats } from './stats';
import { RouteTable } from './table';

export interface GatewayOptions {
  readonly controlPlaneUrl: string;
  readonly token?: string;
  readonly gatewayId: string;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** 0 or absent picks a free port. */
  readonly port?: number;
  /** Default 1000. */
  readonly reportIntervalMs?: number;
  /** Longest a request waits for a ready replica. Default 30 s. */
  readonly bufferTimeoutMs?: number;
  readonly maxBuffered?: number;
  readonly maxAttempts?: number;
  /** Largest request body and gRPC message. Default 8 MiB. */
  readonly maxBodyBytes?: number;
  /** Largest answer taken from a replica. Default 64 MiB. */
  readonly maxResponseBytes?: number;
  /** How long close() waits for requests in flight. Default 10 s. */
  readonly drainTimeoutMs?: number;
  readonly log?: Logger;
}

export interface Gateway {
  readonly url: string;
  close(): Promise<void>;
}

export const GATEWAY_NAME = 'stratum-gateway';
/** Bodies pass through unchanged, so the gateway carries what the replicas implement. */
export const GATEWAY_EXTENSIONS = ['binary_tensor_data'];

/** Counts requests until their response closes, so close() can let them finish. */
function tracked(handler: DualHandler): { handler: DualHandler; idle(timeoutMs: number): Promise<void> } {
  let active = 0;
  const waiters: (() => void)[] = [];
  return {
    handler(req, res) {
      active++;
      res.once('close', () => {
        if (--active === 0) for (const w of waiters.splice(0)) w();
      });
      handler(req, res);
    },
    idle: (timeoutMs) =>
      active === 0
        ? Promise.resolve()
        : new Promise((resolve) => {
            const timer = setTimeout(resolve, timeoutMs).unref();
            waiters.push(() => {
              clearTimeout(timer);
              resolve();
            });
          }),
  };
}

export async function startGateway(o: GatewayOptions): Promise<Gateway> {
  const log = o.log ?? createLogger(GATEWAY_NAME);
  const now = () => performance.now();
  const maxBodyBytes = o.maxBodyBytes ?? 8 << 20;
  const maxResponseBytes = o.maxResponseBytes ?? 64 << 20;
  const dispatch: DispatchOptions = {
    ...DEFAULT_DISPATCH,
    ...(o.bufferTimeoutMs !== undefined ? { bufferTimeoutMs: o.bufferTimeoutMs } : {}),
    ...(o.maxBuffered !== undefined ? { maxBuffered: o.maxBuffered } : {}),
    ...(o.maxAttempts !== undefined ? { maxAttempts: o.maxAttempts } : {}),
  };

  const table = new RouteTable();
  const stats = new GatewayStats(now, () => new Map(table.deployments().map((d) => [d, table.get(d)!.targets.length])));
  const control = connectControlPlane(o.controlPlaneUrl, o.token);
  const reporter = new Reporter({
    client: control.client,
    gatewayId: o.gatewayId,
    intervalMs: o.reportIntervalMs ?? 1000,
    collect: () => stats.snapshot(table.deployments()),
    restore: (loads) => stats.restore(loads),
    log,
  });
  const dispatcher = new Dispatcher(table, stats, dispatch, { onBuffered: () => reporter.now(), now });
  const clients = new ReplicaClients({ maxBodyBytes, maxResponseBytes });
  const upstreams = new Upstreams();
  const serverMetadata = () => ({ name: GATEWAY_NAME, version: SERVER_VERSION, extensions: [...GATEWAY_EXTENSIONS] });

  const rest = gatewayRestHandler({
    table,
    dispatcher,
    stats,
    upstreams,
    maxBodyBytes,
    maxResponseBytes,
    serverMetadata,
    onError: (err, url) => log.error({ err, url }, 'request failed'),
  });
  const rpc = connectNodeAdapter({
    readMaxBytes: maxBodyBytes,
    routes(router) {
      router.service(
        inference.GRPCInferenceService,
        gatewayGrpcRoutes({ table, dispatcher, clients, stats, serverMetadata }),
      );
    },
    fallback: rest,
  });
  // RPC paths are /package.Service/Method; the Open Inference Protocol's REST routes skip the
  // RPC router's per-request work.
  const handler: DualHandler = (req, res) =>
    (req.url?.startsWith(`/${inference.GRPCInferenceService.typeName}/`) ? rpc : rest)(req as never, res as never);
  const requests = tracked(handler);
  const dual = createDualServer(requests.handler);
  const host = o.host ?? '127.0.0.1';
  const { port } = await dual.listen(o.port ?? 0, host);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const watch = watchRoutes({
    client: control.client,
    gatewayId: o.gatewayId,
    log,
    onConnected: (up) => stats.controlPlaneConnected.set(up ? 1 : 0),
    onTable(t) {
      table.apply(t);
      clients.retain(table.urls());
      stats.generation.set(Number(t.generation));
    },
  });
  reporter.start();
  log.info({ url, controlPlane: o.controlPlaneUrl, gatewayId: o.gatewayId }, 'gateway listening');

  let closing: Promise<void> | null = null;
  return {
    url,
    close() {
      closing ??= (async () => {
        await watch.stop();
        table.close();
        await requests.idle(o.drainTimeoutMs ?? 10_000);
        await reporter.stop();
        await dual.close();
        clients.close();
        control.close();
        upstreams.close();
      })();
      return closing;
    },
  };
}

/**
 * The one network entry point of the extension: Connect/JSON clients of the control plane,
 * reached through jupyter-server-proxy at `<base_url>/stratum/`. Requests go through
 * JupyterLab's ServerConnection (Jupyter's own auth and XSRF headers); the proxy replaces the
 * Authorization header with the control plane's API token, so the browser never holds it.
 */
import { Code, ConnectError, createClient, type Interceptor } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-web';
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import {
  ClusterService,
  DeploymentService,
  ModelService,
  PlanDeploymentResponseSchema,
  ProfileService,
  RunService,
  type DeploymentPlan,
} from '@stratum/proto';

import type { IStratumApi, IStratumSettings } from './tokens';

/** The base URL the panel talks to: the settings override, else the proxy route. */
export function controlPlaneUrl(settings: IStratumSettings, server: ServerConnection.ISettings): string {
  const override = settings.controlPlaneUrl.trim();
  return override || URLExt.join(server.baseUrl, 'stratum');
}

/**
 * jupyter-server-proxy buffers a response unless the request accepts `text/event-stream`;
 * a server stream (WatchRun) must be flushed message by message, so it asks for that.
 */
export const streamThroughProxy: Interceptor = (next) => (req) => {
  if (req.stream) req.header.set('Accept', 'text/event-stream');
  return next(req);
};

export function createStratumApi(settings: IStratumSettings, server: ServerConnection.ISettings): IStratumApi {
  const baseUrl = controlPlaneUrl(settings, server);
  const transport = createConnectTransport({
    baseUrl,
    useBinaryFormat: false,
    interceptors: [streamThroughProxy],
    fetch: (input, init) => ServerConnection.makeRequest(String(input), init ?? {}, server),
  });
  return {
    baseUrl,
    cluster: createClient(ClusterService, transport),
    runs: createClient(RunService, transport),
    models: createClient(ModelService, transport),
    deployments: createClient(DeploymentService, transport),
    profiles: createClient(ProfileService, transport),
  };
}

/** One line saying why a call failed, for the "not reachable" message. */
export function describeError(err: unknown): string {
  if (err instanceof ConnectError) {
    switch (err.code) {
      case Code.Unimplemented:
        return `the control plane does not answer here (${err.rawMessage || 'not found'}); is the stratum-jupyterlab server extension installed?`;
      case Code.Unauthenticated:
      case Code.PermissionDenied:
        return `the control plane refused the API token (${err.rawMessage})`;
      default:
        return err.rawMessage || Code[err.code] || 'unknown error';
    }
  }
  return err instanceof Error ? err.message : String(err);
}

/** Whether the control plane does not offer the service called (e.g. no deployment engine). */
export function isUnimplemented(err: unknown): boolean {
  return ConnectError.from(err).code === Code.Unimplemented;
}

/** Whether an error means the call was cancelled on purpose (not a failure). */
export function isAbort(err: unknown): boolean {
  return ConnectError.from(err).code === Code.Canceled;
}

/** Whether the control plane answered that the thing asked for does not exist. */
export function isNotFound(err: unknown): boolean {
  return ConnectError.from(err).code === Code.NotFound;
}

/**
 * The plan a refused CreateDeployment carries (FAILED_PRECONDITION with a
 * PlanDeploymentResponse detail listing every check), if the error is such a refusal.
 */
export function planRefusal(err: unknown): DeploymentPlan | undefined {
  const e = ConnectError.from(err);
  if (e.code !== Code.FailedPrecondition) return undefined;
  return e.findDetails(PlanDeploymentResponseSchema)[0]?.plan;
}

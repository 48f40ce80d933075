/* eslint-disable @typescript-eslint/no-namespace -- JupyterLab convention: `namespace X { interface IOptions }` */
/**
 * The extension's public names: plugin and command ids, settings, and the interfaces the
 * plugins share. Wire types come from @stratum/proto and are never re-declared here.
 */
import type { Client } from '@connectrpc/connect';
import type {
  ClusterService,
  Deployment,
  DeploymentService,
  ModelService,
  ProfileService,
  RunService,
} from '@stratum/proto';

export const PLUGIN_ID = 'stratum-jupyterlab:plugin';
export const MAGIC_PLUGIN_ID = 'stratum-jupyterlab:magic';
export const SIDEBAR_ID = 'stratum-sidebar';

export namespace CommandIDs {
  export const openPanel = 'stratum:open-panel';
  export const refresh = 'stratum:refresh';
  export const openRun = 'stratum:open-run';
  export const insertPipelineCell = 'stratum:insert-pipeline-cell';
  export const deployModel = 'stratum:deploy-model';
  export const scaleDeployment = 'stratum:scale-deployment';
  export const undeploy = 'stratum:undeploy';
}

/** The extension's settings, as in schema/plugin.json. */
export interface IStratumSettings {
  /** Connect/JSON base URL of the control plane; empty means `<base_url>/stratum/`. */
  readonly controlPlaneUrl: string;
  /** Seconds between refreshes of the cluster, runs and models. */
  readonly refreshInterval: number;
  /** The tier the Deploy dialog proposes first. */
  readonly defaultTier: string;
}

export const DEFAULT_SETTINGS: IStratumSettings = {
  controlPlaneUrl: '',
  refreshInterval: 5,
  defaultTier: 'cloud',
};

/** The control plane services the panel uses (a subset of what the proto defines). */
export interface IStratumApi {
  readonly cluster: Client<typeof ClusterService>;
  readonly runs: Client<typeof RunService>;
  readonly models: Client<typeof ModelService>;
  readonly deployments: Client<typeof DeploymentService>;
  readonly profiles: Client<typeof ProfileService>;
  /** Where requests go, for messages. */
  readonly baseUrl: string;
}

/** Where a view's data stands: first load, fresh data, or the control plane unreachable. */
export type Connection =
  | { readonly kind: 'loading' }
  | { readonly kind: 'ready' }
  | { readonly kind: 'down'; readonly message: string };

/**
 * Whether the control plane runs deployments, found by asking it: one without a deployment
 * engine answers DeploymentService calls with Unimplemented.
 */
export type DeploymentsState =
  | { readonly available: false }
  | { readonly available: true; readonly deployments: readonly Deployment[] };

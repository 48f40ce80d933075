/* eslint-disable @typescript-eslint/no-namespace -- JupyterLab convention: `namespace X { interface IOptions }` */
/**
 * The panel's model: the control plane's cluster, runs, models, profiles and deployments, with
 * no DOM. Views take it and follow its signals; commands call it. Settings changes rebuild the
 * API client.
 */
import type { ServerConnection } from '@jupyterlab/services';
import type { GetClusterResponse, Model } from '@stratum/proto';
import { Signal, type ISignal } from '@lumino/signaling';

import { createStratumApi } from '../api';
import { DEFAULT_SETTINGS, type IStratumApi, type IStratumSettings } from '../tokens';
import { DeploymentsModel } from './deployments';
import { Health } from './health';
import { Polled } from './polled';
import { ProfilesModel } from './profiles';
import { RunsModel } from './runs';

export class StratumModel {
  constructor(options: StratumModel.IOptions) {
    this._server = options.serverSettings;
    this._settings = options.settings ?? DEFAULT_SETTINGS;
    this._api = options.api ?? createStratumApi(this._settings, this._server);
    const common = { intervalSeconds: this._settings.refreshInterval, isActive: options.isActive };
    this.cluster = new Polled<GetClusterResponse>({
      ...common,
      health: this.health,
      name: 'stratum:cluster',
      load: () => this._api.cluster.getCluster({}),
    });
    this.models = new Polled<Model[]>({
      ...common,
      name: 'stratum:models',
      load: async () => (await this._api.models.listModels({})).models,
    });
    this.deployments = new DeploymentsModel({ ...common, api: () => this._api });
    this.profiles = new ProfilesModel(() => this._api);
    this.runs = new RunsModel({ ...common, api: () => this._api });
  }

  readonly health = new Health();
  readonly cluster: Polled<GetClusterResponse>;
  readonly runs: RunsModel;
  readonly models: Polled<Model[]>;
  readonly deployments: DeploymentsModel;
  readonly profiles: ProfilesModel;

  get settings(): IStratumSettings {
    return this._settings;
  }

  get api(): IStratumApi {
    return this._api;
  }

  get settingsChanged(): ISignal<this, void> {
    return this._settingsChanged;
  }

  configure(settings: IStratumSettings): void {
    const urlChanged = settings.controlPlaneUrl !== this._settings.controlPlaneUrl;
    this._settings = settings;
    if (urlChanged) this._api = createStratumApi(settings, this._server);
    for (const p of [this.cluster, this.models, this.deployments, this.runs.list])
      p.setInterval(settings.refreshInterval);
    this._settingsChanged.emit();
    if (urlChanged) void this.refreshAll();
  }

  /** Fetches everything now: after a Retry, a settings change or a mutation. */
  async refreshAll(): Promise<void> {
    await Promise.all([
      this.cluster.refresh(),
      this.runs.list.refresh(),
      this.models.refresh(),
      this.deployments.refresh(),
    ]);
  }

  dispose(): void {
    this.cluster.dispose();
    this.models.dispose();
    this.deployments.dispose();
    this.profiles.dispose();
    this.runs.dispose();
    Signal.clearData(this);
  }

  private readonly _server: ServerConnection.ISettings;
  private readonly _settingsChanged = new Signal<this, void>(this);
  private _settings: IStratumSettings;
  private _api: IStratumApi;
}

export namespace StratumModel {
  export interface IOptions {
    readonly serverSettings: ServerConnection.ISettings;
    readonly settings?: IStratumSettings;
    /** For tests: a client wired differently (e.g. an in-memory router transport). */
    readonly api?: IStratumApi;
    /** Whether the panel is visible; polls stand by while it is not. */
    readonly isActive: () => boolean;
  }
}

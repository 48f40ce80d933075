/* eslint-disable @typescript-eslint/no-namespace -- JupyterLab convention: `namespace X { interface IOptions }` */
/**
 * Deployments: the list (polled, with each one's load over the last polls) and the mutations
 * the panel offers (create, scale, undeploy), each followed by a refresh. No DOM.
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { Deployment, DeployRequestSchema } from '@stratum/proto';
import type { ISignal } from '@lumino/signaling';

import { isUnimplemented } from '../api';
import type { Connection, DeploymentsState, IStratumApi } from '../tokens';
import { appendLoad, type LoadHistory } from './deploy-history';
import { Polled } from './polled';

export type DeployRequestInit = MessageInitShape<typeof DeployRequestSchema>;

export class DeploymentsModel {
  constructor(options: DeploymentsModel.IOptions) {
    this._api = options.api;
    this._poll = new Polled<DeploymentsState>({
      name: 'stratum:deployments',
      intervalSeconds: options.intervalSeconds,
      isActive: options.isActive,
      load: async () => {
        let deployments: Deployment[];
        try {
          deployments = (await this._api().deployments.listDeployments({})).deployments;
        } catch (err) {
          if (isUnimplemented(err)) return { available: false };
          throw err;
        }
        this._history = appendLoad(this._history, deployments);
        return { available: true, deployments };
      },
    });
  }

  /** Emitted whenever the list, its history or the connection changes. */
  get changed(): ISignal<Polled<DeploymentsState>, void> {
    return this._poll.changed;
  }

  /** Whether the control plane runs deployments, and which; undefined before the first answer. */
  get value(): DeploymentsState | undefined {
    return this._poll.value;
  }

  get connection(): Connection {
    return this._poll.connection;
  }

  /** Each deployment's requests per second and latency over the last polls. */
  get history(): LoadHistory {
    return this._history;
  }

  /** The deployment named `name`, as last listed. */
  find(name: string): Deployment | undefined {
    const v = this._poll.value;
    return v?.available ? v.deployments.find((d) => d.name === name) : undefined;
  }

  refresh(): Promise<void> {
    return this._poll.refresh();
  }

  setInterval(seconds: number): void {
    this._poll.setInterval(seconds);
  }

  /** CreateDeployment; a refusal (failing checks) is thrown as the control plane sent it. */
  async create(request: DeployRequestInit): Promise<Deployment | undefined> {
    return this._mutate(async () => (await this._api().deployments.createDeployment(request)).deployment);
  }

  async scale(name: string, minReplicas: number, maxReplicas: number): Promise<Deployment | undefined> {
    return this._mutate(
      async () => (await this._api().deployments.scaleDeployment({ name, minReplicas, maxReplicas })).deployment,
    );
  }

  async remove(name: string): Promise<Deployment | undefined> {
    return this._mutate(async () => (await this._api().deployments.deleteDeployment({ name })).deployment);
  }

  dispose(): void {
    this._poll.dispose();
  }

  /** Runs a mutation, then refreshes the list whether it worked or not. */
  private async _mutate<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } finally {
      await this.refresh();
    }
  }

  private readonly _api: () => IStratumApi;
  private readonly _poll: Polled<DeploymentsState>;
  private _history: LoadHistory = new Map();
}

export namespace DeploymentsModel {
  export interface IOptions {
    readonly api: () => IStratumApi;
    readonly intervalSeconds: number;
    readonly isActive: () => boolean;
  }
}

/** Where a deployment answers: `{endpoint}/v2/models/{name}` (add /predict or /infer); empty until a gateway runs. */
export function endpointUrl(d: Pick<Deployment, 'endpoint' | 'name'>): string {
  return d.endpoint ? `${d.endpoint.replace(/\/+$/, '')}/v2/models/${encodeURIComponent(d.name)}` : '';
}

export interface IScaleValues {
  readonly min: string;
  readonly max: string;
}

/** Whole numbers with 0 ≤ min ≤ max and max ≥ 1, or why not. */
export function parseScale(
  v: IScaleValues,
): { readonly min: number; readonly max: number } | { readonly error: string } {
  const min = Number(v.min.trim() === '' ? NaN : v.min);
  const max = Number(v.max.trim() === '' ? NaN : v.max);
  if (!Number.isInteger(min) || min < 0) return { error: `min replicas must be a whole number ≥ 0, not "${v.min}"` };
  if (!Number.isInteger(max) || max < 1) return { error: `max replicas must be a whole number ≥ 1, not "${v.max}"` };
  if (min > max) return { error: `min replicas ${min} is above max replicas ${max}` };
  return { min, max };
}

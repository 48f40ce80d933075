/* eslint-disable @typescript-eslint/no-namespace -- JupyterLab convention: `namespace X { interface IOptions }` */
/**
 * The Deploy dialog's state without its DOM: the fields as typed, the plan the control plane
 * made of them (asked again, debounced, whenever a field changes), and the deploy itself. A
 * refused CreateDeployment shows the plan it carries, with its failing checks.
 */
import type { Deployment, DeploymentPlan } from '@stratum/proto';
import { Signal, type ISignal } from '@lumino/signaling';

import { describeError, planRefusal } from '../api';
import type { DeployRequestInit } from './deployments';

/** The dialog's fields as the user typed them. */
export interface IDeployFields {
  readonly name: string;
  readonly tier: string;
  /** Latency budgets in ms and requests per second; empty: none asked. */
  readonly p99: string;
  readonly p95: string;
  readonly rps: string;
  readonly minReplicas: string;
  readonly maxReplicas: string;
}

export type FieldName = keyof IDeployFields;

export function initialFields(model: { readonly name: string }, tiers: readonly string[], defaultTier: string) {
  const tier = tiers.includes(defaultTier) || tiers.length === 0 ? defaultTier : tiers[0]!;
  const fields: IDeployFields = {
    name: model.name,
    tier,
    p99: '',
    p95: '',
    rps: '',
    minReplicas: '1',
    maxReplicas: '2',
  };
  return fields;
}

/** The tiers the dialog offers: the cluster's, with the default first when the cluster lacks it. */
export function tierChoices(tiers: readonly string[], defaultTier: string): string[] {
  return [...new Set([...tiers, defaultTier])].filter(Boolean);
}

function budget(label: string, text: string): number {
  if (text.trim() === '') return 0;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${label} must be a number above 0, or empty for none`);
  return n;
}

function whole(label: string, text: string, min: number): number {
  const n = Number(text.trim() === '' ? NaN : text);
  if (!Number.isInteger(n) || n < min) throw new Error(`${label} must be a whole number ≥ ${min}`);
  return n;
}

/** The DeployRequest the fields describe, or why they describe none. */
export function deployRequest(
  model: { readonly name: string; readonly version: number },
  f: IDeployFields,
): { readonly request: DeployRequestInit } | { readonly error: string } {
  try {
    if (!f.tier) throw new Error('choose a tier');
    const qos = { p99Ms: budget('p99', f.p99), p95Ms: budget('p95', f.p95), rps: budget('Throughput', f.rps) };
    return {
      request: {
        model: model.version ? `${model.name}:${model.version}` : model.name,
        name: f.name.trim(),
        tier: f.tier,
        qos,
        minReplicas: whole('Min replicas', f.minReplicas, 0),
        maxReplicas: whole('Max replicas', f.maxReplicas, 1),
      },
    };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

export type FormStatus = 'planning' | 'planned' | 'invalid' | 'failed' | 'deploying' | 'refused' | 'deployed';

export class DeployFormModel {
  constructor(options: DeployFormModel.IOptions) {
    this._options = options;
    this._fields = initialFields(options.model, options.tiers, options.defaultTier);
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get fields(): IDeployFields {
    return this._fields;
  }

  get tiers(): string[] {
    return tierChoices(this._options.tiers, this._options.defaultTier);
  }

  get status(): FormStatus {
    return this._status;
  }

  /** The plan of the current fields, or (status "refused") the one CreateDeployment refused. */
  get plan(): DeploymentPlan | undefined {
    return this._plan;
  }

  /** Why there is no plan, or why the deploy failed. */
  get error(): string | undefined {
    return this._error;
  }

  /** Deploy is possible once the current fields have a feasible plan. */
  get canDeploy(): boolean {
    return this._status === 'planned' && !!this._plan?.feasible;
  }

  /** Changes one field; the plan is asked again once typing pauses. */
  setField(name: FieldName, value: string): void {
    this._fields = { ...this._fields, [name]: value };
    // An answer to an older request no longer describes these fields.
    this._seq++;
    this._status = 'planning';
    this._changed.emit();
    this._cancelTimer();
    this._timer = setTimeout(() => void this.checkPlan(), this._options.debounceMs ?? 400);
  }

  /** Asks PlanDeployment for the current fields now; a newer request supersedes an older one. */
  async checkPlan(): Promise<void> {
    this._cancelTimer();
    const seq = ++this._seq;
    const built = deployRequest(this._options.model, this._fields);
    if ('error' in built) return this._set(seq, 'invalid', undefined, built.error);
    this._set(seq, 'planning', this._plan, undefined);
    try {
      const plan = await this._options.plan(built.request);
      this._set(seq, 'planned', plan, plan ? undefined : 'the control plane answered without a plan');
    } catch (err) {
      this._set(seq, 'failed', undefined, describeError(err));
    }
  }

  /** CreateDeployment with the current fields; undefined when it was refused or failed. */
  async deploy(): Promise<Deployment | undefined> {
    if (!this.canDeploy) return undefined;
    const built = deployRequest(this._options.model, this._fields);
    if ('error' in built) return undefined;
    const seq = ++this._seq;
    this._set(seq, 'deploying', this._plan, undefined);
    try {
      const deployment = await this._options.create(built.request);
      this._set(seq, 'deployed', this._plan, undefined);
      return deployment;
    } catch (err) {
      const refused = planRefusal(err);
      if (refused) {
        const failing = refused.checks.filter((c) => !c.ok).length;
        const what = failing === 1 ? '1 check fails' : `${failing} checks fail`;
        this._set(seq, 'refused', refused, `The control plane refused the deployment: ${what}.`);
      } else {
        this._set(seq, 'failed', this._plan, describeError(err));
      }
      return undefined;
    }
  }

  dispose(): void {
    this._cancelTimer();
    this._seq++;
    Signal.clearData(this);
  }

  private _set(seq: number, status: FormStatus, plan: DeploymentPlan | undefined, error: string | undefined): void {
    if (seq !== this._seq) return;
    this._status = status;
    this._plan = plan;
    this._error = error;
    this._changed.emit();
  }

  private _cancelTimer(): void {
    if (this._timer !== undefined) clearTimeout(this._timer);
    this._timer = undefined;
  }

  private readonly _options: DeployFormModel.IOptions;
  private readonly _changed = new Signal<this, void>(this);
  private _fields: IDeployFields;
  private _status: FormStatus = 'planning';
  private _plan: DeploymentPlan | undefined;
  private _error: string | undefined;
  private _seq = 0;
  private _timer: ReturnType<typeof setTimeout> | undefined;
}

export namespace DeployFormModel {
  export interface IOptions {
    readonly model: { readonly name: string; readonly version: number };
    readonly tiers: readonly string[];
    readonly defaultTier: string;
    readonly plan: (request: DeployRequestInit) => Promise<DeploymentPlan | undefined>;
    readonly create: (request: DeployRequestInit) => Promise<Deployment | undefined>;
    /** How long typing must pause before the plan is asked again (default 400 ms). */
    readonly debounceMs?: number;
  }
}

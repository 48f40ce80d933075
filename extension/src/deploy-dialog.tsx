/**
 * The Deploy dialog: tier, QoS and scaling fields; the control plane's plan for them (asked as
 * they change, or with "Check plan") with its checks, sizing and infrastructure-as-code; and
 * "Deploy", enabled only for a feasible plan. A refusal keeps the dialog open with the failing
 * checks; a deployment closes it. Without a deployment engine it says so and offers nothing.
 */
import { Dialog, ReactWidget, showDialog } from '@jupyterlab/apputils';
import type { Message } from '@lumino/messaging';
import type { Deployment } from '@stratum/proto';
import * as React from 'react';

import { useSignal } from './components/common';
import { PlanView } from './components/PlanView';
import type { DeployFormModel, FieldName } from './model/deploy-form';

export const NOT_AVAILABLE =
  'Deployment is not available in this control plane: it has no deployment engine, so nothing can be deployed.';

function NumberField(props: {
  readonly form: DeployFormModel;
  readonly name: FieldName;
  readonly label: string;
  readonly placeholder?: string;
}) {
  const { form, name } = props;
  return (
    <label>
      {props.label}
      <input
        className="jp-mod-styled"
        name={name}
        inputMode="decimal"
        placeholder={props.placeholder}
        value={form.fields[name]}
        onChange={(e) => form.setField(name, e.target.value)}
      />
    </label>
  );
}

const STATUS: Partial<Record<DeployFormModel['status'], string>> = {
  planning: 'Checking the plan…',
  deploying: 'Deploying…',
};

function DeployForm({ form }: { readonly form: DeployFormModel }) {
  useSignal(form.changed);
  const { fields, plan, status, error } = form;
  return (
    <div className="jp-stratum-deploy-form" data-status={status}>
      <div className="jp-stratum-deploy-fields">
        <form onSubmit={(e) => e.preventDefault()}>
          <fieldset>
            <legend>Placement</legend>
            <label>
              Tier
              <select
                className="jp-mod-styled"
                name="tier"
                value={fields.tier}
                onChange={(e) => form.setField('tier', e.target.value)}
              >
                {form.tiers.map((t) => (
                  <option key={t} value={t}>
                    {t}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Deployment name
              <input
                className="jp-mod-styled"
                name="name"
                value={fields.name}
                onChange={(e) => form.setField('name', e.target.value)}
              />
            </label>
          </fieldset>
          <fieldset>
            <legend>QoS (empty: none)</legend>
            <NumberField form={form} name="p99" label="p99 latency (ms)" placeholder="e.g. 50" />
            <NumberField form={form} name="rps" label="Throughput (requests/s)" placeholder="e.g. 100" />
            <NumberField form={form} name="p95" label="p95 latency (ms, optional)" />
          </fieldset>
          <fieldset>
            <legend>Scaling</legend>
            <NumberField form={form} name="minReplicas" label="Min replicas (0 scales to zero)" />
            <NumberField form={form} name="maxReplicas" label="Max replicas" />
          </fieldset>
        </form>
        <div className="jp-stratum-plan-bar">
          <button
            type="button"
            className="jp-mod-styled jp-stratum-check-plan"
            disabled={status === 'deploying'}
            onClick={() => void form.checkPlan()}
          >
            Check plan
          </button>
          <span className="jp-stratum-muted" role="status">
            {STATUS[status] ?? ''}
          </span>
        </div>
      </div>
      <div className="jp-stratum-deploy-result">
        {error ? (
          <p className="jp-stratum-warning jp-stratum-deploy-error" role="alert">
            {error}
          </p>
        ) : null}
        {plan ? <PlanView plan={plan} stale={status === 'planning'} /> : null}
      </div>
    </div>
  );
}

/** Index of the "Deploy" button among the dialog's buttons. */
const DEPLOY = 1;

/** A dialog whose Deploy button runs the deployment and closes only once it is made. */
class DeployDialog extends Dialog<void> {
  constructor(
    private readonly _form: DeployFormModel,
    title: string,
  ) {
    super({
      title,
      body: ReactWidget.create(<DeployForm form={_form} />),
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Deploy', className: 'jp-stratum-deploy-confirm' })],
      defaultButton: DEPLOY,
      focusNodeSelector: 'select[name="tier"]',
    });
    this.addClass('jp-stratum-deploy-dialog');
    _form.changed.connect(this._sync, this);
  }

  /** The deployment made, once the dialog closed after making it. */
  deployed: Deployment | undefined;

  override resolve(index?: number): void {
    if ((index ?? DEPLOY) === DEPLOY) {
      void this._deploy();
      return;
    }
    super.resolve(index);
  }

  protected override onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this._sync();
  }

  private async _deploy(): Promise<void> {
    const deployment = await this._form.deploy();
    if (!deployment) return;
    this.deployed = deployment;
    super.resolve(DEPLOY);
  }

  /** Deploy is enabled only while the current fields have a feasible plan. */
  private _sync(): void {
    const button = this.node.querySelector<HTMLButtonElement>('.jp-Dialog-footer .jp-stratum-deploy-confirm');
    if (!button) return;
    button.disabled = !this._form.canDeploy;
    button.title = this._form.canDeploy ? 'Create the deployment' : 'Enabled once the plan is feasible';
  }
}

/** Shows the dialog; resolves with the deployment made, or undefined when it was closed without one. */
export async function showDeployDialog(options: {
  readonly title: string;
  readonly form: DeployFormModel;
}): Promise<Deployment | undefined> {
  const dialog = new DeployDialog(options.form, options.title);
  void options.form.checkPlan();
  try {
    await dialog.launch();
    return dialog.deployed;
  } finally {
    options.form.dispose();
    dialog.dispose();
  }
}

/** What the dialog says on a control plane without a deployment engine. */
export async function showNoEngineDialog(title: string): Promise<void> {
  await showDialog({
    title,
    body: ReactWidget.create(
      <p className="jp-stratum-notice" role="note">
        {NOT_AVAILABLE}
      </p>,
    ),
    buttons: [Dialog.cancelButton({ label: 'Close' })],
  });
}

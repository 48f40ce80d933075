/** The small dialogs of the Deployments view: Scale (min/max replicas) and the Undeploy confirmation. */
import { Dialog, ReactWidget, showDialog } from '@jupyterlab/apputils';
import type { Deployment } from '@stratum/proto';
import * as React from 'react';

import type { IScaleValues } from './model/deployments';

class ScaleBody extends ReactWidget implements Dialog.IBodyWidget<IScaleValues> {
  constructor(private _values: IScaleValues) {
    super();
    this.addClass('jp-stratum-scale-form');
  }

  getValue(): IScaleValues {
    return this._values;
  }

  protected render(): React.ReactElement {
    const field = (key: keyof IScaleValues, label: string) => (
      <label>
        {label}
        <input
          className="jp-mod-styled"
          name={key}
          inputMode="numeric"
          defaultValue={this._values[key]}
          onChange={(e) => (this._values = { ...this._values, [key]: e.target.value })}
        />
      </label>
    );
    return (
      <form onSubmit={(e) => e.preventDefault()}>
        {field('min', 'Min replicas (0 scales to zero when idle)')}
        {field('max', 'Max replicas')}
      </form>
    );
  }
}

/** Asks for new replica bounds; undefined when cancelled. */
export async function showScaleDialog(d: Deployment): Promise<IScaleValues | undefined> {
  const result = await showDialog({
    title: `Scale ${d.name}`,
    body: new ScaleBody({ min: String(d.plan?.minReplicas ?? 0), max: String(d.plan?.maxReplicas ?? 1) }),
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Scale' })],
    focusNodeSelector: 'input[name="min"]',
  });
  return result.button.accept && result.value ? result.value : undefined;
}

/** Whether the user confirms removing the deployment and its endpoint. */
export async function confirmUndeploy(d: Deployment): Promise<boolean> {
  const result = await showDialog({
    title: `Undeploy ${d.name}?`,
    body: `Its ${d.replicas.length === 1 ? 'replica stops' : `${d.replicas.length} replicas stop`} and ${d.endpoint}/v2/models/${d.name} stops answering. The model stays in the registry.`,
    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Undeploy' })],
  });
  return result.button.accept;
}

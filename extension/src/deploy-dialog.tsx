/**
 * The Deploy dialog: the fields a deployment takes (tier, QoS, scaling), and the plain
 * statement that this control plane cannot deploy. It never pretends to start anything.
 */
import { Dialog, ReactWidget, showDialog } from '@jupyterlab/apputils';
import type { Model } from '@stratum/proto';
import * as React from 'react';

export interface IDeployRequest {
  readonly model: Pick<Model, 'name' | 'version'>;
  readonly tiers: readonly string[];
  readonly defaultTier: string;
  /** Whether the control plane answered its deployment service (see the Deployments section). */
  readonly engineAvailable: boolean;
}

export const NOT_AVAILABLE =
  'Deployment is not available in this control plane: it has no deployment engine yet, so nothing will be deployed.';
export const NOT_FROM_PANEL =
  'This control plane runs deployments (listed in the Deployments section), but this panel does not start them: nothing will be deployed from this dialog.';

function DeployForm({ request }: { readonly request: IDeployRequest }) {
  const tiers = [...new Set([request.defaultTier, ...request.tiers])].filter(Boolean);
  return (
    <form className="jp-stratum-deploy-form" onSubmit={(e) => e.preventDefault()}>
      <p className="jp-stratum-notice" role="note">
        {request.engineAvailable ? NOT_FROM_PANEL : NOT_AVAILABLE}
      </p>
      <fieldset>
        <legend>Placement</legend>
        <label>
          Tier
          <select className="jp-mod-styled" name="tier" defaultValue={request.defaultTier}>
            {tiers.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
      </fieldset>
      <fieldset>
        <legend>QoS</legend>
        <label>
          p95 latency (ms)
          <input className="jp-mod-styled" name="p95" type="number" min={1} defaultValue={50} />
        </label>
        <label>
          Throughput (requests/s)
          <input className="jp-mod-styled" name="rps" type="number" min={1} defaultValue={100} />
        </label>
      </fieldset>
      <fieldset>
        <legend>Scaling</legend>
        <label>
          Min replicas (0 scales to zero)
          <input className="jp-mod-styled" name="min" type="number" min={0} defaultValue={0} />
        </label>
        <label>
          Max replicas
          <input className="jp-mod-styled" name="max" type="number" min={1} defaultValue={2} />
        </label>
      </fieldset>
    </form>
  );
}

export async function showDeployDialog(request: IDeployRequest): Promise<void> {
  await showDialog({
    title: `Deploy ${request.model.name}:${request.model.version}`,
    body: ReactWidget.create(<DeployForm request={request} />),
    buttons: [Dialog.cancelButton({ label: 'Close' })],
  });
}

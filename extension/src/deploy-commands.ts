/**
 * The deployment commands (deploy a model, scale, undeploy), as plain functions of the app and
 * the model. Each mutation refreshes the Deployments view; a deploy then switches to it.
 */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { Clipboard, showErrorMessage } from '@jupyterlab/apputils';

import { describeError } from './api';
import type { IDeploymentActions } from './components/DeploymentsView';
import { showDeployDialog, showNoEngineDialog } from './deploy-dialog';
import { confirmUndeploy, showScaleDialog } from './deployment-dialogs';
import type { StratumModel } from './model';
import { DeployFormModel } from './model/deploy-form';
import { parseScale } from './model/deployments';
import type { StratumSidebar } from './sidebar';
import { CommandIDs } from './tokens';

export interface IDeployCommandDeps {
  readonly model: StratumModel;
  readonly sidebar: StratumSidebar;
}

const nameArg = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } as const;

/** Opens the Deploy dialog for a registered model; resolves with the deployment's name, if one was made. */
export async function deployModel(
  app: JupyterFrontEnd,
  deps: IDeployCommandDeps,
  target: { readonly name: string; readonly version: number },
): Promise<string | undefined> {
  const { model, sidebar } = deps;
  const title = `Deploy ${target.name}${target.version ? `:${target.version}` : ''}`;
  // Ask the control plane now whether it runs deployments, rather than trusting an old answer.
  await Promise.all([model.deployments.refresh(), model.cluster.value ? undefined : model.cluster.refresh()]);
  if (model.deployments.value?.available !== true) {
    await showNoEngineDialog(title);
    return undefined;
  }
  const form = new DeployFormModel({
    model: target,
    tiers: model.cluster.value?.tiers.map((t) => t.name) ?? [],
    defaultTier: model.settings.defaultTier,
    plan: async (request) => (await model.api.deployments.planDeployment(request)).plan,
    create: (request) => model.deployments.create(request),
  });
  const deployment = await showDeployDialog({ title, form });
  if (!deployment) return undefined;
  app.shell.activateById(sidebar.id);
  sidebar.switchTo('Deployments');
  return deployment.name;
}

export function addDeploymentCommands(app: JupyterFrontEnd, deps: IDeployCommandDeps): void {
  const { commands } = app;
  const { model } = deps;

  commands.addCommand(CommandIDs.deployModel, {
    label: (args) => `Deploy ${String(args.name ?? 'Model')}…`,
    describedBy: {
      args: {
        type: 'object',
        properties: { name: { type: 'string' }, version: { type: 'number' } },
        required: ['name'],
      },
    },
    execute: (args) => deployModel(app, deps, { name: String(args.name), version: Number(args.version ?? 0) }),
  });

  commands.addCommand(CommandIDs.scaleDeployment, {
    label: (args) => `Scale ${String(args.name ?? 'Deployment')}…`,
    describedBy: { args: nameArg },
    execute: async (args) => {
      const name = String(args.name ?? '');
      const current = model.deployments.find(name);
      if (!current) return;
      const values = await showScaleDialog(current);
      if (!values) return;
      const bounds = parseScale(values);
      try {
        if ('error' in bounds) throw new Error(bounds.error);
        await model.deployments.scale(name, bounds.min, bounds.max);
      } catch (err) {
        await showErrorMessage(`Scale ${name}`, describeError(err));
      }
    },
  });

  commands.addCommand(CommandIDs.undeploy, {
    label: (args) => `Undeploy ${String(args.name ?? 'Deployment')}…`,
    describedBy: { args: nameArg },
    execute: async (args) => {
      const name = String(args.name ?? '');
      const current = model.deployments.find(name);
      if (!current || !(await confirmUndeploy(current))) return;
      try {
        await model.deployments.remove(name);
      } catch (err) {
        await showErrorMessage(`Undeploy ${name}`, describeError(err));
      }
    },
  });
}

/** What the Deployments view's buttons do: run the commands, so the palette and the panel agree. */
export function deploymentActions(app: JupyterFrontEnd): IDeploymentActions {
  return {
    scale: (name) => void app.commands.execute(CommandIDs.scaleDeployment, { name }),
    undeploy: (name) => void app.commands.execute(CommandIDs.undeploy, { name }),
    copy: (text) => Clipboard.copyToSystem(text),
  };
}

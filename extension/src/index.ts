/**
 * Stratum for JupyterLab: the side panel (cluster, runs, models, deployments), `%%stratum`
 * magic cells and the commands. activate() only wires things; nothing here waits on the network.
 */
import { ILayoutRestorer, type JupyterFrontEnd, type JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, showErrorMessage } from '@jupyterlab/apputils';
import { EditorExtensionRegistry, IEditorExtensionRegistry } from '@jupyterlab/codemirror';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { addCommands, modelActions } from './commands';
import { deploymentActions } from './deploy-commands';
import { installRunLinks } from './links';
import { stratumMagicHighlight } from './magic/highlight';
import { StratumModel } from './model';
import { StratumSidebar } from './sidebar';
import { CommandIDs, DEFAULT_SETTINGS, MAGIC_PLUGIN_ID, PLUGIN_ID, type IStratumSettings } from './tokens';

function readSettings(s: ISettingRegistry.ISettings): IStratumSettings {
  const c = s.composite as Partial<IStratumSettings>;
  return {
    controlPlaneUrl: typeof c.controlPlaneUrl === 'string' ? c.controlPlaneUrl : DEFAULT_SETTINGS.controlPlaneUrl,
    refreshInterval: typeof c.refreshInterval === 'number' ? c.refreshInterval : DEFAULT_SETTINGS.refreshInterval,
    defaultTier: typeof c.defaultTier === 'string' && c.defaultTier ? c.defaultTier : DEFAULT_SETTINGS.defaultTier,
  };
}

const panelPlugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'The Stratum side panel, its commands and run links in notebook outputs.',
  autoStart: true,
  optional: [ISettingRegistry, ICommandPalette, INotebookTracker, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    settings: ISettingRegistry | null,
    palette: ICommandPalette | null,
    notebooks: INotebookTracker | null,
    restorer: ILayoutRestorer | null,
  ): void => {
    // Polls stand by while the panel is hidden; the model exists before the panel it feeds.
    const shown = { panel: undefined as StratumSidebar | undefined };
    const model = new StratumModel({
      serverSettings: app.serviceManager.serverSettings,
      isActive: () => !!shown.panel?.isVisible,
    });
    const sidebar = (shown.panel = new StratumSidebar({
      model,
      actions: modelActions(app),
      deploymentActions: deploymentActions(app),
    }));
    app.shell.add(sidebar, 'left', { rank: 250 });
    restorer?.add(sidebar, sidebar.id);

    addCommands(app, { model, sidebar, notebooks });
    for (const command of [CommandIDs.openPanel, CommandIDs.refresh, CommandIDs.insertPipelineCell]) {
      palette?.addItem({ command, category: 'Stratum' });
    }
    installRunLinks(document.body, (runId) => void app.commands.execute(CommandIDs.openRun, { runId }));
    model.health.unreachable.connect((_, message) => {
      void showErrorMessage('Stratum control plane unreachable', `${model.api.baseUrl}: ${message}`);
    });

    if (settings) {
      void settings.load(PLUGIN_ID).then(
        (s) => {
          model.configure(readSettings(s));
          s.changed.connect(() => model.configure(readSettings(s)));
        },
        (err: unknown) => console.warn('stratum-jupyterlab: settings not loaded, using defaults', err),
      );
    }
  },
};

const magicPlugin: JupyterFrontEndPlugin<void> = {
  id: MAGIC_PLUGIN_ID,
  description: 'Highlights %%stratum cells (YAML below the magic line) and %stratum line magics.',
  autoStart: true,
  requires: [IEditorExtensionRegistry],
  activate: (_app: JupyterFrontEnd, registry: IEditorExtensionRegistry): void => {
    registry.addExtension({
      name: 'stratum:magic-highlight',
      factory: () => EditorExtensionRegistry.createImmutableExtension(stratumMagicHighlight),
    });
  },
};

export default [panelPlugin, magicPlugin];

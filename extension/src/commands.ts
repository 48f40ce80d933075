/** The extension's commands, as plain functions of the app and the model. */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { InputDialog } from '@jupyterlab/apputils';
import { NotebookActions, type INotebookTracker } from '@jupyterlab/notebook';
import type { Model } from '@stratum/proto';

import { addDeploymentCommands } from './deploy-commands';
import { pipelineCellIcon, stratumIcon } from './icons';
import { pipelineCell } from './magic/template';
import type { StratumModel } from './model';
import type { StratumSidebar } from './sidebar';
import { CommandIDs } from './tokens';

export interface ICommandDeps {
  readonly model: StratumModel;
  readonly sidebar: StratumSidebar;
  readonly notebooks: INotebookTracker | null;
}

/** Inserts a `%%stratum pipeline NAME` cell below the active cell (or fills an empty one). */
export function insertPipelineCell(notebooks: INotebookTracker, name: string): boolean {
  const panel = notebooks.currentWidget;
  if (!panel) return false;
  const notebook = panel.content;
  const active = notebook.activeCell;
  if (!active || active.model.type !== 'code' || active.model.sharedModel.getSource().trim() !== '') {
    NotebookActions.insertBelow(notebook);
  }
  const cell = notebook.activeCell;
  if (!cell) return false;
  cell.model.sharedModel.setSource(pipelineCell(name));
  notebook.mode = 'command';
  return true;
}

export function addCommands(app: JupyterFrontEnd, deps: ICommandDeps): void {
  const { commands, shell } = app;
  const { model, sidebar, notebooks } = deps;

  commands.addCommand(CommandIDs.openPanel, {
    label: 'Show the Stratum Panel',
    icon: stratumIcon,
    execute: () => shell.activateById(sidebar.id),
  });

  commands.addCommand(CommandIDs.refresh, {
    label: 'Refresh Stratum',
    execute: () => model.refreshAll(),
  });

  commands.addCommand(CommandIDs.openRun, {
    label: (args) => (args.runId ? `Open Stratum Run ${String(args.runId).slice(0, 8)}` : 'Open Stratum Run'),
    describedBy: { args: { type: 'object', properties: { runId: { type: 'string' } }, required: ['runId'] } },
    execute: async (args) => {
      shell.activateById(sidebar.id);
      sidebar.expand('Runs');
      await model.runs.select(String(args.runId ?? ''));
    },
  });

  commands.addCommand(CommandIDs.insertPipelineCell, {
    label: 'Insert Stratum Pipeline Cell',
    caption: 'Insert a %%stratum pipeline cell (YAML spec) below the active cell',
    icon: pipelineCellIcon,
    isEnabled: () => !!notebooks?.currentWidget && notebooks.currentWidget === shell.currentWidget,
    describedBy: { args: { type: 'object', properties: { name: { type: 'string' } } } },
    execute: async (args) => {
      if (!notebooks) return;
      let name = typeof args.name === 'string' ? args.name : undefined;
      if (name === undefined) {
        const answer = await InputDialog.getText({
          title: 'Insert a Stratum pipeline cell',
          label: 'Pipeline name',
          text: 'penguins',
        });
        if (!answer.button.accept) return;
        name = answer.value ?? '';
      }
      insertPipelineCell(notebooks, name);
    },
  });

  addDeploymentCommands(app, { model, sidebar });
}

/** What the Models view's buttons do: run the commands, so the palette and the panel agree. */
export function modelActions(app: JupyterFrontEnd): { openRun: (id: string) => void; deploy: (m: Model) => void } {
  return {
    openRun: (runId) => void app.commands.execute(CommandIDs.openRun, { runId }),
    deploy: (m) => void app.commands.execute(CommandIDs.deployModel, { name: m.name, version: m.version }),
  };
}

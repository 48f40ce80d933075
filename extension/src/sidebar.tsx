/* eslint-disable @typescript-eslint/no-namespace -- JupyterLab convention: `namespace X { interface IOptions }` */
/**
 * The "Stratum" side panel: only composes the sections (Cluster, Runs, Models, Deployments),
 * each a view of the shared model with a refresh button in its title.
 */
import { ReactWidget } from '@jupyterlab/apputils';
import { PanelWithToolbar, refreshIcon, SidePanel, ToolbarButton } from '@jupyterlab/ui-components';
import type { AccordionPanel, Widget } from '@lumino/widgets';
import * as React from 'react';

import { ClusterView } from './components/ClusterView';
import { DeploymentsView, type IDeploymentActions } from './components/DeploymentsView';
import { ModelsView, type IModelActions } from './components/ModelsView';
import { RunsView } from './components/RunsView';
import { stratumIcon } from './icons';
import type { StratumModel } from './model';
import { SIDEBAR_ID } from './tokens';

export type SectionName = 'Cluster' | 'Runs' | 'Models' | 'Deployments';

export class StratumSidebar extends SidePanel {
  constructor(options: StratumSidebar.IOptions) {
    super();
    const { model } = options;
    this._model = model;
    this.id = SIDEBAR_ID;
    this.title.icon = stratumIcon;
    this.title.caption = 'Stratum';
    this.addClass('jp-stratum-sidebar');
    this._add('Cluster', <ClusterView model={model} />, () => model.cluster.refresh());
    this._add('Runs', <RunsView model={model} />, () => model.runs.list.refresh());
    this._add('Models', <ModelsView model={model} actions={options.actions} />, () => model.models.refresh());
    this._add('Deployments', <DeploymentsView model={model} actions={options.deploymentActions} />, () =>
      model.deployments.refresh(),
    );
  }

  /** Opens a section (and keeps the others as they are). */
  expand(name: SectionName): void {
    const i = this.widgets.findIndex((w) => w.title.label === name);
    if (i >= 0) (this.content as AccordionPanel).expand(i);
  }

  /** Switches to a section: opens it and closes the others. */
  switchTo(name: SectionName): void {
    const panel = this.content as AccordionPanel;
    this.widgets.forEach((w, i) => {
      if (w.title.label === name) panel.expand(i);
      else panel.collapse(i);
    });
  }

  protected override onAfterShow(): void {
    void this._model.refreshAll();
  }

  private _add(name: SectionName, view: React.ReactElement, refresh?: () => Promise<void>): void {
    const section = new PanelWithToolbar();
    section.addClass('jp-stratum-section');
    section.addClass(`jp-stratum-section-${name.toLowerCase()}`);
    section.title.label = name;
    if (refresh) {
      section.toolbar.addItem(
        'refresh',
        new ToolbarButton({ icon: refreshIcon, tooltip: `Refresh ${name}`, onClick: () => void refresh() }),
      );
    }
    const body: Widget = ReactWidget.create(view);
    body.addClass('jp-stratum-section-body');
    section.addWidget(body);
    this.addWidget(section);
  }

  private readonly _model: StratumModel;
}

export namespace StratumSidebar {
  export interface IOptions {
    readonly model: StratumModel;
    readonly actions: IModelActions;
    readonly deploymentActions: IDeploymentActions;
  }
}

/* eslint-disable @typescript-eslint/no-namespace -- JupyterLab convention: `namespace X { interface IOptions }` */
/** Runs: the list (polled) and the selected run, followed live with WatchRun. No DOM. */
import type { Run } from '@stratum/proto';
import { Signal, type ISignal } from '@lumino/signaling';

import { describeError } from '../api';
import type { IStratumApi } from '../tokens';
import { Polled } from './polled';
import { RunWatch } from './run-watch';

export class RunsModel {
  constructor(options: RunsModel.IOptions) {
    this._api = options.api;
    this.list = new Polled<Run[]>({
      name: 'stratum:runs',
      load: async () => (await this._api().runs.listRuns({ limit: 50 })).runs,
      intervalSeconds: options.intervalSeconds,
      isActive: options.isActive,
    });
    this.list.changed.connect(this._listChanged, this);
  }

  readonly list: Polled<Run[]>;

  /** Emitted when the selection or the selected run changes. */
  get selectionChanged(): ISignal<this, void> {
    return this._selectionChanged;
  }

  get selectedId(): string | undefined {
    return this._selectedId;
  }

  /** The selected run as last streamed (or as listed, until the stream's snapshot arrives). */
  get selected(): Run | undefined {
    return this._selected;
  }

  /** Why following the selected run failed, while it fails. */
  get watchError(): string | undefined {
    return this._watchError;
  }

  /** Selects a run by id or id prefix (as printed in notebook outputs) and follows it live. */
  async select(idOrPrefix: string | undefined): Promise<void> {
    this._watch?.stop();
    this._watch = undefined;
    this._watchError = undefined;
    if (!idOrPrefix) {
      this._selectedId = this._selected = undefined;
      this._selectionChanged.emit();
      return;
    }
    let run = this.list.value?.find((r) => r.id === idOrPrefix || r.id.startsWith(idOrPrefix));
    if (!run) {
      try {
        run = (await this._api().runs.getRun({ runId: idOrPrefix })).run;
      } catch (err) {
        this._selectedId = idOrPrefix;
        this._selected = undefined;
        this._watchError = describeError(err);
        this._selectionChanged.emit();
        return;
      }
    }
    if (!run) return;
    this._selectedId = run.id;
    this._selected = run;
    this._selectionChanged.emit();
    this._follow(run.id);
  }

  dispose(): void {
    this._watch?.stop();
    this.list.dispose();
    Signal.clearData(this);
  }

  private _follow(runId: string): void {
    this._watch = new RunWatch({
      api: this._api(),
      runId,
      onRun: (run) => {
        if (this._selectedId !== run.id) return;
        this._selected = run;
        this._watchError = undefined;
        this._selectionChanged.emit();
      },
      onError: (message) => {
        this._watchError = message;
        this._selectionChanged.emit();
      },
    });
  }

  private _listChanged(): void {
    // A run that appears while it is selected but not yet known (opened from a link) is followed.
    if (this._selectedId && !this._selected && !this._watch) void this.select(this._selectedId);
  }

  private readonly _api: () => IStratumApi;
  private readonly _selectionChanged = new Signal<this, void>(this);
  private _selectedId: string | undefined;
  private _selected: Run | undefined;
  private _watchError: string | undefined;
  private _watch: RunWatch | undefined;
}

export namespace RunsModel {
  export interface IOptions {
    readonly api: () => IStratumApi;
    readonly intervalSeconds: number;
    readonly isActive: () => boolean;
  }
}

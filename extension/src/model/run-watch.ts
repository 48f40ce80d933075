/* eslint-disable @typescript-eslint/no-namespace -- JupyterLab convention: `namespace X { interface IOptions }` */
/**
 * Follows one run live with the WatchRun server stream (Connect/JSON through the proxy): a
 * snapshot, then every change. A broken stream reconnects with backoff until the run ends.
 */
import type { Run } from '@stratum/proto';

import { describeError, isAbort } from '../api';
import type { IStratumApi } from '../tokens';
import { applyRunEvent, isTerminal } from './run-events';

export class RunWatch {
  constructor(private readonly options: RunWatch.IOptions) {
    void this._loop();
  }

  get runId(): string {
    return this.options.runId;
  }

  stop(): void {
    this._abort.abort();
  }

  private async _loop(): Promise<void> {
    const { api, runId, onRun, onError } = this.options;
    let run: Run | undefined;
    let delay = 500;
    while (!this._abort.signal.aborted) {
      try {
        for await (const event of api.runs.watchRun({ runId }, { signal: this._abort.signal })) {
          run = applyRunEvent(run, event);
          if (run) onRun(run);
          delay = 500;
        }
        // The stream ended: the run is over, or the control plane closed it (restart).
        const { run: latest } = await api.runs.getRun({ runId }, { signal: this._abort.signal });
        if (latest) {
          run = latest;
          onRun(latest);
          if (isTerminal(latest.state)) return;
        }
      } catch (err) {
        if (this._abort.signal.aborted || isAbort(err)) return;
        onError(describeError(err));
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 15_000);
    }
  }

  private readonly _abort = new AbortController();
}

export namespace RunWatch {
  export interface IOptions {
    readonly api: IStratumApi;
    readonly runId: string;
    readonly onRun: (run: Run) => void;
    readonly onError: (message: string) => void;
  }
}

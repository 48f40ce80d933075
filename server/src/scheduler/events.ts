/** Fan-out of run events to watchers (CLI, kernel, panel), one channel per run. */
import { EventEmitter } from 'node:events';

import type { RunEvent } from '@stratum/proto';

export class EventHub {
  private readonly emitter = new EventEmitter();

  constructor() {
    // Every watcher of a run is a listener; many notebooks may watch one run.
    this.emitter.setMaxListeners(0);
  }

  publish(runId: string, event: RunEvent): void {
    this.emitter.emit(runId, event);
  }

  /** Subscribes until the signal aborts or `close` is called; yields events in order. */
  subscribe(runId: string, signal?: AbortSignal): { events: AsyncIterable<RunEvent>; close: () => void } {
    const queue: RunEvent[] = [];
    let wake: (() => void) | undefined;
    let closed = false;
    const onEvent = (e: RunEvent): void => {
      queue.push(e);
      wake?.();
    };
    const close = (): void => {
      closed = true;
      this.emitter.off(runId, onEvent);
      wake?.();
    };
    this.emitter.on(runId, onEvent);
    signal?.addEventListener('abort', close, { once: true });
    const events = (async function* () {
      while (true) {
        if (queue.length > 0) {
          yield queue.shift()!;
          continue;
        }
        if (closed) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    })();
    return { events, close };
  }
}

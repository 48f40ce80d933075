/**
 * Following a run to its end over WatchRun: a snapshot, then every change. Stopping the watch
 * (an interrupt) stops only the watching, never the run; a control plane that restarts while a
 * run is followed is waited for.
 */
import { RunEvent_Kind, State, type Run } from '@stratum/proto';

import type { Connection } from './connection';
import { explain, StratumError } from './errors';

export const TERMINAL: ReadonlySet<State> = new Set([State.SUCCEEDED, State.FAILED, State.CANCELLED]);

/** The watch was stopped (interrupt); the run goes on. `run` is the last state seen. */
export class WatchStopped extends StratumError {
  constructor(
    readonly runId: string,
    readonly run: Run | undefined,
  ) {
    super(
      'KeyboardInterrupt',
      `stopped watching run ${runId.slice(0, 8)}; the run goes on (%stratum leaderboard ${runId.slice(0, 8)} shows it)`,
    );
  }
}

export interface FollowOptions {
  readonly signal?: AbortSignal;
  /** Called with the run after every change (the same object, updated in place). */
  readonly onRun?: (run: Run) => void;
  /** Reconnection attempts after the stream broke (default 60, one a second). */
  readonly retries?: number;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

/** Applies one event to the run being followed; returns the run (new on a snapshot). */
function apply(
  run: Run | undefined,
  e: { kind: RunEvent_Kind; run?: Run; trial?: Run['trials'][number] },
): Run | undefined {
  if (e.run) return e.run;
  if (e.trial && run) {
    const i = run.trials.findIndex((t) => t.id === e.trial!.id);
    if (i >= 0) run.trials[i] = e.trial;
  }
  return run;
}

export async function followRun(conn: Connection, runId: string, o: FollowOptions = {}): Promise<Run> {
  const retries = o.retries ?? 60;
  let run: Run | undefined;
  for (let attempt = 0; ; attempt++) {
    if (o.signal?.aborted) throw new WatchStopped(runId, run);
    try {
      for await (const e of conn.client.runs.watchRun({ runId }, { signal: o.signal })) {
        run = apply(run, e);
        if (!run) continue;
        o.onRun?.(run);
        const whole = e.kind === RunEvent_Kind.RUN || e.kind === RunEvent_Kind.SNAPSHOT;
        if (whole && TERMINAL.has(run.state)) return run;
      }
      const latest = await conn.call((c) => c.runs.getRun({ runId }, { signal: o.signal }));
      if (latest.run) {
        run = latest.run;
        o.onRun?.(run);
        if (TERMINAL.has(run.state)) return run;
      }
    } catch (e) {
      if (o.signal?.aborted) throw new WatchStopped(runId, run);
      // Before the first snapshot a failure is the caller's to see; after it, the control
      // plane may be restarting, so keep following for a while.
      if (!run || attempt >= retries) throw explain(e, conn.url);
      await sleep(1000, o.signal);
    }
  }
}

/** Folding WatchRun events into the run they describe: pure functions, proto in, proto out. */
import { RunEvent_Kind, State, type Run, type RunEvent, type Trial } from '@stratum/proto';

const TERMINAL: ReadonlySet<State> = new Set([State.SUCCEEDED, State.FAILED, State.CANCELLED]);

export function isTerminal(state: State): boolean {
  return TERMINAL.has(state);
}

/** The run after one event: a snapshot or run event replaces it, a trial event updates one trial. */
export function applyRunEvent(run: Run | undefined, event: RunEvent): Run | undefined {
  if (event.run && (event.kind === RunEvent_Kind.SNAPSHOT || event.kind === RunEvent_Kind.RUN)) return event.run;
  if (event.kind === RunEvent_Kind.TRIAL && event.trial && run) {
    const trial = event.trial;
    const i = run.trials.findIndex((t) => t.id === trial.id);
    const trials: Trial[] = i >= 0 ? run.trials.map((t, j) => (j === i ? trial : t)) : [...run.trials, trial];
    return { ...run, trials };
  }
  return run;
}

export interface TrialCounts {
  readonly pending: number;
  readonly running: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly cancelled: number;
}

export function trialCounts(run: Run): TrialCounts {
  const n = (s: State): number => run.trials.filter((t) => t.state === s).length;
  return {
    pending: n(State.PENDING) + n(State.UNSPECIFIED),
    running: n(State.RUNNING),
    succeeded: n(State.SUCCEEDED),
    failed: n(State.FAILED),
    cancelled: n(State.CANCELLED),
  };
}

/** Fraction of the run's work done, counting running trials by their progress. */
export function runFraction(run: Run): number {
  if (run.trials.length === 0) return isTerminal(run.state) ? 1 : 0;
  const done = run.trials.filter((t) => isTerminal(t.state)).length;
  const partial = run.trials.filter((t) => t.state === State.RUNNING).reduce((a, t) => a + t.progress, 0);
  return Math.min(1, (done + partial) / run.trials.length);
}

export const stateName = (s: State): string => State[s]?.toLowerCase() ?? 'unknown';

/**
 * Typed failures of trainer plugins. Callers (the worker, the scheduler's retry policy) branch
 * on `code`, not on message text: an invalid parameter will fail again on retry, a training
 * failure may not.
 */
export type TrainerErrorCode =
  /** A hyper-parameter is missing a valid value or unknown to the trainer. */
  | 'INVALID_PARAM'
  /** The training data or layer stack cannot be used (shapes, labels, task). */
  | 'INVALID_INPUT'
  /** No plugin has the requested name. */
  | 'UNKNOWN_TRAINER'
  /** A serialised model could not be loaded. */
  | 'INVALID_STATE'
  /** Training itself failed (including the synthetic trainer's injected faults). */
  | 'TRAINING_FAILED';

export interface TrainerErrorOptions {
  readonly code?: TrainerErrorCode;
  readonly param?: string;
  readonly cause?: unknown;
}

export class TrainerError extends Error {
  override readonly name = 'TrainerError';
  readonly code: TrainerErrorCode;
  /** The parameter at fault, for INVALID_PARAM. */
  readonly param?: string;

  constructor(
    readonly trainer: string,
    message: string,
    options: TrainerErrorOptions = {},
  ) {
    super(`${trainer}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? 'TRAINING_FAILED';
    if (options.param !== undefined) this.param = options.param;
  }
}

/** Rejection value when `TrainInput.signal` aborts: `name === 'AbortError'`, as fetch and timers use. */
export class TrainingAbortedError extends Error {
  override readonly name = 'AbortError';
  constructor(
    readonly trainer: string,
    readonly reason?: unknown,
  ) {
    super(`${trainer}: training aborted`);
  }
}

export function throwIfAborted(trainer: string, signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new TrainingAbortedError(trainer, signal.reason);
}

/** Wraps anything a library threw so the trainer's name travels with it. */
export function asTrainerError(trainer: string, err: unknown, code: TrainerErrorCode = 'TRAINING_FAILED'): Error {
  if (err instanceof TrainerError || err instanceof TrainingAbortedError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new TrainerError(trainer, message, { code, cause: err });
}

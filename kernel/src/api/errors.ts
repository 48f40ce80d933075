/**
 * Errors of the notebook API and the magics. Each names itself (`ename`) and says what happened
 * in one line (`message`); `details` are further lines (every diagnostic, a usage text). The
 * kernel shows them as Jupyter `error` outputs without a stack trace: they are the user's to fix,
 * not the kernel's.
 */
import { ValidateSpecResponseSchema, type ValidateSpecResponse } from '@stratum/proto';
import { SpecProblems } from '@stratum/server/dist/cli/client-commands';
import { UsageError } from '@stratum/server/dist/cli/args';

import { relocate, type SpecOrigin } from './diagnostics';

export class StratumError extends Error {
  constructor(
    readonly ename: string,
    message: string,
    readonly details: readonly string[] = [],
  ) {
    super(message);
    this.name = ename;
  }
}

/** Profiling and deployment: the control plane has no engine for them yet. */
export class NotAvailableError extends StratumError {
  constructor(what: string) {
    super(
      'NotAvailable',
      `${what} is not available yet in this control plane: it has no ${/profil/.test(what) ? 'profiler' : 'deployment engine'} yet`,
    );
  }
}

/** The control plane could not be reached at all. */
export class UnreachableError extends StratumError {
  constructor(url: string, cause: string) {
    super(
      'ConnectionError',
      `cannot reach the Stratum control plane at ${url} (${cause}); is \`stratum serve\` running? ` +
        'Set STRATUM_SERVER (or --server) to its address.',
    );
  }
}

/** A pipeline spec with problems; the message is the first, `details` has them all. */
export class SpecLineError extends StratumError {
  constructor(readonly lines: readonly string[]) {
    super('SpecError', lines[0] ?? 'invalid pipeline spec', lines);
  }
}

/** gRPC status codes the kernel tells apart (the numbers of `Code` in @connectrpc/connect). */
export const CODE = {
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  FailedPrecondition: 9,
  Unimplemented: 12,
  Unavailable: 14,
} as const;

/** A ConnectError, recognised by shape (the kernel does not depend on @connectrpc/connect). */
export interface ConnectErrorLike extends Error {
  readonly code: number;
  readonly rawMessage: string;
  /** Details of the type `schema` describes (a generated `...Schema`). */
  findDetails(schema: unknown): unknown[];
}

export function isConnectError(e: unknown): e is ConnectErrorLike {
  return e instanceof Error && e.name === 'ConnectError' && typeof (e as Partial<ConnectErrorLike>).code === 'number';
}

const CODE_NAMES: Record<number, string> = {
  1: 'cancelled',
  2: 'unknown',
  3: 'invalid argument',
  4: 'deadline exceeded',
  5: 'not found',
  6: 'already exists',
  7: 'permission denied',
  8: 'resource exhausted',
  9: 'failed precondition',
  10: 'aborted',
  11: 'out of range',
  12: 'unimplemented',
  13: 'internal',
  14: 'unavailable',
  15: 'data loss',
  16: 'unauthenticated',
};

/**
 * Turns whatever a call to the control plane threw into a StratumError: an unreachable server
 * becomes one ConnectionError, spec diagnostics point at the lines the user wrote (`origin`).
 */
export function explain(e: unknown, url: string, origin?: SpecOrigin): unknown {
  if (e instanceof StratumError || e instanceof UsageError) return e;
  if (e instanceof SpecProblems) return new SpecLineError(e.diagnostics.map((d) => relocate(d, origin)));
  if (!isConnectError(e)) return e;
  const unreachable =
    e.code === CODE.Unavailable ||
    e.code === CODE.DeadlineExceeded ||
    /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|ECONNRESET|ETIMEDOUT|EAI_AGAIN/.test(e.rawMessage);
  if (unreachable) return new UnreachableError(url, e.rawMessage.replace(/^Error: /, ''));
  if (e.code === CODE.InvalidArgument) {
    const details = e.findDetails(ValidateSpecResponseSchema) as ValidateSpecResponse[];
    const diagnostics = details.flatMap((d) => d.diagnostics);
    if (diagnostics.length > 0) return new SpecLineError(diagnostics.map((d) => relocate(d, origin)));
  }
  return new StratumError('ControlPlaneError', `${CODE_NAMES[e.code] ?? `code ${e.code}`}: ${e.rawMessage}`);
}

/** What a Jupyter `error` output carries. */
export interface ErrorContent {
  readonly ename: string;
  readonly evalue: string;
  readonly traceback: string[];
}

/** Errors the user caused read as one line and its details; anything else keeps its stack. */
export function errorContent(e: unknown, usageOf?: (command: string) => string | undefined): ErrorContent {
  if (e instanceof UsageError) {
    const usage = e.command ? usageOf?.(e.command) : undefined;
    return {
      ename: 'UsageError',
      evalue: e.message,
      traceback: [`UsageError: ${e.message}`, ...(usage ? ['', usage] : [])],
    };
  }
  if (e instanceof StratumError) {
    const rest = e.details.filter((l, i) => i > 0 || l !== e.message);
    return { ename: e.ename, evalue: e.message, traceback: [`${e.ename}: ${e.message}`, ...rest] };
  }
  if (e instanceof Error) {
    return { ename: e.name, evalue: e.message, traceback: (e.stack ?? `${e.name}: ${e.message}`).split('\n') };
  }
  return { ename: 'Error', evalue: String(e), traceback: [String(e)] };
}

/**
 * The console tslab's executor reports through: compile diagnostics and thrown errors. The
 * kernel collects them per execution to answer with a Jupyter `error` (ename, evalue,
 * traceback) instead of text on stderr; the value of a cell's last expression still goes to
 * stdout, as in tslab.
 */
import type { ConsoleInterface } from 'tslab/dist/executor';
import { format } from 'node:util';

import { errorContent, type ErrorContent } from '../api/errors';

export class CapturingConsole implements ConsoleInterface {
  private errors: unknown[][] = [];

  log(message?: unknown, ...rest: unknown[]): void {
    console.log(message, ...rest);
  }

  error(message?: unknown, ...rest: unknown[]): void {
    this.errors.push([message, ...rest]);
  }

  /** Returns what was reported since the last call, and forgets it. */
  take(): unknown[][] {
    const taken = this.errors;
    this.errors = [];
    return taken;
  }
}

const INTERRUPTED = /^Interrupted asynchronously$|^Script execution was interrupted/;

/** The frames of a cell's own code, without the kernel's and tslab's frames below them. */
function cellFrames(traceback: string[]): string[] {
  const cut = traceback.findIndex((l) =>
    /^\s+at (sigintHandlersWrap|Script\.runInThisContext|.*tslab[\\/]dist)/.test(l),
  );
  return cut < 0 ? traceback : traceback.slice(0, cut);
}

/**
 * What a failed TypeScript cell reported, as one Jupyter error: a thrown value is reported
 * alone, compile diagnostics as format strings with their positions.
 */
export function cellError(reported: readonly unknown[][]): ErrorContent {
  const thrown = reported.find((args) => args.length === 1);
  if (thrown) {
    const e = thrown[0];
    if (e instanceof Error && INTERRUPTED.test(e.message)) {
      return { ename: 'KeyboardInterrupt', evalue: e.message, traceback: [`KeyboardInterrupt: ${e.message}`] };
    }
    const content = errorContent(e);
    return { ...content, traceback: cellFrames(content.traceback) };
  }
  const lines = reported.map((args) => format(...args));
  return {
    ename: 'CompileError',
    evalue: lines[0] ?? 'the cell failed',
    traceback: lines.length ? lines : ['CompileError: the cell failed'],
  };
}

/** Lines reported by a cell that succeeded (diagnostics of a module cell), for stderr. */
export function reportedText(reported: readonly unknown[][]): string {
  return reported.map((args) => format(...args) + '\n').join('');
}

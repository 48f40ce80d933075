/**
 * The kernel's request handler: tslab's JupyterHandlerImpl, wrapped. A cell whose first line
 * starts with `%stratum` or `%%stratum` goes to the magics; every other cell goes to tslab's
 * executor unchanged (TypeScript and JavaScript, top-level await, `display`), and so do
 * kernel_info, is_complete, inspect and complete requests on code that is not a magic.
 * Executions run one at a time in arrival order, in this handler's queue (for magics and code
 * alike); a failed one aborts those queued behind it, as in IPython.
 */
import type { Executor } from 'tslab/dist/executor';
import * as tslabJupyter from 'tslab/dist/jupyter';
import type { JupyterHandlerImpl } from 'tslab/dist/jupyter';

import { setCellOutput } from '../api/cell';
import { errorContent, StratumError, type ErrorContent } from '../api/errors';
import type { Stratum } from '../api/stratum';
import { completeMagic, inspectMagic, isMagicComplete } from '../magics/assist';
import { magicUsage } from '../magics/commands';
import { isMagicCell } from '../magics/parse';
import { runMagicCell } from '../magics/run';
import { cellError, reportedText, type CapturingConsole } from './capture';
import { bindingCode, putBinding } from './bindings';
import type { KernelOutput } from './output';

const KERNEL_INFO = {
  implementation: 'stratum-ts',
  implementation_version: '0.1.0',
  banner: 'Stratum (TypeScript): tslab with %stratum magics (%stratum help)',
};

type Inner = Pick<
  JupyterHandlerImpl,
  'handleKernel' | 'handleIsComplete' | 'handleInspect' | 'handleComplete' | 'handleShutdown' | 'close'
>;

export interface ExecuteRequest {
  readonly code: string;
  readonly silent?: boolean;
  readonly store_history?: boolean;
  readonly stop_on_error?: boolean;
}

export type ExecuteReply =
  | { status: 'ok'; execution_count: number; payload: []; user_expressions: Record<string, never> }
  | ({ status: 'error'; execution_count: number } & ErrorContent)
  | { status: 'abort'; execution_count: number };

export class StratumHandler {
  private count = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private arrived = 0;
  /** Requests that arrived up to this one are aborted (a request before them failed). */
  private abortThrough = 0;

  constructor(
    private readonly inner: Inner,
    private readonly executor: Pick<Executor, 'execute' | 'interrupt'>,
    private readonly stratum: Stratum,
    private readonly reports: CapturingConsole,
    private readonly cwd: string = process.cwd(),
  ) {}

  handleKernel(): ReturnType<Inner['handleKernel']> & { status: 'ok' } {
    // tslab's reply lacks `status`, which protocol 5.1 and later require.
    return { ...this.inner.handleKernel(), ...KERNEL_INFO, status: 'ok' };
  }

  handleExecute(req: ExecuteRequest, out: KernelOutput): Promise<ExecuteReply> {
    const seq = ++this.arrived;
    const task = this.queue.then(() => {
      if (seq <= this.abortThrough) return { status: 'abort' as const, execution_count: this.count };
      return this.execute(req, out);
    });
    this.queue = task.catch(() => undefined);
    return task;
  }

  private async execute(req: ExecuteRequest, out: KernelOutput): Promise<ExecuteReply> {
    if (!req.silent && req.store_history !== false) this.count++;
    const execution_count = this.count;
    setCellOutput(out);
    // Whatever goes wrong, the client gets its execute_reply: a rejected promise here would
    // leave the cell busy forever.
    const error = await (isMagicCell(req.code) ? this.magic(req.code, out) : this.typescript(req, out)).catch(
      (e: unknown) => errorContent(e),
    );
    if (!error) return { status: 'ok', execution_count, payload: [], user_expressions: {} };
    if (req.stop_on_error !== false) this.abortThrough = this.arrived;
    if (!req.silent) out.error(error);
    return { status: 'error', execution_count, ...error };
  }

  /** What tslab's handler does for a cell (streams to this cell, `display` here), minus its queue. */
  private async typescript(req: ExecuteRequest, out: KernelOutput): Promise<ErrorContent | undefined> {
    process.stdout.write = out.writer('stdout');
    process.stderr.write = out.writer('stderr');
    // tslab's `display` writes through this module variable (tslab/dist/public.js).
    (tslabJupyter as { lastWriteDisplayData: typeof out.displayData }).lastWriteDisplayData = out.displayData;
    this.reports.take();
    const ok = await this.executor.execute(req.code);
    const reported = this.reports.take();
    if (ok) {
      if (reported.length) out.stream('stderr', reportedText(reported));
      return undefined;
    }
    return cellError(reported);
  }

  private async magic(code: string, out: KernelOutput): Promise<ErrorContent | undefined> {
    // What the magics print goes to this cell, as tslab does for TypeScript cells.
    process.stdout.write = out.writer('stdout');
    process.stderr.write = out.writer('stderr');
    try {
      await runMagicCell(code, {
        stratum: this.stratum,
        out,
        cwd: this.cwd,
        bind: (name, value, type) => this.bind(name, value, type),
      });
      return undefined;
    } catch (e) {
      return errorContent(e, magicUsage);
    }
  }

  /** Declares `name` in the TypeScript session, typed, holding `value`. */
  private async bind(name: string, value: unknown, type: string): Promise<void> {
    putBinding(name, value);
    this.reports.take();
    if (await this.executor.execute(bindingCode(name, type))) return;
    const why = this.reports.take().map((args) => args.map(String).join(' '));
    throw new StratumError('BindError', `could not bind ${name} in the TypeScript session`, why);
  }

  handleIsComplete(req: { code: string }): ReturnType<Inner['handleIsComplete']> {
    return isMagicCell(req.code) ? { status: isMagicComplete(req.code), indent: '' } : this.inner.handleIsComplete(req);
  }

  handleInspect(req: { code: string; cursor_pos: number; detail_level: 0 | 1 }): ReturnType<Inner['handleInspect']> {
    if (!isMagicCell(req.code)) return this.inner.handleInspect(req);
    return { status: 'ok', found: true, data: { 'text/plain': inspectMagic(req.code, req.cursor_pos) }, metadata: {} };
  }

  handleComplete(req: { code: string; cursor_pos: number }): ReturnType<Inner['handleComplete']> {
    if (!isMagicCell(req.code)) return this.inner.handleComplete(req);
    const c = completeMagic(req.code, req.cursor_pos, {
      pipelines: () => this.stratum.pipelines.names(),
      cwd: this.cwd,
    });
    return { matches: c.matches, cursor_start: c.cursorStart, cursor_end: c.cursorEnd, metadata: {}, status: 'ok' };
  }

  handleShutdown(req: { restart: boolean }): ReturnType<Inner['handleShutdown']> {
    this.stratum.interrupt();
    return { restart: Boolean(req.restart) };
  }

  /** SIGINT: stops watches (runs go on) and tslab's pending await. */
  interrupt(): void {
    this.stratum.interrupt();
    this.executor.interrupt();
  }

  close(): void {
    this.stratum.interrupt();
    this.inner.close();
  }
}

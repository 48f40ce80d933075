/**
 * The wrapped handler with a stand-in for tslab's executor: which cells go where, the order
 * and abort rules of the queue, errors as Jupyter error messages, and interrupts.
 */
import { Stratum } from '../../api/stratum';
import { CapturingConsole } from '../capture';
import { StratumHandler, type ExecuteReply } from '../handler';
import { kernelOutput } from '../output';

class FakeExecutor {
  readonly executed: string[] = [];
  interrupted = 0;
  constructor(private readonly reports: CapturingConsole) {}

  async execute(src: string): Promise<boolean> {
    this.executed.push(src);
    if (src.startsWith('fail')) {
      this.reports.error('%s%d:%d - %s', '', 1, 1, `Cannot find name '${src}'.`);
      return false;
    }
    if (src.startsWith('throw')) {
      this.reports.error(new TypeError('x is not a function'));
      return false;
    }
    if (src.startsWith('slow')) await new Promise((r) => setTimeout(r, 20));
    if (src.startsWith('crash')) throw new RangeError('executor broke');
    return true;
  }

  interrupt(): void {
    this.interrupted++;
  }
}

const inner = {
  handleKernel: () => ({
    protocol_version: '5.3',
    implementation: 'tslab',
    implementation_version: '1.0.0',
    language_info: { name: 'typescript', version: '3.7.2', mimetype: 'text/typescript', file_extension: '.ts' },
    banner: 'TypeScript',
  }),
  handleIsComplete: () => ({ status: 'complete' as const }),
  handleInspect: () => ({ status: 'ok' as const, found: false, data: {}, metadata: {} }),
  handleComplete: () => ({
    cursor_start: 0,
    cursor_end: 0,
    matches: ['fromTslab'],
    metadata: {},
    status: 'ok' as const,
  }),
  handleShutdown: () => ({ restart: false }),
  close: () => undefined,
};

function setup() {
  const reports = new CapturingConsole();
  const executor = new FakeExecutor(reports);
  const stratum = new Stratum({ STRATUM_SERVER: 'http://127.0.0.1:9' });
  const handler = new StratumHandler(inner, executor, stratum, reports, process.cwd());
  const messages: { type: string; content: Record<string, unknown> }[] = [];
  const out = () =>
    kernelOutput((type, content) => messages.push({ type, content: content as Record<string, unknown> }));
  return { handler, executor, messages, out, stratum };
}

// The handler redirects process.stdout/stderr to the cell, as tslab does; put them back.
const { write: stdoutWrite } = process.stdout;
const { write: stderrWrite } = process.stderr;
afterEach(() => {
  process.stdout.write = stdoutWrite;
  process.stderr.write = stderrWrite;
});

describe('StratumHandler', () => {
  it('sends TypeScript to the executor and %stratum cells to the magics', async () => {
    const { handler, executor, messages, out } = setup();
    expect(await handler.handleExecute({ code: 'const a = 1' }, out())).toMatchObject({
      status: 'ok',
      execution_count: 1,
    });
    const help = await handler.handleExecute({ code: '%stratum help runs' }, out());
    expect(help).toMatchObject({ status: 'ok', execution_count: 2 });
    expect(executor.executed).toEqual(['const a = 1']);
    expect(messages).toEqual([
      { type: 'stream', content: { name: 'stdout', text: expect.stringMatching(/^%stratum runs\n/) } },
    ]);
  });

  it('answers a failed cell with one error message and an error reply naming it', async () => {
    const { handler, messages, out } = setup();
    const r = (await handler.handleExecute({ code: 'fail' }, out())) as Extract<ExecuteReply, { status: 'error' }>;
    expect(r).toMatchObject({ status: 'error', ename: 'CompileError', evalue: "1:1 - Cannot find name 'fail'." });
    const thrown = await handler.handleExecute({ code: 'throw' }, out());
    expect(thrown).toMatchObject({ ename: 'TypeError', evalue: 'x is not a function' });
    const magic = await handler.handleExecute({ code: '%stratum train' }, out());
    expect(magic).toMatchObject({ ename: 'UsageError', evalue: 'train needs NAME|SPEC' });
    expect(messages.map((m) => m.type)).toEqual(['error', 'error', 'error']);
    expect(messages[2]!.content.traceback).toEqual(
      expect.arrayContaining([expect.stringMatching(/^%stratum train NAME\|SPEC/)]),
    );
  });

  it('answers with an error reply when the executor itself throws, and keeps going', async () => {
    const { handler, messages, out } = setup();
    const r = await handler.handleExecute({ code: 'crash' }, out());
    expect(r).toMatchObject({ status: 'error', ename: 'RangeError', evalue: 'executor broke' });
    expect(messages.map((m) => m.type)).toEqual(['error']);
    expect(await handler.handleExecute({ code: 'after' }, out())).toMatchObject({ status: 'ok', execution_count: 2 });
  });

  it('runs executions in arrival order and aborts those queued behind a failure', async () => {
    const { handler, executor, out } = setup();
    const replies = await Promise.all([
      handler.handleExecute({ code: 'slow 1' }, out()),
      handler.handleExecute({ code: 'fail 2' }, out()),
      handler.handleExecute({ code: 'three' }, out()),
      handler.handleExecute({ code: 'four', stop_on_error: false }, out()),
    ]);
    expect(replies.map((r) => r.status)).toEqual(['ok', 'error', 'abort', 'abort']);
    expect(executor.executed).toEqual(['slow 1', 'fail 2']);
    expect(await handler.handleExecute({ code: 'five' }, out())).toMatchObject({ status: 'ok', execution_count: 3 });
  });

  it('counts only executions that store history', async () => {
    const { handler, out } = setup();
    await handler.handleExecute({ code: 'a', silent: true }, out());
    await handler.handleExecute({ code: 'b', store_history: false }, out());
    expect(await handler.handleExecute({ code: 'c' }, out())).toMatchObject({ execution_count: 1 });
  });

  it('gives one clear message when the control plane cannot be reached', async () => {
    const { handler, messages, out } = setup();
    const r = await handler.handleExecute({ code: '%stratum status' }, out());
    expect(r).toMatchObject({ status: 'error', ename: 'ConnectionError' });
    const { evalue, traceback } = messages[0]!.content as { evalue: string; traceback: string[] };
    expect(evalue).toMatch(
      /^cannot reach the Stratum control plane at http:\/\/127\.0\.0\.1:9 \(.*\); is `stratum serve` running\?/,
    );
    expect(traceback).toEqual([`ConnectionError: ${evalue}`]);
  });

  it('routes completion, inspection and is_complete by the kind of cell', () => {
    const { handler } = setup();
    expect(handler.handleComplete({ code: 'Mat', cursor_pos: 3 }).matches).toEqual(['fromTslab']);
    expect(handler.handleComplete({ code: '%stratum mod', cursor_pos: 12 }).matches).toEqual(['models']);
    expect(handler.handleInspect({ code: '%stratum runs', cursor_pos: 2, detail_level: 0 }).data['text/plain']).toMatch(
      /^%stratum runs\n/,
    );
    expect(handler.handleIsComplete({ code: '%%stratum pipeline p' })).toEqual({ status: 'incomplete', indent: '' });
    expect(handler.handleKernel()).toMatchObject({
      implementation: 'stratum-ts',
      language_info: { name: 'typescript' },
    });
  });

  it('interrupts the executor and every watch', () => {
    const { handler, executor, stratum } = setup();
    const spy = jest.spyOn(stratum, 'interrupt');
    handler.interrupt();
    expect(executor.interrupted).toBe(1);
    expect(spy).toHaveBeenCalledTimes(1);
  });
});

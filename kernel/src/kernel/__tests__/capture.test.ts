import { CapturingConsole, cellError, reportedText } from '../capture';

describe('cellError', () => {
  it('names compile diagnostics as a CompileError, one line each', () => {
    const c = new CapturingConsole();
    c.error('%s%d:%d - %s', '', 2, 5, "Cannot find name 'y'.");
    c.error('%s%d:%d - %s', '', 3, 1, "';' expected.");
    expect(cellError(c.take())).toEqual({
      ename: 'CompileError',
      evalue: "2:5 - Cannot find name 'y'.",
      traceback: ["2:5 - Cannot find name 'y'.", "3:1 - ';' expected."],
    });
    expect(c.take()).toEqual([]);
  });

  it("keeps a thrown error's own frames, not the kernel's below them", () => {
    const e = new RangeError('too far');
    e.stack = [
      'RangeError: too far',
      '    at evalmachine.<anonymous>:2:7',
      '    at Script.runInThisContext (node:vm:135:14)',
      '    at Object.execute (/repo/node_modules/tslab/dist/executor.js:150:42)',
    ].join('\n');
    expect(cellError([[e]])).toEqual({
      ename: 'RangeError',
      evalue: 'too far',
      traceback: ['RangeError: too far', '    at evalmachine.<anonymous>:2:7'],
    });
  });

  it('reports an interrupt as KeyboardInterrupt and a thrown non-error as it is', () => {
    expect(cellError([[new Error('Interrupted asynchronously')]]).ename).toBe('KeyboardInterrupt');
    expect(cellError([['just a string']])).toEqual({
      ename: 'Error',
      evalue: 'just a string',
      traceback: ['just a string'],
    });
  });
});

describe('reportedText', () => {
  it('formats what a successful cell reported, for stderr', () => {
    expect(reportedText([['%s %d', 'a', 1], ['b']])).toBe('a 1\nb\n');
  });
});

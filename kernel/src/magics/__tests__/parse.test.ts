import { UsageError } from '@stratum/server/dist/cli/args';

import { isMagicCell, magicArgv, parseMagicCell } from '../parse';

describe('isMagicCell', () => {
  it('takes cells whose first non-blank line starts with %stratum or %%stratum', () => {
    expect(isMagicCell('%stratum status')).toBe(true);
    expect(isMagicCell('\n  %%stratum pipeline p\nkind: Pipeline')).toBe(true);
    expect(isMagicCell('%stratum')).toBe(true);
  });

  it('leaves TypeScript and other magics-looking text to tslab', () => {
    expect(isMagicCell('const x = 1;\n%stratum status')).toBe(false);
    expect(isMagicCell('%stratumx status')).toBe(false);
    expect(isMagicCell('// %stratum status')).toBe(false);
    expect(isMagicCell('')).toBe(false);
  });
});

describe('parseMagicCell', () => {
  it('parses line magics with the CLI grammar', () => {
    const [inv] = parseMagicCell('%stratum train penguins --as run --watch=false');
    expect(inv!.command).toEqual({ command: 'train', args: ['penguins'], flags: { as: 'run', watch: false } });
  });

  it('runs several %stratum lines of one cell in order, skipping blank lines', () => {
    const invs = parseMagicCell('%stratum status\n\n%stratum runs --limit 3');
    expect(invs.map((i) => [i.command.command, i.line])).toEqual([
      ['status', 1],
      ['runs', 3],
    ]);
    expect(invs[1]!.command.flags).toEqual({ limit: 3 });
  });

  it('keeps the body of %%stratum pipeline as YAML', () => {
    const [inv] = parseMagicCell('%%stratum pipeline p\napiVersion: stratum/v1\nkind: Pipeline');
    expect(inv!.command.args).toEqual(['p']);
    expect(inv!.body).toBe('apiVersion: stratum/v1\nkind: Pipeline');
  });

  it('keeps predict JSON raw, on the line or in the cell body', () => {
    const line = parseMagicCell(`%stratum predict http://h:1 --model m {"rows": [{"a b": "x y"}]}`)[0]!;
    expect(line.command.args).toEqual(['http://h:1', '{"rows": [{"a b": "x y"}]}']);
    expect(line.command.flags).toEqual({ model: 'm' });
    const cell = parseMagicCell('%%stratum predict http://h:1/v2/models/m\n[{"a": 1},\n {"a": 2}]')[0]!;
    expect(cell.command.args).toEqual(['http://h:1/v2/models/m', '[{"a": 1},\n {"a": 2}]']);
  });

  it('turns --help and a bare %stratum into help', () => {
    expect(magicArgv('train --help')).toEqual(['help', 'train']);
    expect(magicArgv('')).toEqual(['help']);
    expect(parseMagicCell('%stratum')[0]!.command.command).toBe('help');
  });

  it('names mistakes with the CLI parser, with a suggestion and the cell line', () => {
    expect(() => parseMagicCell('%stratum trian p')).toThrow('unknown command "trian" (did you mean train?)');
    expect(() => parseMagicCell('%stratum status\n%stratum train p --wacth')).toThrow(
      'cell line 2: unknown flag --wacth for train (did you mean --watch?)',
    );
    expect(() => parseMagicCell('%stratum train')).toThrow(UsageError);
  });

  it('refuses TypeScript mixed into a magic cell and a pipeline without its YAML', () => {
    expect(() => parseMagicCell('%stratum status\nconst x = 1;')).toThrow(/cell line 2: a %stratum cell holds only/);
    expect(() => parseMagicCell('%stratum pipeline p')).toThrow(/pipeline needs its YAML/);
    expect(() => parseMagicCell('%%stratum status\nsomething')).toThrow(/takes no cell body/);
  });
});

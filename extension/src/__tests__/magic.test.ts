import { isStratumCell, pipelineCell, pipelineName } from '../magic/template';
import { lineMagicRanges, tokenizeStratumCell, tokenizeYamlLine, type TokenRange } from '../magic/yaml-tokens';

const texts = (line: string, tokens: TokenRange[]) => tokens.map((t) => [line.slice(t.from, t.to), t.type]);

describe('YAML tokens of %%stratum cells', () => {
  it('colours keys, scalars, comments and punctuation of a block mapping line', () => {
    const line = '  source: penguins.json  # relative to the notebook';
    expect(texts(line, tokenizeYamlLine(line))).toEqual([
      ['source', 'key'],
      [':', 'punct'],
      ['# relative to the notebook', 'comment'],
    ]);
  });

  it('finds keys inside flow mappings and leaves plain words alone', () => {
    const line = '  - fillMissing: { columns: [Sex], strategy: mostFrequent }';
    const kinds = texts(line, tokenizeYamlLine(line));
    expect(kinds).toContainEqual(['fillMissing', 'key']);
    expect(kinds).toContainEqual(['columns', 'key']);
    expect(kinds).toContainEqual(['strategy', 'key']);
    expect(kinds).not.toContainEqual(['Sex', 'key']);
    expect(kinds).not.toContainEqual(['mostFrequent', 'key']);
  });

  it('types numbers, booleans, $references and quoted strings', () => {
    const line = 'a: [1, -2.5e3, true, $units, "x: y", \'z\']';
    const kinds = texts(line, tokenizeYamlLine(line));
    expect(kinds).toEqual(
      expect.arrayContaining([
        ['1', 'number'],
        ['-2.5e3', 'number'],
        ['true', 'atom'],
        ['$units', 'atom'],
        ['"x: y"', 'string'],
        ["'z'", 'string'],
      ]),
    );
  });

  it('marks the magic line and offsets body tokens into the document', () => {
    const cell = '%%stratum pipeline p\nmetadata: { name: p }';
    const tokens = tokenizeStratumCell(cell);
    expect(tokens[0]).toEqual({ from: 0, to: 20, type: 'magic' });
    expect(texts(cell, tokens)).toContainEqual(['metadata', 'key']);
    expect(tokenizeStratumCell('const x = 1;')).toEqual([]);
  });

  it('finds %stratum line magics in code cells', () => {
    const code = 'const a = 1;\n%stratum train p --watch\n';
    expect(texts(code, lineMagicRanges(code))).toEqual([['%stratum train p --watch', 'magic']]);
  });
});

describe('the pipeline cell template', () => {
  it('names pipelines as the spec requires', () => {
    expect(pipelineName(' My Penguins_2 ')).toBe('my-penguins-2');
    expect(pipelineName('---')).toBe('pipeline');
    expect(pipelineName('x'.repeat(80))).toHaveLength(63);
  });

  it('starts with the magic line and carries the name into the spec', () => {
    const cell = pipelineCell('Penguins');
    expect(cell.split('\n')[0]).toBe('%%stratum pipeline penguins');
    expect(cell).toContain('  name: penguins\n');
    expect(isStratumCell(cell)).toBe(true);
    expect(isStratumCell('%stratum train penguins')).toBe(false);
  });
});

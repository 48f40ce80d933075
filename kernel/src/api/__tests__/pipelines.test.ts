import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { SpecLineError } from '../errors';
import { describePipeline, PipelineStore } from '../pipelines';

const REPO = join(__dirname, '..', '..', '..', '..');
const PENGUINS = join(REPO, 'node_modules', 'vega-datasets', 'data', 'penguins.json');

const spec = (source: string, trainer = 'decision-tree') => `apiVersion: stratum/v1
kind: Pipeline
metadata: { name: p }
data: { source: ${source} }
target: Species
features: [Beak Length (mm), Flipper Length (mm)]
transforms:
  - dropMissing: {}
task: classification
models:
  - name: tree
    trainer: ${trainer}
    params: { maxDepth: [2, 4] }
selection: { metric: accuracy }
`;

function thrown(fn: () => unknown): SpecLineError {
  try {
    fn();
  } catch (e) {
    if (e instanceof SpecLineError) return e;
    throw e;
  }
  throw new Error('expected a SpecLineError');
}

describe('PipelineStore', () => {
  it('defines a pipeline from a cell body and describes it', () => {
    const store = new PipelineStore();
    const p = store.define('penguins', spec(PENGUINS));
    expect(store.names()).toEqual(['penguins']);
    expect(describePipeline(p)).toBe(
      `pipeline penguins: classification of Species by accuracy, 1 candidate model(s), 2 trial(s); data ${PENGUINS}`,
    );
    expect(store.resolve('penguins')).toBe(p);
  });

  it("points a mistake at the cell's line: the YAML's line + 1", () => {
    const e = thrown(() => new PipelineStore().define('p', spec(PENGUINS, 'decision-tre')));
    // `trainer:` is on YAML line 12, so on cell line 13 under `%%stratum pipeline p`.
    expect(e.ename).toBe('SpecError');
    expect(e.message).toMatch(/^pipeline p, cell line 13, column 14: models\[0\]\.trainer: .*decision-tree/);
  });

  it('resolves a relative data source against the directory given (the notebook) and checks it exists', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stratum-nb-'));
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'rows.json'), '[]');
    expect(new PipelineStore().define('p', spec('data/rows.json'), dir).specPath).toBe(join(dir, 'p.yaml'));
    const e = thrown(() => new PipelineStore().define('p', spec('data/missing.json'), dir));
    expect(e.message).toBe(
      `pipeline p, cell line 5, column 17: data.source: data file not found: ${join(dir, 'data', 'missing.json')}`,
    );
  });

  it('resolves YAML files with file:line:column diagnostics', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stratum-nb-'));
    writeFileSync(join(dir, 'bad.yaml'), spec(PENGUINS, 'decision-tre'));
    const e = thrown(() => new PipelineStore().resolve('bad.yaml', dir));
    expect(e.message).toMatch(/^bad\.yaml:12:14: models\[0\]\.trainer:/);
  });

  it('names an unknown pipeline with the nearest one and how to define it', () => {
    const store = new PipelineStore();
    store.define('penguins', spec(PENGUINS));
    expect(() => store.resolve('penguin')).toThrow(
      'no pipeline "penguin" (did you mean penguins?); pipelines in this session: penguins. ' +
        'Define it with %%stratum pipeline penguin and its YAML, or give a .yaml file path.',
    );
    expect(() => store.resolve('missing.yaml', tmpdir())).toThrow(/spec file not found/);
    expect(() => store.define('1bad', spec(PENGUINS))).toThrow(/must start with a letter/);
  });
});

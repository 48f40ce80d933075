import { checkSpec, expandSearchSpace, parseSpec, type PipelineSpec } from '..';
import { gridPoints, shareTrials } from '../search-space';
import { BASE, edit, fixture } from './helpers';

const load = (text: string): PipelineSpec => parseSpec(text, 'spec.yaml').spec;

/** BASE with its models replaced by `models` (YAML lines under `models:`) and a search block. */
function spec(models: string, search = ''): string {
  const head = BASE.slice(0, BASE.indexOf('models:\n'));
  const tail = BASE.slice(BASE.indexOf('selection:'));
  return `${head}models:\n${models}${search ? `search:\n${search}` : ''}${tail}`;
}

describe('grid', () => {
  test('is the cartesian product per candidate, candidates in spec order', () => {
    const trials = expandSearchSpace(load(BASE));
    // forest: maxDepth ×2; mlp: units ×2 × learningRate ×3 (num: 3).
    expect(trials.map((t) => t.candidate)).toEqual(['forest', 'forest', ...Array(6).fill('mlp')]);
    expect(trials.map((t) => t.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(trials[2]?.params).toEqual({ units: 8, learningRate: 0.001 });
    expect(trials[3]?.params).toEqual({ units: 8, learningRate: 0.0505 });
    expect(trials[7]?.params).toEqual({ units: 16, learningRate: 0.1 });
  });

  test('integer ranges enumerate; steps and num take points; logRange takes 3 by default', () => {
    const text = spec(
      [
        '  - name: forest',
        '    trainer: random-forest',
        '    params:',
        '      maxDepth: { range: [2, 5] }',
        '      nEstimators: { range: [10, 50], step: 20 }',
        '      maxFeatures: { logRange: [0.01, 1] }',
        '      replacement: false',
        '',
      ].join('\n'),
    );
    const trials = expandSearchSpace(load(text));
    expect(trials).toHaveLength(4 * 3 * 3);
    expect(new Set(trials.map((t) => t.params.maxDepth))).toEqual(new Set([2, 3, 4, 5]));
    expect(new Set(trials.map((t) => t.params.nEstimators))).toEqual(new Set([10, 30, 50]));
    expect(new Set(trials.map((t) => t.params.maxFeatures))).toEqual(new Set([0.01, 0.1, 1]));
    expect(trials.every((t) => t.params.replacement === false)).toBe(true);
  });

  test('points are tidy and integer parameters stay whole', () => {
    expect(gridPoints({ range: [0, 0.3], step: 0.1 }, 'number')).toEqual([0, 0.1, 0.2, 0.3]);
    expect(gridPoints({ logRange: [1, 100], num: 4 }, 'integer')).toEqual([1, 5, 22, 100]);
    expect(gridPoints({ range: [1, 3], num: 5 }, 'integer')).toEqual([1, 2, 3]);
    expect(() => gridPoints({ range: [0, 1] }, 'number')).toThrow(RangeError);
  });

  test('maxTrials caps the total and shares it fairly, thinning each grid evenly', () => {
    const capped = load(edit(BASE, ['selection:', 'search:\n  maxTrials: 5\nselection:']));
    const trials = expandSearchSpace(capped);
    expect(trials).toHaveLength(5);
    expect(trials.map((t) => t.candidate)).toEqual(['forest', 'forest', 'mlp', 'mlp', 'mlp']);
    expect(trials.slice(2).map((t) => t.params)).toEqual([
      { units: 8, learningRate: 0.001 },
      { units: 8, learningRate: 0.1 },
      { units: 16, learningRate: 0.0505 },
    ]);
    expect(shareTrials([1, 10, 10], 7)).toEqual([1, 3, 3]);
    expect(shareTrials([2, 3], 10)).toEqual([2, 3]);
  });

  test('a grid that explodes is an error unless maxTrials caps it', () => {
    const huge = spec(
      [
        '  - name: forest',
        '    trainer: random-forest',
        '    params:',
        '      nEstimators: { range: [1, 1000] }',
        '      minSamplesLeaf: { range: [1, 1000] }',
        '',
      ].join('\n'),
    );
    const { diagnostics } = checkSpec(huge, 'spec.yaml');
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({
      field: 'models[0].params',
      message: expect.stringMatching(/1\.00e\+6 trials/),
    });
    const trials = expandSearchSpace(load(edit(huge, ['selection:', 'search:\n  maxTrials: 10\nselection:'])));
    expect(trials).toHaveLength(10);
  });

  test('seeds differ per trial and follow search.seed, then spec.seed', () => {
    const a = expandSearchSpace(load(BASE));
    expect(new Set(a.map((t) => t.seed)).size).toBe(a.length);
    const b = expandSearchSpace(load(`${BASE}seed: 3\n`));
    const c = expandSearchSpace(load(`${BASE}seed: 3\nsearch: { seed: 9 }\n`));
    const d = expandSearchSpace(load(`${BASE}search: { seed: 9 }\n`));
    expect(b.map((t) => t.seed)).not.toEqual(a.map((t) => t.seed));
    expect(c.map((t) => t.seed)).toEqual(d.map((t) => t.seed));
  });
});

describe('random', () => {
  const cars = load(fixture('cars.yaml'));

  test('draws search.samples points per candidate within their spaces', () => {
    const trials = expandSearchSpace(cars);
    expect(trials).toHaveLength(3 * 6);
    for (const t of trials.filter((x) => x.candidate === 'forest')) {
      expect(Number.isInteger(t.params.nEstimators)).toBe(true);
      expect(t.params.nEstimators).toBeGreaterThanOrEqual(10);
      expect(t.params.nEstimators).toBeLessThanOrEqual(100);
      expect(t.params.maxFeatures).toBeGreaterThanOrEqual(0.3);
      expect(t.params.maxFeatures).toBeLessThanOrEqual(1);
    }
    for (const t of trials.filter((x) => x.candidate === 'net')) {
      expect(t.params.learningRate).toBeGreaterThanOrEqual(0.0001);
      expect(t.params.learningRate).toBeLessThanOrEqual(0.01);
      expect([8, 16, 32]).toContain(t.params.hidden);
    }
  });

  test('is deterministic, and changes with the seed', () => {
    expect(expandSearchSpace(cars)).toEqual(expandSearchSpace(load(fixture('cars.yaml'))));
    const reseeded = load(edit(fixture('cars.yaml'), ['seed: 42', 'seed: 43']));
    expect(expandSearchSpace(reseeded).map((t) => t.params)).not.toEqual(expandSearchSpace(cars).map((t) => t.params));
  });

  test('adding a candidate leaves the others’ samples alone', () => {
    const more = load(
      edit(fixture('cars.yaml'), [
        '  - name: net',
        '  - name: ols2\n    trainer: linear-regression\n    params:\n      ridge: { range: [0, 2] }\n  - name: net',
      ]),
    );
    const before = expandSearchSpace(cars).filter((t) => t.candidate === 'net');
    const after = expandSearchSpace(more).filter((t) => t.candidate === 'net');
    expect(after.map((t) => [t.params, t.seed])).toEqual(before.map((t) => [t.params, t.seed]));
  });

  test('defaults to 10 samples; a fixed point is one trial; maxTrials caps', () => {
    const text = spec(
      [
        '  - name: fixed',
        '    trainer: decision-tree',
        '    params:',
        '      maxDepth: 4',
        '  - name: free',
        '    trainer: decision-tree',
        '    params:',
        '      maxDepth: { range: [1, 9] }',
        '',
      ].join('\n'),
      '  strategy: random\n',
    );
    const trials = expandSearchSpace(load(text));
    expect(trials.filter((t) => t.candidate === 'fixed')).toHaveLength(1);
    expect(trials.filter((t) => t.candidate === 'free')).toHaveLength(10);
    const capped = expandSearchSpace(
      load(text.replace('  strategy: random\n', '  strategy: random\n  maxTrials: 4\n')),
    );
    expect(capped.map((t) => t.candidate)).toEqual(['fixed', 'free', 'free', 'free']);
  });

  test('random search needs no step for a float range', () => {
    const text = spec(
      [
        '  - name: lr',
        '    trainer: logistic-regression',
        '    params:',
        '      learningRate: { range: [0.01, 0.5] }',
        '',
      ].join('\n'),
      '  strategy: random\n  samples: 3\n',
    );
    expect(checkSpec(text, 'spec.yaml').diagnostics).toEqual([]);
    expect(expandSearchSpace(load(text))).toHaveLength(3);
  });
});

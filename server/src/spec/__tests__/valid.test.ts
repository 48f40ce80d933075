import { checkSpec, parseSpec, SpecError } from '..';
import { BASE, CAR_COLUMNS, edit, fixture, PENGUIN_COLUMNS } from './helpers';

describe('a full classification spec (penguins)', () => {
  const text = fixture('penguins.yaml');

  test('is valid against the data set columns', () => {
    const { spec, diagnostics } = checkSpec(text, 'penguins.yaml', { columns: PENGUIN_COLUMNS });
    expect(diagnostics).toEqual([]);
    expect(spec?.file).toBe('penguins.yaml');
    expect(spec?.text).toBe(text);
    expect(spec?.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  test('loads with defaults filled in', () => {
    const { spec } = parseSpec(text, 'penguins.yaml', { columns: PENGUIN_COLUMNS });
    expect(spec.selection.goal).toBe('maximize');
    expect(spec.search?.strategy).toBe('grid');
    expect(spec.models.map((m) => m.trainer)).toEqual([
      'random-forest',
      'decision-tree',
      'logistic-regression',
      'tfjs',
    ]);
    expect(spec.models[3]?.resources).toEqual({ cpus: 2, memory: '512Mi' });
    expect(spec.models[3]?.layers?.[0]).toEqual({ dense: { units: '$units', activation: 'relu' } });
    expect(spec.transforms?.[2]).toEqual({ fillMissing: { strategy: 'median' } });
    expect(spec.deploy).toEqual({ tier: 'edge', qos: { p99: '50ms', rps: 100 }, minReplicas: 0, maxReplicas: 3 });
  });
});

describe('a regression spec (cars)', () => {
  const text = fixture('cars.yaml');

  test('is valid against the data set columns, derived columns included', () => {
    expect(checkSpec(text, 'cars.yaml', { columns: CAR_COLUMNS }).diagnostics).toEqual([]);
  });

  test('takes its goal from the metric and fills schema defaults', () => {
    const { spec } = parseSpec(text, 'cars.yaml');
    expect(spec.selection.goal).toBe('minimize');
    expect(spec.search).toEqual({ strategy: 'random', samples: 6, seed: 42 });
    expect(spec.transforms?.[2]).toEqual({ fillMissing: { columns: ['Horsepower'], strategy: 'mean' } });
  });

  test('a derived column exists only for the steps after its derive', () => {
    const early = edit(text, [
      'expr: Horsepower > 0 and not isnull(Miles_per_Gallon)',
      "expr: '`Power To Weight` > 0'",
    ]);
    const ds = checkSpec(early, 'cars.yaml', { columns: CAR_COLUMNS }).diagnostics;
    expect(ds.map((d) => [d.field, d.line, d.column, d.message])).toEqual([
      ['transforms[0].filter.expr', 11, 14, 'unknown column "Power To Weight" in expression'],
    ]);
    const moved = edit(text, ['columns: [Horsepower, Weight_in_lbs,', 'columns: [Power To Weight, Weight_in_lbs,']);
    const dropped = edit(moved, [
      '  - derive:\n      name: Power To Weight\n      expr: Horsepower / Weight_in_lbs\n',
      '',
    ]);
    const { diagnostics } = checkSpec(dropped, 'cars.yaml', { columns: CAR_COLUMNS });
    expect(diagnostics.map((d) => d.field)).toEqual(['features[6]', 'transforms[3].standardize.columns[0]']);
  });
});

describe('defaults and hashing', () => {
  test('a goal and a strategy spelled out give the same hash as the defaults', () => {
    const spelled = `${BASE.replace('  metric: accuracy', '  metric: accuracy\n  goal: maximize')}search: { strategy: grid }\n`;
    expect(parseSpec(spelled, 'a.yaml').hash).toBe(parseSpec(BASE, 'b.yaml').hash);
  });

  test('defaults inside unions are filled from the branch the spec chose', () => {
    const { spec } = parseSpec(`${BASE}split: { holdout: { stratify: true } }\n`, 'a.yaml');
    expect(spec.split).toEqual({ holdout: { stratify: true, test: 0.2 } });
    expect(spec.selection).toEqual({ metric: 'accuracy', goal: 'maximize' });
  });

  test('key order and comments do not change the hash; a value does', () => {
    const reordered = `# comment\n${BASE.split('\n').slice(14).join('\n')}\n${BASE.split('\n').slice(0, 14).join('\n')}\n`;
    expect(parseSpec(reordered, 'a.yaml').hash).toBe(parseSpec(BASE, 'a.yaml').hash);
    expect(parseSpec(edit(BASE, ['[3, 5]', '[3, 6]']), 'a.yaml').hash).not.toBe(parseSpec(BASE, 'a.yaml').hash);
  });

  test('anchors and aliases may share values', () => {
    const text = edit(BASE, ['maxDepth: [3, 5]', 'maxDepth: &depths [3, 5]'], ['units: [8, 16]', 'units: *depths']);
    expect(parseSpec(text, 'a.yaml').spec.models[1]?.params?.units).toEqual([3, 5]);
  });

  test('parseSpec throws a SpecError carrying the diagnostics', () => {
    const bad = edit(BASE, ['metric: accuracy', 'metric: acuracy']);
    expect(() => parseSpec(bad, 'p.yaml')).toThrow(SpecError);
    try {
      parseSpec(bad, 'p.yaml');
    } catch (e) {
      expect((e as SpecError).diagnostics).toHaveLength(1);
      expect((e as SpecError).message).toMatch(/^p\.yaml:29:11: selection\.metric: unknown metric "acuracy"/);
    }
  });

  test('an alias bomb is refused, not expanded', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++)
      lines.push(
        `${'abcdefgh'[i]}: &${'abcdefgh'[i]} [${Array(10)
          .fill(`*${'abcdefgh'[i - 1]}`)
          .join(', ')}]`,
      );
    const { diagnostics } = checkSpec(`${lines.join('\n')}\n`, 'bomb.yaml');
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]?.message).toMatch(/aliases expand too far/);
  });
});

import { DataError } from '../errors';
import { encodeTarget, prepareFolds, preprocessRecords, type Preprocessor } from '../prepare';
import type { PipelineSpec } from '../../spec/schema';
import { frameOf, thrown, vega, vegaRecords } from './helpers';

function pipeline(over: Partial<PipelineSpec>): PipelineSpec {
  return {
    apiVersion: 'stratum/v1',
    kind: 'Pipeline',
    metadata: { name: 'test' },
    data: { source: 'x.json' },
    target: 'y',
    task: 'classification',
    models: [{ name: 'm', trainer: 'logistic' }],
    selection: { metric: 'accuracy' },
    ...over,
  };
}

const penguinSpec = pipeline({
  target: 'Species',
  transforms: [{ fillMissing: { strategy: 'mean' } }, { oneHot: { columns: ['Island', 'Sex'] } }, { standardize: {} }],
  seed: 42,
});

describe('prepareFolds on penguins', () => {
  test('holdout: stratified, one-hot layout, classes sorted, no missing features', async () => {
    const frame = await vega('penguins.json', 'json');
    const { folds, full, classes } = prepareFolds(frame, penguinSpec);
    expect(classes).toEqual(['Adelie', 'Chinstrap', 'Gentoo']);
    expect(folds).toHaveLength(1);
    const [fold] = folds;
    expect(fold!.train.x.length + fold!.test.x.length).toBe(344);
    expect(fold!.test.x.length).toBe(69);
    const pre = fold!.preprocessor;
    expect(pre.featureNames.slice(0, 3)).toEqual(['Island=Biscoe', 'Island=Dream', 'Island=Torgersen']);
    expect(pre.featureNames).toContain('Beak Length (mm)');
    expect(pre.featureNames.filter((n) => n.startsWith('Sex='))).toEqual(
      expect.arrayContaining(['Sex=FEMALE', 'Sex=MALE']),
    );
    expect(pre.inputs).toEqual([
      { name: 'Island', kind: 'string' },
      { name: 'Beak Length (mm)', kind: 'number' },
      { name: 'Beak Depth (mm)', kind: 'number' },
      { name: 'Flipper Length (mm)', kind: 'number' },
      { name: 'Body Mass (g)', kind: 'number' },
      { name: 'Sex', kind: 'string' },
    ]);
    expect(pre).toMatchObject({
      target: 'Species',
      task: 'classification',
      classes: ['Adelie', 'Chinstrap', 'Gentoo'],
    });
    for (const row of [...fold!.train.x, ...fold!.test.x]) {
      expect(row).toHaveLength(pre.featureNames.length);
      expect(row.every(Number.isFinite)).toBe(true);
    }
    // Stratified: test class counts are proportional to the whole (152 / 68 / 124 of 344).
    const testCounts = [0, 1, 2].map((c) => fold!.test.y.filter((y) => y === c).length);
    expect(testCounts).toEqual([30, 14, 25]);
    // Standardized on the training rows: mean ≈ 0 there.
    const col = pre.featureNames.indexOf('Body Mass (g)');
    expect(Math.abs(fold!.train.x.reduce((s, r) => s + r[col]!, 0) / fold!.train.x.length)).toBeLessThan(1e-9);
    expect(full.data.x).toHaveLength(344);
    // Deterministic.
    expect(prepareFolds(frame, penguinSpec).folds[0]!.test.y).toEqual(fold!.test.y);
  });

  test('preprocessRecords on raw records reproduces the prepared rows, also after JSON', async () => {
    const frame = await vega('penguins.json', 'json');
    const records = vegaRecords('penguins.json');
    const { full } = prepareFolds(frame, penguinSpec);
    const pre = JSON.parse(JSON.stringify(full.preprocessor)) as Preprocessor;
    const x = preprocessRecords(pre, records);
    expect(x).toHaveLength(344);
    x.forEach((row, i) => expect(Array.from(row)).toEqual(Array.from(full.data.x[i]!)));
  });

  test('k-fold: each row tested once; per-fold preprocessors', async () => {
    const frame = await vega('penguins.json', 'json');
    const { folds, full } = prepareFolds(frame, { ...penguinSpec, split: { kfold: { k: 5 } } });
    expect(folds).toHaveLength(5);
    expect(folds.reduce((n, f) => n + f.test.x.length, 0)).toBe(344);
    expect(folds[0]!.preprocessor.fitted).not.toEqual(full.preprocessor.fitted);
  });

  test('a text feature without oneHot, and missing values left over, are refused with the fix', async () => {
    const frame = await vega('penguins.json', 'json');
    const noOneHot = thrown(() =>
      prepareFolds(frame, pipeline({ target: 'Species', transforms: [{ fillMissing: { strategy: 'mean' } }] })),
    ) as DataError;
    expect(noOneHot).toBeInstanceOf(DataError);
    expect(noOneHot.message).toMatch(/^feature "Island" is text; add a oneHot transform for it/);
    const noFill = thrown(() => prepareFolds(frame, pipeline({ target: 'Species', features: ['Beak Length (mm)'] })));
    expect(noFill.message).toMatch(
      /^feature "Beak Length \(mm\)" has \d+ missing values? in the (training|test) rows after transforms; add fillMissing or dropMissing/,
    );
    expect(thrown(() => prepareFolds(frame, pipeline({ target: 'species' }))).message).toBe(
      'target "species" is not a column of the data (did you mean "Species")',
    );
    expect(
      thrown(() => prepareFolds(frame, pipeline({ target: 'Species', features: ['Beak Lenght (mm)'] }))).message,
    ).toBe('feature "Beak Lenght (mm)" is not a column of the data (did you mean "Beak Length (mm)")');
  });
});

describe('prepareFolds on cars (regression)', () => {
  const carSpec = pipeline({
    target: 'Miles_per_Gallon',
    task: 'regression',
    features: ['Cylinders', 'Horsepower', 'Weight_in_lbs', 'Origin'],
    transforms: [
      { derive: { name: 'power_to_weight', expr: 'Horsepower / Weight_in_lbs * 1000' } },
      { dropMissing: {} },
      { oneHot: { columns: ['Origin'] } },
      { standardize: { columns: ['Horsepower', 'Weight_in_lbs', 'power_to_weight'] } },
    ],
    split: { holdout: { test: 0.25, seed: 1 } },
  });

  test('rows without target dropped, derived feature added, serving inputs minimal', async () => {
    const frame = await vega('cars.json', 'json');
    const { folds, full, classes } = prepareFolds(frame, carSpec);
    expect(classes).toBeUndefined();
    const fold = folds[0]!;
    expect(fold.preprocessor.featureNames).toEqual([
      'Cylinders',
      'Horsepower',
      'Weight_in_lbs',
      'Origin=Europe',
      'Origin=Japan',
      'Origin=USA',
      'power_to_weight',
    ]);
    expect(fold.preprocessor.inputs.map((i) => i.name)).toEqual(['Cylinders', 'Horsepower', 'Weight_in_lbs', 'Origin']);
    // 406 cars, 8 without MPG; dropMissing also drops the 6 without horsepower.
    expect(full.data.x).toHaveLength(392);
    expect(fold.train.y.every(Number.isFinite)).toBe(true);
    const records = vegaRecords('cars.json').filter((r) => r.Miles_per_Gallon !== null && r.Horsepower !== null);
    const x = preprocessRecords(full.preprocessor, records);
    x.forEach((row, i) => expect(Array.from(row)).toEqual(Array.from(full.data.x[i]!)));
  });

  test('serving: absent fields, wrong types and unfillable nulls name the record and field', async () => {
    const { full } = prepareFolds(await vega('cars.json', 'json'), carSpec);
    const ok = { Cylinders: 4, Horsepower: 90, Weight_in_lbs: 2000, Origin: 'Mars' };
    expect(preprocessRecords(full.preprocessor, [ok])[0]!.slice(3, 6)).toEqual(Float64Array.of(0, 0, 0));
    const absent = thrown(() =>
      preprocessRecords(full.preprocessor, [ok, { Cylinders: 4, Horsepower: 90, Origin: 'USA' }]),
    ) as DataError;
    expect(absent.message).toBe('record 1 lacks field "Weight_in_lbs" (send null for an unknown value)');
    expect(absent.context).toEqual({ row: 1, column: 'Weight_in_lbs' });
    expect(thrown(() => preprocessRecords(full.preprocessor, [{ ...ok, Horsepower: '90' }])).message).toBe(
      'record 0, field "Horsepower" must be a number or null, got the string "90"',
    );
    expect(thrown(() => preprocessRecords(full.preprocessor, [{ ...ok, Origin: 3 }])).message).toBe(
      'record 0, field "Origin" must be a string or null, got number 3',
    );
    expect(thrown(() => preprocessRecords(full.preprocessor, [{ ...ok, Horsepower: null }])).message).toBe(
      'record 0: feature "Horsepower" is missing after preprocessing (null fields: "Horsepower"); the model was not trained to fill it',
    );
  });
});

describe('encodeTarget', () => {
  test('numeric classes sort numerically; regression needs numbers', () => {
    const f = frameOf({ n: [10, 2, 2, 1], s: ['b', 'a', 'b', 'c'] });
    expect(encodeTarget(f.columns.get('n')!, 'classification', 'n')).toEqual({
      y: Float64Array.of(2, 1, 1, 0),
      classes: ['1', '2', '10'],
    });
    expect(encodeTarget(f.columns.get('s')!, 'classification', 's').classes).toEqual(['a', 'b', 'c']);
    expect(thrown(() => encodeTarget(f.columns.get('s')!, 'regression', 's')).message).toMatch(
      /regression needs a numeric target/,
    );
    expect(thrown(() => encodeTarget(f.columns.get('s')!, 'classification', 's', ['a', 'b'])).message).toMatch(
      /class "c" at row 3/,
    );
  });

  test('a single class is refused', () => {
    const f = frameOf({ x: [1, 2, 3], y: ['a', 'a', 'a'] });
    expect(thrown(() => prepareFolds(f, pipeline({}))).message).toMatch(/at least 2 classes/);
  });
});

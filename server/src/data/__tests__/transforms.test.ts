import { DataError } from '../errors';
import { applyTransforms, fitTransforms, type FittedTransforms } from '../transforms';
import type { TransformSpec } from '../../spec/schema';
import { frameOf, plain, thrown, vega } from './helpers';

const f = frameOf({
  a: [1, null, 3, 4],
  b: [10, 10, 10, 10],
  c: ['x', null, 'y', 'x'],
  t: [0, 1, null, 1],
});

const fit = (transforms: TransformSpec[], target = 't') => fitTransforms(f, transforms, { target });

describe('fillMissing', () => {
  test('mean by default, on number columns only, never the target', () => {
    const { frame } = fit([{ fillMissing: { strategy: 'mean' } }]);
    expect(plain(frame)).toEqual({
      a: [1, 8 / 3, 3, 4],
      b: [10, 10, 10, 10],
      c: ['x', null, 'y', 'x'],
      t: [0, 1, NaN, 1],
    });
  });

  test('median, mostFrequent and constant', () => {
    expect(plain(fit([{ fillMissing: { strategy: 'median', columns: ['a'] } }]).frame).a).toEqual([1, 3, 3, 4]);
    expect(plain(fit([{ fillMissing: { strategy: 'mostFrequent' } }]).frame).c).toEqual(['x', 'x', 'y', 'x']);
    const constant = fit([{ fillMissing: { strategy: 'constant', value: 'none' } }]).frame;
    expect(plain(constant).c).toEqual(['x', 'none', 'y', 'x']);
    expect(plain(constant).a).toEqual([1, NaN, 3, 4]);
    expect(plain(fit([{ fillMissing: { strategy: 'constant', value: -1 } }]).frame).a).toEqual([1, -1, 3, 4]);
  });

  test('errors name the step and column', () => {
    const e = thrown(() =>
      fit([{ standardize: {} }, { fillMissing: { strategy: 'mean', columns: ['c'] } }]),
    ) as DataError;
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toBe(
      'transforms[1] (fillMissing): column "c" is text; strategy "mean" needs numbers (use mostFrequent or constant)',
    );
    expect(e.context).toEqual({ step: 1, column: 'c' });
    expect(thrown(() => fit([{ fillMissing: { strategy: 'constant' } }])).message).toMatch(/needs a `value`/);
    expect(thrown(() => fit([{ fillMissing: { strategy: 'mean', columns: ['t'] } }])).message).toBe(
      'transforms[0] (fillMissing): "t" is the target column; the target is never transformed',
    );
    expect(thrown(() => fit([{ fillMissing: { strategy: 'mean', columns: ['aa'] } }])).message).toBe(
      'transforms[0] (fillMissing): unknown column "aa" (did you mean "a")',
    );
  });
});

describe('standardize', () => {
  test('(x - mean) / std with population std; constant columns become 0; missing stays missing', () => {
    const { frame, fitted } = fit([{ standardize: {} }]);
    const std = Math.sqrt(((1 - 8 / 3) ** 2 + (3 - 8 / 3) ** 2 + (4 - 8 / 3) ** 2) / 3);
    expect(plain(frame).a).toEqual([(1 - 8 / 3) / std, NaN, (3 - 8 / 3) / std, (4 - 8 / 3) / std]);
    expect(plain(frame).b).toEqual([0, 0, 0, 0]);
    expect(plain(frame).t).toEqual([0, 1, NaN, 1]);
    expect(fitted.steps[0]).toMatchObject({
      kind: 'standardize',
      columns: [{ column: 'a' }, { column: 'b', mean: 10, std: 1 }],
    });
  });
});

describe('oneHot', () => {
  test('sorted categories in place of the column; missing and unseen → zeros', () => {
    const { frame, fitted } = fit([{ oneHot: { columns: ['c'] } }]);
    expect(frame.names).toEqual(['a', 'b', 'c=x', 'c=y', 't']);
    expect(plain(frame)['c=x']).toEqual([1, 0, 0, 1]);
    expect(plain(frame)['c=y']).toEqual([0, 0, 1, 0]);
    const served = applyTransforms(fitted, frameOf({ a: [1, 2], b: [3, 4], c: ['z', 'y'] }), { training: false });
    expect(plain(served)).toEqual({ a: [1, 2], b: [3, 4], 'c=x': [0, 0], 'c=y': [0, 1] });
  });

  test('identifier-like and oversized encodings are refused before allocating', () => {
    const ids = frameOf({ id: Array.from({ length: 1001 }, (_, i) => `n${i}`) });
    expect(thrown(() => fitTransforms(ids, [{ oneHot: { columns: ['id'] } }])).message).toBe(
      'transforms[0] (oneHot): column "id" has 1001 distinct values (limit 1000); it looks like an identifier, not a category',
    );
    const big = frameOf({ c: Array.from({ length: 300000 }, (_, i) => `c${i % 1000}`) });
    expect(thrown(() => fitTransforms(big, [{ oneHot: { columns: ['c'] } }])).message).toMatch(
      /column "c" would expand to 1000 columns × 300000 rows, more than 268435456 values; set data.limit/,
    );
  });

  test('number columns use their printed values, sorted numerically', () => {
    const { frame } = fitTransforms(frameOf({ n: [8, 4, 10, 4] }), [{ oneHot: { columns: ['n'] } }]);
    expect(frame.names).toEqual(['n=4', 'n=8', 'n=10']);
  });
});

describe('derive and filter', () => {
  test('derive adds or replaces a column; filter keeps true rows only when training', () => {
    const { frame, fitted } = fit([
      { derive: { name: 'r', expr: 'a / b' } },
      { derive: { name: 'a', expr: 'coalesce(a, 0) * 2' } },
      { filter: { expr: "c == 'x'" } },
    ]);
    expect(plain(frame)).toEqual({ a: [2, 8], b: [10, 10], c: ['x', 'x'], t: [0, 1], r: [0.1, 0.4] });
    const served = applyTransforms(fitted, frameOf({ a: [5, null], b: [1, 1], c: ['y', null] }), { training: false });
    expect(plain(served)).toEqual({ a: [10, 0], b: [1, 1], c: ['y', null], r: [5, NaN] });
  });

  test('expression errors carry the step and the offset in the expression', () => {
    const e = thrown(() => fit([{ derive: { name: 'r', expr: 'a / bb' } }])) as DataError;
    expect(e.message).toBe('transforms[0] (derive): unknown column "bb" at 4 (did you mean "b") in "a / bb"');
    expect(e.context).toEqual({ step: 0, offset: 4, length: 2 });
    expect(thrown(() => fit([{ filter: { expr: 'a >' } }])).message).toMatch(
      /^transforms\[0\] \(filter\): unexpected end/,
    );
    expect(thrown(() => fit([{ derive: { name: 'r', expr: 'a + s' } }])).message).toMatch(/unknown column "s"/);
    expect(thrown(() => fit([{ derive: { name: 'r', expr: 'a + c' } }])).message).toMatch(
      /needs numbers, but column "c" is text/,
    );
    expect(thrown(() => fit([{ derive: { name: 'r', expr: 't * 2' } }])).message).toMatch(
      /reads the target column "t"/,
    );
    expect(thrown(() => fit([{ derive: { name: 't', expr: 'a' } }])).message).toMatch(/"t" is the target column/);
  });

  test('a filter may read the target', () => {
    expect(fit([{ filter: { expr: 't == 1' } }]).frame.rows).toBe(2);
  });
});

describe('dropMissing', () => {
  test('default: all columns but the target; rows kept at serving time', () => {
    const { frame, fitted } = fit([{ dropMissing: {} }]);
    expect(plain(frame)).toEqual({ a: [1, 3, 4], b: [10, 10, 10], c: ['x', 'y', 'x'], t: [0, NaN, 1] });
    expect(applyTransforms(fitted, f, { training: false }).rows).toBe(4);
    expect(fit([{ dropMissing: { columns: ['t'] } }]).frame.rows).toBe(3);
  });
});

test('fit → JSON → apply reproduces the fitted frame (penguins)', async () => {
  const penguins = await vega('penguins.json', 'json');
  const transforms: TransformSpec[] = [
    { derive: { name: 'ratio', expr: '`Beak Length (mm)` / `Beak Depth (mm)`' } },
    { fillMissing: { strategy: 'median' } },
    { fillMissing: { strategy: 'mostFrequent', columns: ['Sex'] } },
    { oneHot: { columns: ['Island', 'Sex'] } },
    { standardize: {} },
    { filter: { expr: '`Body Mass (g)` > -3' } },
  ];
  const { fitted, frame } = fitTransforms(penguins, transforms, { target: 'Species' });
  const restored = JSON.parse(JSON.stringify(fitted)) as FittedTransforms;
  expect(restored).toEqual(fitted);
  const again = applyTransforms(restored, penguins, { training: true });
  expect(plain(again)).toEqual(plain(frame));
  expect(frame.names).toEqual([
    'Species',
    'Island=Biscoe',
    'Island=Dream',
    'Island=Torgersen',
    'Beak Length (mm)',
    'Beak Depth (mm)',
    'Flipper Length (mm)',
    'Body Mass (g)',
    'Sex=.', // the real data set has one "." for Sex
    'Sex=FEMALE',
    'Sex=MALE',
    'ratio',
  ]);
});

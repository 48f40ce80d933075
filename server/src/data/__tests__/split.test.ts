import fc from 'fast-check';
import { DataError } from '../errors';
import { holdoutSplit, kfoldSplit } from '../split';
import { thrown } from './helpers';

const count = (xs: readonly number[], by: Float64Array, c: number): number => xs.filter((i) => by[i] === c).length;

describe('holdoutSplit', () => {
  test('deterministic by seed; a partition of the rows with the asked test share', () => {
    const [a] = holdoutSplit(100, { test: 0.2, seed: 7 });
    const [b] = holdoutSplit(100, { test: 0.2, seed: 7 });
    const [c] = holdoutSplit(100, { test: 0.2, seed: 8 });
    expect(a).toEqual(b);
    expect(a!.test).not.toEqual(c!.test);
    expect(a!.test).toHaveLength(20);
    expect([...a!.train, ...a!.test].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(a!.train).toEqual([...a!.train].sort((x, y) => x - y));
  });

  test('stratified: each class keeps its proportion', () => {
    // 60 / 30 / 10 rows of classes 0 / 1 / 2, interleaved.
    const by = Float64Array.from({ length: 100 }, (_, i) => (i % 10 < 6 ? 0 : i % 10 < 9 ? 1 : 2));
    const [fold] = holdoutSplit(100, { test: 0.2, seed: 3, stratifyBy: by });
    expect([0, 1, 2].map((c) => count(fold!.test, by, c))).toEqual([12, 6, 2]);
    expect([0, 1, 2].map((c) => count(fold!.train, by, c))).toEqual([48, 24, 8]);
  });

  test('stratified: a singleton class stays in the training set', () => {
    const by = Float64Array.from([0, 0, 0, 0, 1, 1, 1, 1, 2]);
    for (let seed = 0; seed < 20; seed++) {
      const [fold] = holdoutSplit(9, { test: 0.4, seed, stratifyBy: by });
      expect(fold!.test).toHaveLength(4);
      expect(count(fold!.train, by, 2)).toBe(1);
    }
  });

  test('property: sizes add up, no overlap, every class in train', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 2, maxLength: 200 }),
        fc.double({ min: 0.05, max: 0.95, noNaN: true }),
        fc.nat(),
        (classes, test, seed) => {
          const by = Float64Array.from(classes);
          const [fold] = holdoutSplit(classes.length, { test, seed, stratifyBy: by });
          const seen = new Set([...fold!.train, ...fold!.test]);
          expect(seen.size).toBe(classes.length);
          expect(fold!.test.length).toBe(Math.min(classes.length - 1, Math.max(1, Math.round(classes.length * test))));
          for (const c of new Set(classes))
            expect(count(fold!.train, by, c) + count(fold!.test, by, c)).toBe(classes.filter((x) => x === c).length);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('errors', () => {
    expect(thrown(() => holdoutSplit(1, { test: 0.2, seed: 0 }))).toBeInstanceOf(DataError);
    expect(thrown(() => holdoutSplit(10, { test: 1, seed: 0 })).message).toMatch(/in \(0, 1\)/);
  });
});

describe('kfoldSplit', () => {
  test('every row tested exactly once; folds differ in size by at most one; deterministic', () => {
    const folds = kfoldSplit(23, { k: 5, seed: 1 });
    expect(folds).toEqual(kfoldSplit(23, { k: 5, seed: 1 }));
    expect(folds).toHaveLength(5);
    const tested = folds.flatMap((f) => f.test).sort((a, b) => a - b);
    expect(tested).toEqual(Array.from({ length: 23 }, (_, i) => i));
    const sizes = folds.map((f) => f.test.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    for (const f of folds) expect(f.train.length + f.test.length).toBe(23);
  });

  test('stratified folds share each class evenly', () => {
    const by = Float64Array.from({ length: 50 }, (_, i) => (i < 40 ? 0 : 1));
    for (const f of kfoldSplit(50, { k: 5, seed: 2, stratifyBy: by }))
      expect([count(f.test, by, 0), count(f.test, by, 1)]).toEqual([8, 2]);
  });

  test('errors', () => {
    expect(thrown(() => kfoldSplit(3, { k: 5, seed: 0 })).message).toBe(
      '5-fold cross-validation needs at least 5 rows, got 3',
    );
    expect(thrown(() => kfoldSplit(10, { k: 1, seed: 0 }))).toBeInstanceOf(DataError);
  });
});

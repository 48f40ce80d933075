/**
 * Row splits for evaluation. Pure functions of (n, options): the same seed gives the same
 * split on any machine (mulberry32 from util/random). Indices in each returned list are sorted
 * ascending, so a split keeps the data's row order; trainers shuffle for themselves.
 */
import { createRng, shuffled, type Rng } from '../util/random';
import { DataError } from './errors';

export interface Fold {
  readonly train: number[];
  readonly test: number[];
}

export interface HoldoutOptions {
  /** Fraction of rows in the test set, in (0, 1). */
  readonly test: number;
  readonly seed: number;
  /** Class of each row (e.g. the encoded target): each class keeps its share in both sets. */
  readonly stratifyBy?: Float64Array;
}

export interface KFoldOptions {
  readonly k: number;
  readonly seed: number;
  /** Class of each row: folds get near-equal shares of every class. */
  readonly stratifyBy?: Float64Array;
}

const ascending = (a: number, b: number): number => a - b;

/** Row indices grouped by class (NaN is a class of its own), groups in ascending class order. */
function groups(n: number, by: Float64Array): number[][] {
  if (by.length !== n)
    throw new DataError('split', `stratification needs one class per row: got ${by.length} for ${n} rows`);
  const map = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const key = Number.isNaN(by[i]!) ? Infinity : by[i]!;
    const g = map.get(key);
    if (g) g.push(i);
    else map.set(key, [i]);
  }
  return [...map.keys()].sort(ascending).map((key) => map.get(key)!);
}

/**
 * How many of each group go to the test set so the total is exactly `total`: floors of the
 * proportional shares, then the largest remainders, while never emptying a group's train side
 * if another group can take the row instead.
 */
function allocate(sizes: readonly number[], total: number): number[] {
  const n = sizes.reduce((a, b) => a + b, 0);
  const exact = sizes.map((s) => (s * total) / n);
  const counts = exact.map(Math.floor);
  let left = total - counts.reduce((a, b) => a + b, 0);
  const order = sizes.map((_, g) => g).sort((a, b) => exact[b]! - counts[b]! - (exact[a]! - counts[a]!) || a - b);
  for (const keepOne of [true, false]) {
    for (const g of order) {
      if (left === 0) break;
      if (counts[g]! < sizes[g]! - (keepOne ? 1 : 0) && exact[g]! > counts[g]!) {
        counts[g]!++;
        left--;
      }
    }
  }
  return counts;
}

export function holdoutSplit(n: number, opts: HoldoutOptions): Fold[] {
  if (!(opts.test > 0 && opts.test < 1))
    throw new DataError('split', `holdout test fraction must be in (0, 1), got ${opts.test}`);
  if (n < 2) throw new DataError('split', `a holdout split needs at least 2 rows, got ${n}`);
  const total = Math.min(n - 1, Math.max(1, Math.round(n * opts.test)));
  const rng = createRng(opts.seed);
  const all = Array.from({ length: n }, (_, i) => i);
  const parts = opts.stratifyBy ? groups(n, opts.stratifyBy) : [all];
  const counts = allocate(
    parts.map((p) => p.length),
    total,
  );
  const train: number[] = [];
  const test: number[] = [];
  parts.forEach((part, g) => {
    const order = shuffled(part, rng);
    test.push(...order.slice(0, counts[g]));
    train.push(...order.slice(counts[g]));
  });
  return [{ train: train.sort(ascending), test: test.sort(ascending) }];
}

/** Deals rows (shuffled within each class) round-robin into k folds; each row is tested exactly once. */
export function kfoldSplit(n: number, opts: KFoldOptions): Fold[] {
  const { k } = opts;
  if (!Number.isInteger(k) || k < 2) throw new DataError('split', `k-fold needs an integer k ≥ 2, got ${k}`);
  if (n < k) throw new DataError('split', `${k}-fold cross-validation needs at least ${k} rows, got ${n}`);
  const rng: Rng = createRng(opts.seed);
  const all = Array.from({ length: n }, (_, i) => i);
  const order = (opts.stratifyBy ? groups(n, opts.stratifyBy) : [all]).flatMap((g) => shuffled(g, rng));
  // One running position across classes: fold sizes differ by at most one, and so do a class's shares.
  const fold = new Int32Array(n);
  order.forEach((row, p) => (fold[row] = p % k));
  return Array.from({ length: k }, (_, j) => ({
    train: all.filter((i) => fold[i] !== j),
    test: all.filter((i) => fold[i] === j),
  }));
}

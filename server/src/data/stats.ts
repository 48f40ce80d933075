/** Column statistics that transforms learn at fit time; every one ignores missing values. */
import type { Column } from './types';

export function present(values: Float64Array): number[] {
  const out: number[] = [];
  for (const v of values) if (!Number.isNaN(v)) out.push(v);
  return out;
}

/** Mean and population standard deviation (ddof 0, as scikit-learn's StandardScaler). */
export function meanStd(values: Float64Array): { mean: number; std: number; count: number } {
  const xs = present(values);
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
  return { mean, std: Math.sqrt(variance), count: xs.length };
}

export function median(values: Float64Array): number {
  const xs = present(values).sort((a, b) => a - b);
  const mid = xs.length >> 1;
  return xs.length % 2 === 1 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2;
}

/** The most frequent present value; ties go to the smallest, so fits are reproducible. */
export function mostFrequent(column: Column): number | string | undefined {
  const counts = new Map<number | string, number>();
  for (const v of column.values) {
    if (v === null || (typeof v === 'number' && Number.isNaN(v))) continue;
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  let best: number | string | undefined;
  let bestCount = 0;
  for (const [v, c] of counts) {
    if (c > bestCount || (c === bestCount && best !== undefined && v < best)) {
      best = v;
      bestCount = c;
    }
  }
  return best;
}

/** Category label of a cell for one-hot encoding: the text itself, or the number as JS prints it. */
export function categoryOf(column: Column, i: number): string | null {
  if (column.kind === 'string') return column.values[i] ?? null;
  const v = column.values[i]!;
  return Number.isNaN(v) ? null : String(v);
}

/** Distinct present categories, sorted (numerically for number columns) so the layout is stable. */
export function categories(column: Column): string[] {
  if (column.kind === 'number') return [...new Set(present(column.values))].sort((a, b) => a - b).map(String);
  const set = new Set<string>();
  for (const v of column.values) if (v !== null) set.add(v);
  return [...set].sort();
}

/** Real data sets for the trainer tests (vega-datasets), prepared as a pipeline would. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRng, shuffled } from '../../util/random';

export interface Data {
  readonly x: Float64Array[];
  readonly y: Float64Array;
  readonly classes?: string[];
}

export interface Split {
  readonly train: Data;
  readonly test: Data;
}

/** The package's exports hide data/, so go from its entry point (build/index.js). */
function readJson(name: string): Record<string, unknown>[] {
  const file = path.join(path.dirname(require.resolve('vega-datasets')), '..', 'data', name);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>[];
}

function complete(records: Record<string, unknown>[], columns: readonly string[]): Record<string, number | string>[] {
  return records.filter((r) => columns.every((c) => r[c] !== null && r[c] !== undefined && r[c] !== 'NA')) as Record<
    string,
    number | string
  >[];
}

/** Z-scores each column (population std), as the pipeline's `standardize` transform does. */
export function standardize(x: readonly Float64Array[]): Float64Array[] {
  const d = x[0]!.length;
  const mean = new Float64Array(d);
  const sd = new Float64Array(d);
  for (const row of x) row.forEach((v, j) => (mean[j]! += v / x.length));
  for (const row of x) row.forEach((v, j) => (sd[j]! += (v - mean[j]!) ** 2 / x.length));
  return x.map((row) => Float64Array.from(row, (v, j) => (v - mean[j]!) / (Math.sqrt(sd[j]!) || 1)));
}

const PENGUIN_FEATURES = ['Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)'];

export function penguins(): Data {
  const rows = complete(readJson('penguins.json'), [...PENGUIN_FEATURES, 'Species']);
  const classes = [...new Set(rows.map((r) => String(r.Species)))].sort();
  return {
    x: standardize(rows.map((r) => Float64Array.from(PENGUIN_FEATURES, (c) => Number(r[c])))),
    y: Float64Array.from(rows, (r) => classes.indexOf(String(r.Species))),
    classes,
  };
}

const CAR_FEATURES = ['Horsepower', 'Weight_in_lbs', 'Displacement', 'Cylinders', 'Acceleration'];

export function cars(): Data {
  const rows = complete(readJson('cars.json'), [...CAR_FEATURES, 'Miles_per_Gallon']);
  return {
    x: standardize(rows.map((r) => Float64Array.from(CAR_FEATURES, (c) => Number(r[c])))),
    y: Float64Array.from(rows, (r) => Number(r.Miles_per_Gallon)),
  };
}

/** A seeded random holdout split. */
export function holdout(data: Data, testFraction: number, seed: number): Split {
  const order = shuffled(
    Array.from(data.y, (_, i) => i),
    createRng(seed),
  );
  const nTest = Math.round(order.length * testFraction);
  const pick = (idx: number[]): Data => ({
    x: idx.map((i) => data.x[i]!),
    y: Float64Array.from(idx, (i) => data.y[i]!),
    ...(data.classes ? { classes: data.classes } : {}),
  });
  return { test: pick(order.slice(0, nTest)), train: pick(order.slice(nTest)) };
}

export function accuracy(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  let hits = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) hits++;
  return hits / yTrue.length;
}

/** JSON.stringify → parse, as an artifact store round trip would do. */
export function viaJson(state: unknown): unknown {
  return JSON.parse(JSON.stringify(state)) as unknown;
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ColumnInfo } from '../../data/types';

export const fixture = (name: string): string => readFileSync(join(__dirname, 'fixtures', name), 'utf8');

export const PENGUIN_COLUMNS: readonly ColumnInfo[] = [
  { name: 'Species', kind: 'string' },
  { name: 'Island', kind: 'string' },
  { name: 'Beak Length (mm)', kind: 'number' },
  { name: 'Beak Depth (mm)', kind: 'number' },
  { name: 'Flipper Length (mm)', kind: 'number' },
  { name: 'Body Mass (g)', kind: 'number' },
  { name: 'Sex', kind: 'string' },
];

export const CAR_COLUMNS: readonly ColumnInfo[] = [
  { name: 'Name', kind: 'string' },
  { name: 'Miles_per_Gallon', kind: 'number' },
  { name: 'Cylinders', kind: 'number' },
  { name: 'Displacement', kind: 'number' },
  { name: 'Horsepower', kind: 'number' },
  { name: 'Weight_in_lbs', kind: 'number' },
  { name: 'Acceleration', kind: 'number' },
  { name: 'Year', kind: 'string' },
  { name: 'Origin', kind: 'string' },
];

/**
 * A small valid spec whose line numbers the malformed-spec tests rely on: keep it as is.
 * (Line numbers are shown on the right.)
 */
export const BASE = [
  'apiVersion: stratum/v1', // 1
  'kind: Pipeline', // 2
  'metadata:', // 3
  '  name: penguins', // 4
  'data:', // 5
  '  source: penguins.json', // 6
  'target: Species', // 7
  'features: [Island, Body Mass (g)]', // 8
  'transforms:', // 9
  '  - oneHot:', // 10
  '      columns: [Island]', // 11
  '  - derive:', // 12
  '      name: Mass Kg', // 13
  '      expr: "`Body Mass (g)` / 1000"', // 14
  'task: classification', // 15
  'models:', // 16
  '  - name: forest', // 17
  '    trainer: random-forest', // 18
  '    params:', // 19
  '      maxDepth: [3, 5]', // 20
  '  - name: mlp', // 21
  '    trainer: tfjs', // 22
  '    params:', // 23
  '      units: [8, 16]', // 24
  '      learningRate: { range: [0.001, 0.1], num: 3 }', // 25
  '    layers:', // 26
  '      - dense: { units: $units, activation: relu }', // 27
  'selection:', // 28
  '  metric: accuracy', // 29
  'resources:', // 30
  '  memory: 512Mi', // 31
  '',
].join('\n');

/** BASE with each `[from, to]` replaced once; throws if `from` is not in the text. */
export function edit(text: string, ...edits: [string, string][]): string {
  let out = text;
  for (const [from, to] of edits) {
    if (!out.includes(from)) throw new Error(`edit: ${JSON.stringify(from)} not found`);
    out = out.replace(from, to);
  }
  return out;
}

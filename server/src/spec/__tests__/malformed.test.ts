/**
 * One mistake, one diagnostic, at the exact place: each case edits the valid BASE spec once
 * and names the line, column and field the single diagnostic must carry.
 */
import { checkSpec, MAX_SPEC_BYTES } from '..';
import { type SpecDiagnostic } from '../errors';
import { BASE, edit, PENGUIN_COLUMNS } from './helpers';

interface Case {
  readonly name: string;
  readonly text: string;
  readonly at: [line: number, column: number];
  readonly field: string;
  readonly message: RegExp;
  readonly suggestion?: string;
  readonly columns?: boolean;
  /** Check against the cluster's tiers (TIERS). */
  readonly tiers?: boolean;
}

const TIERS = ['cloud', 'fog', 'edge'];
const withQos = (qos: string): string => edit(BASE, ['metric: accuracy', `metric: accuracy\n  qos: ${qos}`]);

const cases: Case[] = [
  {
    name: 'bad YAML indentation',
    text: edit(BASE, ['  source: penguins.json\n', '  source: penguins.json\n format: csv\n']),
    at: [7, 1],
    field: 'data',
    message: /^bad indentation: all mapping items must start at the same column/,
  },
  {
    name: 'a tab used for indentation',
    text: edit(BASE, ['  source: penguins.json', '\tsource: penguins.json']),
    at: [6, 1],
    field: 'data',
    message: /^tab character used for indentation/,
  },
  {
    name: 'a duplicate key',
    text: edit(BASE, ['target: Species\n', 'target: Species\ntarget: Island\n']),
    at: [8, 1],
    field: 'target',
    message: /^duplicate key/,
  },
  {
    name: 'a duplicate key in a nested mapping',
    text: edit(BASE, ['  source: penguins.json', '  source: penguins.json\n  source: cars.json']),
    at: [7, 3],
    field: 'data.source',
    message: /^duplicate key "source": each key may appear once in a mapping$/,
  },
  {
    name: 'a candidate resource (through $ref: Resources) out of bounds',
    text: edit(BASE, ['    trainer: tfjs\n', '    trainer: tfjs\n    resources: { cpus: 2, gpus: -1 }\n']),
    at: [23, 33],
    field: 'models[1].resources.gpus',
    message: /^must be at least 0, got -1$/,
  },
  {
    name: 'an unknown key in a candidate resource',
    text: edit(BASE, ['    trainer: tfjs\n', '    trainer: tfjs\n    resources: { gpu: 1 }\n']),
    at: [23, 18],
    field: 'models[1].resources.gpu',
    message: /^unknown key "gpu"$/,
    suggestion: 'gpus',
  },
  {
    name: 'an unknown top-level key, close to a missing required one',
    text: edit(BASE, ['task: classification', 'tsak: classification']),
    at: [15, 1],
    field: 'tsak',
    message: /^unknown key "tsak"$/,
    suggestion: 'task',
  },
  {
    name: 'an unknown nested key',
    text: edit(BASE, ['  source: penguins.json', '  source: penguins.json\n  fromat: csv']),
    at: [7, 3],
    field: 'data.fromat',
    message: /^unknown key "fromat"$/,
    suggestion: 'format',
  },
  {
    name: 'a value of the wrong type',
    text: edit(BASE, ['  memory: 512Mi', '  memory: [512]']),
    at: [31, 11],
    field: 'resources.memory',
    message: /^expected a number or a string, got a list$/,
  },
  {
    name: 'a missing target',
    text: edit(BASE, ['target: Species\n', '']),
    at: [1, 1],
    field: 'target',
    message: /^missing required key "target"$/,
  },
  {
    name: 'missing models',
    text: BASE.split('\n')
      .filter((_, i) => i < 15 || i > 26)
      .join('\n'),
    at: [1, 1],
    field: 'models',
    message: /^missing required key "models"$/,
  },
  {
    name: 'an unknown trainer',
    text: edit(BASE, ['trainer: random-forest', 'trainer: random-forrest']),
    at: [18, 14],
    field: 'models[0].trainer',
    message: /^unknown trainer "random-forrest"$/,
    suggestion: 'random-forest',
  },
  {
    name: 'a trainer that does not handle the task',
    text: edit(BASE, ['trainer: random-forest', 'trainer: linear-regression'], ['maxDepth: [3, 5]', 'ridge: [0, 1]']),
    at: [18, 14],
    field: 'models[0].trainer',
    message: /^trainer "linear-regression" does not support classification \(it handles regression\)$/,
  },
  {
    name: 'an unknown parameter',
    text: edit(BASE, ['maxDepth: [3, 5]', 'maxDeph: [3, 5]']),
    at: [20, 7],
    field: 'models[0].params.maxDeph',
    message: /^unknown parameter "maxDeph" for trainer "random-forest"$/,
    suggestion: 'maxDepth',
  },
  {
    name: 'a search-space value of the wrong type',
    text: edit(BASE, ['maxDepth: [3, 5]', 'maxDepth: [3, "x"]']),
    at: [20, 21],
    field: 'models[0].params.maxDepth[1]',
    message: /^expected an integer, got the string "x"$/,
  },
  {
    name: 'a parameter value out of bounds',
    text: edit(BASE, ['maxDepth: [3, 5]', 'maxDepth: [3, 500]']),
    at: [20, 21],
    field: 'models[0].params.maxDepth[1]',
    message: /^must be at most 64, got 500$/,
  },
  {
    name: 'an empty search-space list',
    text: edit(BASE, ['maxDepth: [3, 5]', 'maxDepth: []']),
    at: [20, 17],
    field: 'models[0].params.maxDepth',
    message: /^must not be empty$/,
  },
  {
    name: 'a range whose low end is above its high end',
    text: edit(BASE, ['range: [0.001, 0.1]', 'range: [0.5, 0.1]']),
    at: [25, 30],
    field: 'models[1].params.learningRate.range',
    message: /^range \[0.5, 0.1\] is empty/,
  },
  {
    name: 'a float range under grid search without step or num',
    text: edit(BASE, ['range: [0.001, 0.1], num: 3', 'range: [0.001, 0.1]']),
    at: [25, 23],
    field: 'models[1].params.learningRate.range',
    message: /^a range of floats needs "step" or "num" under grid search/,
  },
  {
    name: 'a range with both step and num',
    text: edit(BASE, ['range: [0.001, 0.1], num: 3', 'range: [0.001, 0.1], step: 0.01, num: 3']),
    at: [25, 56],
    field: 'models[1].params.learningRate.num',
    message: /^give either "step" or "num", not both/,
  },
  {
    name: 'an empty value for a search space',
    text: edit(BASE, ['maxDepth: [3, 5]', 'maxDepth:']),
    at: [20, 7],
    field: 'models[0].params.maxDepth',
    message: /^expected a number, a string, true or false, a list or a mapping, got nothing$/,
  },
  {
    name: 'a string parameter value with a typo',
    text: edit(BASE, ['      units: [8, 16]', '      units: [8, 16]\n      optimizer: adma']),
    at: [25, 18],
    field: 'models[1].params.optimizer',
    message: /^expected one of "adam", "sgd", "rmsprop", got "adma"$/,
    suggestion: 'adam',
  },
  {
    name: 'an unknown metric',
    text: edit(BASE, ['metric: accuracy', 'metric: acuracy']),
    at: [29, 11],
    field: 'selection.metric',
    message: /^unknown metric "acuracy"/,
    suggestion: 'accuracy',
  },
  {
    name: 'a metric of the other task',
    text: edit(BASE, ['metric: accuracy', 'metric: rmse']),
    at: [29, 11],
    field: 'selection.metric',
    message: /^metric "rmse" is for regression, but the task is classification$/,
  },
  {
    name: 'an unknown feature column',
    text: edit(BASE, ['features: [Island,', 'features: [Islnd,']),
    columns: true,
    at: [8, 12],
    field: 'features[0]',
    message: /^unknown column "Islnd"$/,
    suggestion: 'Island',
  },
  {
    name: 'an unknown column in a transform',
    text: edit(BASE, ['columns: [Island]', 'columns: [Iland]']),
    columns: true,
    at: [11, 17],
    field: 'transforms[0].oneHot.columns[0]',
    message: /^unknown column "Iland"$/,
    suggestion: 'Island',
  },
  {
    name: 'an unknown column inside an expression',
    text: edit(BASE, ['`Body Mass (g)` / 1000', '1000 / `Body Mas (g)`']),
    columns: true,
    at: [14, 21],
    field: 'transforms[1].derive.expr',
    message: /^unknown column "Body Mas \(g\)" in expression$/,
    suggestion: 'Body Mass (g)',
  },
  {
    name: 'a syntax error inside an expression',
    text: edit(BASE, ['`Body Mass (g)` / 1000', '`Body Mass (g)` / * 1000']),
    at: [14, 32],
    field: 'transforms[1].derive.expr',
    message: /^bad expression: /,
  },
  {
    name: 'an expression starting with a backtick, unquoted',
    text: edit(BASE, ['expr: "`Body Mass (g)` / 1000"', 'expr: `Body Mass (g)` / 1000']),
    at: [14, 13],
    field: 'transforms[1].derive.expr',
    message: /^YAML syntax error: plain value cannot start with reserved character `; put the value in quotes$/,
  },
  {
    name: 'a layer referring to a parameter the candidate lacks',
    text: edit(BASE, ['units: $units', 'units: $unit']),
    at: [27, 25],
    field: 'models[1].layers[0].dense.units',
    message: /^"\$unit" refers to no parameter of candidate "mlp"$/,
    suggestion: '$units',
  },
  {
    name: 'a bad memory quantity',
    text: edit(BASE, ['memory: 512Mi', 'memory: 512 Megs']),
    at: [31, 11],
    field: 'resources.memory',
    message: /^"512 Megs" is not a size such as 512Mi/,
  },
  {
    name: 'a wrong apiVersion',
    text: edit(BASE, ['apiVersion: stratum/v1', 'apiVersion: stratum/v2']),
    at: [1, 13],
    field: 'apiVersion',
    message: /^expected "stratum\/v1", got "stratum\/v2"$/,
  },
  {
    name: 'a bad metadata name',
    text: edit(BASE, ['name: penguins', 'name: Penguins_Run']),
    at: [4, 9],
    field: 'metadata.name',
    message: /^"Penguins_Run" is not a name of lowercase letters, digits and dashes/,
  },
  {
    name: 'a key indented one level too little',
    text: edit(BASE, ['  - oneHot:\n      columns', '  - oneHot:\n    columns']),
    at: [11, 5],
    field: 'transforms[0].columns',
    message: /^"columns" belongs under "oneHot": indent it further$/,
  },
  {
    name: 'an unknown transform',
    text: edit(BASE, ['- oneHot:', '- onehot:']),
    at: [10, 5],
    field: 'transforms[0].onehot',
    message: /^unknown key "onehot"; expected one of fillMissing, standardize, oneHot, derive, filter, dropMissing$/,
    suggestion: 'oneHot',
  },
  {
    name: 'two transforms in one item (a missing "- ")',
    text: edit(BASE, ['      columns: [Island]\n', '      columns: [Island]\n    standardize: {}\n']),
    at: [12, 5],
    field: 'transforms[0].standardize',
    message: /^"standardize" starts another item: each item takes one key \(write "- standardize:"\)$/,
  },
  {
    name: 'a duplicate candidate name',
    text: edit(BASE, ['name: mlp', 'name: forest']),
    at: [21, 11],
    field: 'models[1].name',
    message: /^duplicate candidate name "forest" \(first used on line 17\)$/,
  },
  {
    name: 'the target also listed as a feature',
    text: edit(BASE, ['features: [Island,', 'features: [Species,']),
    at: [8, 12],
    field: 'features[0]',
    message: /^the target "Species" cannot also be a feature$/,
  },
  {
    name: 'layers on a trainer without them',
    text: edit(BASE, ['maxDepth: [3, 5]', 'maxDepth: [3, 5]\n    layers: [{ flatten: {} }]']),
    at: [21, 5],
    field: 'models[0].layers',
    message: /^trainer "random-forest" takes no layers$/,
  },
  {
    name: 'a regression target that is a string column',
    text: edit(
      BASE,
      ['target: Species', 'target: Sex'],
      ['task: classification', 'task: regression'],
      ['metric: accuracy', 'metric: rmse'],
    ),
    columns: true,
    at: [7, 9],
    field: 'target',
    message: /^target "Sex" is a string column; regression needs a number column$/,
  },
  {
    name: 'an enum value with a typo',
    text: `${BASE}search:\n  strategy: randum\n`,
    at: [33, 13],
    field: 'search.strategy',
    message: /^expected one of "grid", "random", got "randum"$/,
    suggestion: 'random',
  },
  {
    name: 'a float where an integer belongs',
    text: `${BASE}seed: 1.5\n`,
    at: [32, 7],
    field: 'seed',
    message: /^expected an integer, got 1.5$/,
  },
  {
    name: 'an empty value where a mapping belongs',
    text: edit(BASE, ['resources:\n  memory: 512Mi\n', 'resources:\n']),
    at: [30, 1],
    field: 'resources',
    message: /^expected a mapping, got nothing$/,
  },
  {
    name: 'a document that is not a mapping',
    text: '- apiVersion: stratum/v1\n',
    at: [1, 1],
    field: '',
    message: /^a pipeline spec is a mapping/,
  },
  {
    name: 'selection.qos on a tier the cluster does not have',
    text: withQos('{ tier: egde, p99: 10ms }'),
    tiers: true,
    at: [30, 16],
    field: 'selection.qos.tier',
    message: /^unknown tier "egde" \(the cluster has cloud, fog, edge\)$/,
    suggestion: 'edge',
  },
  {
    name: 'selection.qos with a duration without a unit',
    text: withQos('{ tier: edge, p99: 10 }'),
    at: [30, 27],
    field: 'selection.qos.p99',
    message: /^expected a duration with a unit \(250ms, 1.5s, 800us\), got 10$/,
  },
  {
    name: 'selection.qos with a misspelt unit',
    text: withQos('{ tier: edge, p99: 10mss }'),
    at: [30, 27],
    field: 'selection.qos.p99',
    message: /^"10mss" is not a duration such as 250ms, 1.5s or 800us$/,
  },
  {
    name: 'selection.qos with a zero budget',
    text: withQos('{ tier: edge, p95: 0ms }'),
    at: [30, 27],
    field: 'selection.qos.p95',
    message: /^a p95 budget of 0ms can never be met: give a duration above zero$/,
  },
  {
    name: 'selection.qos that asks for nothing',
    text: withQos('{ tier: edge }'),
    at: [30, 3],
    field: 'selection.qos',
    message: /^selection.qos asks for nothing: give at least one of p99, p95, p50, rps, maxCostPerHour$/,
  },
  {
    name: 'selection.qos without a tier',
    text: withQos('{ p99: 10ms }'),
    at: [30, 8],
    field: 'selection.qos.tier',
    message: /^missing required key "tier"$/,
  },
  {
    name: 'selection.qos with a misspelt key',
    text: withQos('{ tier: edge, p9: 10ms }'),
    at: [30, 22],
    field: 'selection.qos.p9',
    message: /^unknown key "p9"$/,
    suggestion: 'p99',
  },
  {
    name: 'an alias to an undefined anchor',
    text: edit(BASE, ['maxDepth: [3, 5]', 'maxDepth: *depths']),
    at: [20, 17],
    field: 'models[0].params.maxDepth',
    message: /^alias \*depths refers to no anchor/,
  },
];

describe('malformed specs: exactly one diagnostic, at the right place', () => {
  test.each(cases)('$name', (c) => {
    const { spec, diagnostics } = checkSpec(c.text, 'penguins.yaml', {
      ...(c.columns ? { columns: PENGUIN_COLUMNS } : {}),
      ...(c.tiers ? { tiers: TIERS } : {}),
    });
    expect(spec).toBeUndefined();
    expect(diagnostics).toHaveLength(1);
    const d = diagnostics[0]!;
    expect([d.line, d.column]).toEqual(c.at);
    expect(d.field).toBe(c.field);
    expect(d.message).toMatch(c.message);
    expect(d.suggestion).toBe(c.suggestion ?? '');
    expect(d.file).toBe('penguins.yaml');
  });

  test('every case is a distinct mistake', () => {
    expect(new Set(cases.map((c) => c.text)).size).toBe(cases.length);
  });

  test('the base spec itself is valid, with and without columns', () => {
    expect(checkSpec(BASE, 'penguins.yaml').diagnostics).toEqual([]);
    expect(checkSpec(BASE, 'penguins.yaml', { columns: PENGUIN_COLUMNS }).diagnostics).toEqual([]);
  });

  test('a text over 1 MiB is refused before parsing, saying the limit', () => {
    const text = `${BASE}# ${'x'.repeat(MAX_SPEC_BYTES)}\n`;
    const { diagnostics } = checkSpec(text, 'big.yaml');
    expect(diagnostics).toEqual<SpecDiagnostic[]>([
      expect.objectContaining({ line: 1, column: 1, message: expect.stringMatching(/the limit is 1 MiB/) }),
    ]);
  });

  test('a document nested past the call stack is refused, not crashed on', () => {
    const { diagnostics } = checkSpec(`a: ${'['.repeat(100000)}${']'.repeat(100000)}\n`, 'deep.yaml');
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]?.message).toBe('the document nests too deeply');
  });

  test('a huge spec full of mistakes is answered quickly, with the count of the rest', () => {
    const many = Array.from({ length: 40000 }, (_, i) => `      p${i}: 1`).join('\n');
    const started = Date.now();
    const { diagnostics } = checkSpec(edit(BASE, ['      maxDepth: [3, 5]', many]), 'big.yaml');
    expect(Date.now() - started).toBeLessThan(10000);
    expect(diagnostics).toHaveLength(101);
    expect(diagnostics[100]?.message).toBe('further problems not shown: at most 100 are listed');
  });

  test('a selection.qos on a known tier is valid, and the tier is not checked without the cluster', () => {
    const text = withQos('{ tier: edge, p99: 10ms, rps: 200, maxCostPerHour: 0.5 }');
    expect(checkSpec(text, 'penguins.yaml', { tiers: TIERS }).diagnostics).toEqual([]);
    expect(checkSpec(withQos('{ tier: my-own-tier, p99: 1.5s }'), 'penguins.yaml').diagnostics).toEqual([]);
  });

  test('independent mistakes are all reported, in file order', () => {
    const text = edit(BASE, ['metric: accuracy', 'metric: acuracy'], ['maxDepth: [3, 5]', 'maxDeph: [3, 5]']);
    const { diagnostics } = checkSpec(text, 'penguins.yaml');
    expect(diagnostics.map((d) => [d.line, d.field])).toEqual([
      [20, 'models[0].params.maxDeph'],
      [29, 'selection.metric'],
    ]);
  });
});

import { parseDocument, isMap, type Scalar } from 'yaml';
import { defaultGoal, formatDiagnostic, parseDurationMs, parseQuantityMiB, parseSizeBytes, SpecError } from '..';
import { sourceOffset } from '../scalar-offsets';
import { formatPath } from '../source';
import { editDistance, suggest } from '../suggest';

describe('suggest', () => {
  test('edit distance counts a swap of neighbours as one edit', () => {
    expect(editDistance('maxDepth', 'maxDepth')).toBe(0);
    expect(editDistance('maxDeph', 'maxDepth')).toBe(1);
    expect(editDistance('mxaDepth', 'maxDepth')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });

  test('finds the nearest name within the cut-off, ignoring case', () => {
    expect(suggest('maxDeph', ['nEstimators', 'maxDepth', 'maxFeatures'])).toBe('maxDepth');
    expect(suggest('MaxDepth', ['maxDepth'])).toBe('maxDepth');
    expect(suggest('treiner', ['name', 'trainer', 'params'])).toBe('trainer');
    expect(suggest('forest', ['tfjs', 'random-forest'])).toBe('random-forest');
  });

  test('stays quiet when nothing is close', () => {
    expect(suggest('seed', ['step', 'num'])).toBeUndefined();
    expect(suggest('xyz', ['accuracy', 'rmse'])).toBeUndefined();
    expect(suggest('', ['a'])).toBeUndefined();
  });
});

describe('quantities', () => {
  test('sizes: binary and decimal units, bare numbers are MiB', () => {
    expect(parseQuantityMiB('512Mi')).toBe(512);
    expect(parseQuantityMiB('2Gi')).toBe(2048);
    expect(parseQuantityMiB(256)).toBe(256);
    expect(parseQuantityMiB('300')).toBe(300);
    expect(parseQuantityMiB('1GB')).toBeCloseTo(953.674, 3);
    expect(parseSizeBytes('1.5Ki')).toBe(1536);
    expect(parseSizeBytes('1GB')).toBe(1e9);
    expect(parseSizeBytes('10 MB')).toBe(1e7);
    expect(parseSizeBytes(1)).toBe(1048576);
    expect(parseSizeBytes('4k')).toBe(4000);
  });

  test('durations in milliseconds', () => {
    expect(parseDurationMs('250ms')).toBe(250);
    expect(parseDurationMs('1.5s')).toBe(1500);
    expect(parseDurationMs('800us')).toBe(0.8);
  });

  test('bad input throws a RangeError naming it', () => {
    expect(() => parseQuantityMiB('512 Megs')).toThrow(/not a size: "512 Megs"/);
    expect(() => parseSizeBytes(-1)).toThrow(RangeError);
    expect(() => parseSizeBytes(Number.NaN)).toThrow(RangeError);
    expect(() => parseDurationMs('5 minutes')).toThrow(/not a duration/);
  });
});

describe('diagnostics', () => {
  const d = {
    file: 'penguins.yaml',
    line: 12,
    column: 7,
    field: 'models[1].params.maxDeph',
    message: 'unknown key "maxDeph"',
    suggestion: 'maxDepth',
  };

  test('format as file:line:column: field: message (did you mean …?)', () => {
    expect(formatDiagnostic(d)).toBe(
      'penguins.yaml:12:7: models[1].params.maxDeph: unknown key "maxDeph" (did you mean "maxDepth"?)',
    );
    expect(formatDiagnostic({ ...d, field: '', suggestion: '' })).toBe('penguins.yaml:12:7: unknown key "maxDeph"');
  });

  test('SpecError lists one diagnostic per line', () => {
    const e = new SpecError([d, { ...d, line: 13 }]);
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('SpecError');
    expect(e.message.split('\n')).toHaveLength(2);
    expect(e.diagnostics).toHaveLength(2);
  });

  test('field paths quote keys that are not identifiers', () => {
    expect(formatPath(['models', 1, 'params', 'maxDepth'])).toBe('models[1].params.maxDepth');
    expect(formatPath(['metadata', 'labels', 'team name'])).toBe('metadata.labels["team name"]');
    expect(formatPath([])).toBe('');
  });
});

test('default goals come from the metric table; losses minimize', () => {
  expect(defaultGoal('accuracy')).toBe('maximize');
  expect(defaultGoal('rmse')).toBe('minimize');
  expect(defaultGoal('logloss')).toBe('minimize');
  expect(defaultGoal('r2')).toBe('maximize');
  expect(defaultGoal('val_loss')).toBe('minimize');
  expect(defaultGoal('val_accuracy')).toBe('maximize');
});

describe('positions inside string values', () => {
  /** The file offset of `needle` inside the value of key `expr`, mapped through the scalar. */
  const locate = (text: string, needle: string): string => {
    const doc = parseDocument(text);
    if (!isMap(doc.contents)) throw new Error('not a map');
    const node = doc.contents.items[0]!.value as Scalar;
    const index = String(node.value).indexOf(needle);
    const offset = sourceOffset(text, node, index);
    return text.slice(offset, offset + 3);
  };

  test.each([
    ['plain', 'expr: a + b * c\n'],
    ['double-quoted with escapes', 'expr: "x \\t\\"q\\" + b * c"\n'],
    ['single-quoted with a doubled quote', "expr: 'it''s + b * c'\n"],
    ['plain over two lines', 'expr: a +\n  b * c\n'],
    ['double-quoted over two lines', 'expr: "a +\n   b * c"\n'],
    ['literal block', 'expr: |\n  a +\n  b * c\n'],
    ['folded block', 'expr: >-\n    a +\n    b * c\n'],
    ['literal block with extra indentation', 'expr: |\n    a +\n      b * c\n'],
  ])('%s', (_, text) => {
    expect(locate(text, 'b *')).toBe('b *');
  });
});

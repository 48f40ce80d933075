import fc from 'fast-check';
import { ExprError, evaluateExpression, expressionColumns, parseExpression, type ExprNode } from '../expr';
import { frameOf } from './helpers';

const one = frameOf({ x: [0] });
/** Evaluates a constant expression on a one-row frame. */
const value = (src: string): number | string | null => {
  const col = evaluateExpression(parseExpression(src), one);
  return col.values[0]!;
};

function errorOf(f: () => unknown): ExprError {
  try {
    f();
  } catch (e) {
    if (e instanceof ExprError) return e;
    throw e;
  }
  throw new Error('expected an ExprError');
}

describe('parseExpression', () => {
  test('precedence and associativity', () => {
    expect(value('1 + 2 * 3')).toBe(7);
    expect(value('(1 + 2) * 3')).toBe(9);
    expect(value('10 - 4 - 3')).toBe(3);
    expect(value('2 ** 3 ** 2')).toBe(512);
    expect(value('-2 ** 2')).toBe(-4);
    expect(value('2 ** -1')).toBe(0.5);
    expect(value('7 % 4 * 2')).toBe(6);
    expect(value('1 + 2 > 2 and 3 < 4')).toBe(1);
    expect(value('not 1 == 2')).toBe(1);
    expect(value('!true || false')).toBe(0);
    expect(value('true or false and false')).toBe(1);
    expect(value('1.5e1 + .5')).toBe(15.5);
  });

  test('nodes carry source offsets', () => {
    const node = parseExpression('a + `Beak Length (mm)`') as Extract<ExprNode, { type: 'binary' }>;
    expect(node).toMatchObject({ type: 'binary', op: '+', start: 0, end: 22 });
    expect(node.right).toMatchObject({ type: 'column', name: 'Beak Length (mm)', start: 4, end: 22 });
  });

  test('strings, literals and escapes', () => {
    expect(value("'it\\'s'")).toBe("it's");
    expect(value('"a" == \'a\'')).toBe(1);
    expect(value('isnull(null)')).toBe(1);
  });

  test.each([
    ['1 + )', 'unexpected ")" at 4', 4, 1],
    ['(1 + 2', 'missing ")" for "(" at 0', 0, 1],
    ['1 +', 'unexpected end of expression at 3', 3, 0],
    ['lg(x)', 'unknown function "lg" at 0 (did you mean "log")', 0, 2],
    ['a = 1', 'unexpected "=" at 2 (did you mean "==")', 2, 1],
    ['a # b', 'unexpected "#" at 2', 2, 1],
    ["'abc", 'unterminated string at 0', 0, 4],
    ['`abc', 'unterminated column name at 0', 0, 4],
    ['1.2.3', 'invalid number "1.2.3" at 0', 0, 5],
    ['12abc', 'invalid number "12abc" at 0', 0, 5],
    ['1 < 2 < 3', 'comparisons cannot be chained at 6: use "and" (a < b and b < c)', 6, 1],
    ['pow(1)', 'function "pow" takes 2 arguments, got 1 at 0', 0, 6],
    ['if(a, b)', 'function "if" takes 3 arguments, got 2 at 0', 0, 8],
    ['x == null', 'comparing with null is always false at 5: use isnull(x)', 5, 4],
    ['a b', 'unexpected "b" at 2', 2, 1],
    ['and', 'unexpected "and" at 0', 0, 3],
  ])('%s → %s', (src, message, offset, length) => {
    const e = errorOf(() => parseExpression(src));
    expect(e.message).toBe(message);
    expect(e.detail).toBe(message.replace(` at ${offset}`, ''));
    expect(e.offset).toBe(offset);
    expect(e.length).toBe(length);
  });

  test('length and depth limits', () => {
    const long = errorOf(() => parseExpression('1+'.repeat(2100) + '1'));
    expect(long.message).toBe('expression too long at 4096 (4201 characters; the limit is 4096)');
    expect(long.offset).toBe(4096);
    const deep = errorOf(() => parseExpression('('.repeat(100) + '1' + ')'.repeat(100)));
    expect(deep.message).toBe('expression nested deeper than 64 levels at 64');
    expect(errorOf(() => parseExpression('-'.repeat(100) + '1')).message).toMatch(/nested deeper than 64/);
    expect(errorOf(() => parseExpression('2' + '**2'.repeat(100))).message).toMatch(/nested deeper than 64/);
    // Long flat chains are fine: only nesting is limited.
    expect(value('1' + '+1'.repeat(1000))).toBe(1001);
    expect(value('('.repeat(60) + '1' + ')'.repeat(60))).toBe(1);
  });

  test('random input only ever throws ExprError', () => {
    const alphabet = fc.constantFrom(
      ...'ab1.e+-*/%()<>=!&|,`\'"\\ _ xnotandor9'.split(''),
      'if(',
      'pow(',
      '**',
      'null',
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.array(alphabet, { maxLength: 40 }).map((a) => a.join('')),
        ),
        (src) => {
          try {
            parseExpression(src);
          } catch (e) {
            if (!(e instanceof ExprError)) throw e;
            expect(e.offset).toBeGreaterThanOrEqual(0);
            expect(e.offset).toBeLessThanOrEqual(src.length);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

test('random expressions that parse only ever fail to evaluate with ExprError', () => {
  const f = frameOf({ a: [1, NaN, -3, 0], b: [0, 2, 1e308, NaN], s: ['x', null, 'y', ''] });
  const atom = fc.constantFrom('a', 'b', 's', 'zz', '0', '-1', '1e308', "'x'", 'null', 'true');
  const op = fc.constantFrom('+', '-', '*', '/', '%', '**', '<', '==', '!=', 'and', 'or');
  const fn = fc.constantFrom('abs', 'sqrt', 'log', 'round', 'min', 'max', 'isnull', 'coalesce', 'pow', 'if');
  const expr = fc.letrec<{ e: string }>((tie) => ({
    e: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      atom,
      fc.tuple(tie('e'), op, tie('e')).map(([l, o, r]) => `(${l} ${o} ${r})`),
      fc
        .tuple(fn, fc.array(tie('e'), { minLength: 1, maxLength: 3 }))
        .map(([name, args]) => `${name}(${args.join(', ')})`),
      tie('e').map((e) => `not ${e}`),
    ),
  })).e;
  fc.assert(
    fc.property(expr, (src) => {
      let node: ExprNode;
      try {
        node = parseExpression(src);
      } catch (e) {
        if (!(e instanceof ExprError)) throw e;
        return;
      }
      try {
        const col = evaluateExpression(node, f);
        expect(col.values).toHaveLength(4);
        if (col.kind === 'number') for (const v of col.values) expect(Number.isNaN(v) || Number.isFinite(v)).toBe(true);
      } catch (e) {
        if (!(e instanceof ExprError)) throw e;
      }
    }),
    { numRuns: 1000 },
  );
});

describe('expressionColumns', () => {
  test('distinct names in order of appearance', () => {
    expect(expressionColumns(parseExpression('b + a * `c d` - b + log(a) + if(e, 1, f)'))).toEqual([
      'b',
      'a',
      'c d',
      'e',
      'f',
    ]);
    expect(expressionColumns(parseExpression('1 + 2'))).toEqual([]);
  });
});

describe('evaluateExpression', () => {
  const f = frameOf({
    a: [1, NaN, 3, 4],
    b: [2, 2, 0, NaN],
    s: ['x', null, 'y', 'x'],
  });
  const ev = (src: string): number[] | (string | null)[] => {
    const col = evaluateExpression(parseExpression(src), f);
    return col.kind === 'number' ? Array.from(col.values) : [...col.values];
  };

  test('arithmetic propagates missing values; non-finite results are missing', () => {
    expect(ev('a + b')).toEqual([3, NaN, 3, NaN]);
    expect(ev('a / b')).toEqual([0.5, NaN, NaN, NaN]);
    expect(ev('log(b)')).toEqual([Math.log(2), Math.log(2), NaN, NaN]);
    expect(ev('-a')).toEqual([-1, NaN, -3, -4]);
  });

  test('comparisons with missing are false; logic treats missing as false', () => {
    expect(ev('a > 2')).toEqual([0, 0, 1, 1]);
    expect(ev('a != 3')).toEqual([1, 0, 0, 1]);
    expect(ev("s == 'x'")).toEqual([1, 0, 0, 1]);
    expect(ev("s != 'x'")).toEqual([0, 0, 1, 0]);
    expect(ev("s < 'y'")).toEqual([1, 0, 0, 1]);
    expect(ev('not a > 2')).toEqual([1, 1, 0, 0]);
    expect(ev('a or b')).toEqual([1, 1, 1, 1]);
    expect(ev('a and b')).toEqual([1, 0, 0, 0]);
  });

  test('functions', () => {
    expect(ev('isnull(a) + isnull(s) * 10')).toEqual([0, 11, 0, 0]);
    expect(ev('coalesce(a, b, 0)')).toEqual([1, 2, 3, 4]);
    expect(ev("coalesce(s, 'none')")).toEqual(['x', 'none', 'y', 'x']);
    expect(ev("if(a > 2, 'big', s)")).toEqual(['x', null, 'big', 'big']);
    expect(ev('if(b, a, -1)')).toEqual([1, NaN, -1, -1]);
    expect(ev('min(a, b, 2.5)')).toEqual([1, NaN, 0, NaN]);
    expect(ev('max(a, 2)')).toEqual([2, NaN, 3, 4]);
    expect(ev('pow(a, 2) + abs(-1) + sqrt(4)')).toEqual([4, NaN, 12, 19]);
    expect(ev('round(a / 3, 2)')).toEqual([0.33, NaN, 1, 1.33]);
    expect(ev('round(-2.5) + floor(1.5) + ceil(1.5) + exp(0) + log10(100)')).toEqual([3, 3, 3, 3]);
    expect(ev('null')).toEqual([NaN, NaN, NaN, NaN]);
  });

  test('unknown columns and type errors name the culprit', () => {
    const unknown = errorOf(() => evaluateExpression(parseExpression('a + bb'), f));
    expect(unknown.message).toBe('unknown column "bb" at 4 (did you mean "b")');
    expect([unknown.offset, unknown.length]).toEqual([4, 2]);
    const typed = errorOf(() => evaluateExpression(parseExpression('a + s'), f));
    expect(typed.message).toBe('operator "+" needs numbers, but column "s" is text at 4');
    expect(errorOf(() => evaluateExpression(parseExpression("a == 'x'"), f)).message).toMatch(
      /needs numbers, but the string 'x' is text at 5/,
    );
    expect(errorOf(() => evaluateExpression(parseExpression('coalesce(s, 1)'), f)).message).toMatch(
      /function "coalesce" needs text/,
    );
  });
});

/**
 * Robustness: whatever an author (or a fuzzer) does to a valid spec's text, checkSpec answers
 * with diagnostics and parseSpec with a LoadedSpec or a SpecError — nothing else escapes.
 */
import fc from 'fast-check';
import { checkSpec, expandSearchSpace, parseSpec, SpecError, type LoadedSpec } from '..';
import { BASE, CAR_COLUMNS, fixture, PENGUIN_COLUMNS } from './helpers';

const TEXTS = [fixture('penguins.yaml'), fixture('cars.yaml'), BASE];

/** Characters that mean something to YAML, to the expression language, or to nobody. */
const CHARS = [
  ' ',
  '  ',
  '\t',
  '\n',
  ':',
  '-',
  '[',
  ']',
  '{',
  '}',
  ',',
  '"',
  "'",
  '#',
  '&a ',
  '*a',
  '!',
  '|',
  '>',
  '?',
  '%',
  '@',
  '`',
  '$',
  'x',
  '0',
  '\\',
  '\r\n',
  '\u00e9',
  '\ud83d',
];
/** Scalars to drop in for a value: wrong types, odd numbers, references, collections. */
const SCALARS = [
  '',
  '~',
  '[]',
  '{}',
  '-1',
  '0',
  '1e999',
  '.nan',
  '.inf',
  '3.5',
  'true',
  '"x"',
  "'$units'",
  '*a',
  '&a 1',
  '[1, "a"]',
  '{range: [5, 1]}',
  '{logRange: [0, 1]}',
  '{range: [0.1, 1]}',
  '[3, 5',
  '"unterminated',
  'rmse',
  'tfjs',
  '$nothing',
  '512 Megs',
  '"`a` +"',
  '!!binary aGk=',
  '2001-12-14',
];

type Mutation = (text: string) => string;

const at = (n: number, len: number): number => (len === 0 ? 0 : n % (len + 1));

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ p: fc.nat() }).map(({ p }) => (t: string) => {
    const i = at(p, t.length - 1);
    return t.slice(0, i) + t.slice(i + 1);
  }),
  fc.record({ p: fc.nat(), c: fc.constantFrom(...CHARS) }).map(({ p, c }) => (t: string) => {
    const i = at(p, t.length);
    return t.slice(0, i) + c + t.slice(i);
  }),
  fc.record({ p: fc.nat(), n: fc.integer({ min: 1, max: 40 }) }).map(({ p, n }) => (t: string) => {
    const i = at(p, t.length);
    return t.slice(0, i) + t.slice(i, i + n) + t.slice(i);
  }),
  fc.record({ a: fc.nat(), b: fc.nat() }).map(({ a, b }) => (t: string) => {
    const lines = t.split('\n');
    const i = at(a, lines.length - 1);
    const j = at(b, lines.length - 1);
    [lines[i], lines[j]] = [lines[j]!, lines[i]!];
    return lines.join('\n');
  }),
  fc.record({ a: fc.nat(), d: fc.integer({ min: -4, max: 4 }) }).map(({ a, d }) => (t: string) => {
    const lines = t.split('\n');
    const i = at(a, lines.length - 1);
    lines[i] = d >= 0 ? ' '.repeat(d) + lines[i]! : lines[i]!.replace(new RegExp(`^ {0,${-d}}`), '');
    return lines.join('\n');
  }),
  fc.record({ a: fc.nat(), s: fc.constantFrom(...SCALARS) }).map(({ a, s }) => (t: string) => {
    const lines = t.split('\n');
    const i = at(a, lines.length - 1);
    lines[i] = lines[i]!.replace(/(:\s*|-\s+)[^:\n]*$/, `$1${s}`);
    return lines.join('\n');
  }),
  fc.record({ a: fc.nat() }).map(({ a }) => (t: string) => {
    const lines = t.split('\n');
    lines.splice(at(a, lines.length - 1), 1);
    return lines.join('\n');
  }),
);

const mutatedSpec = fc
  .record({
    base: fc.constantFrom(...TEXTS.keys()),
    edits: fc.array(mutation, { minLength: 1, maxLength: 5 }),
    withColumns: fc.boolean(),
  })
  .map(({ base, edits, withColumns }) => ({
    text: edits.reduce((t, m) => m(t), TEXTS[base]!),
    columns: withColumns ? (base === 1 ? CAR_COLUMNS : PENGUIN_COLUMNS) : undefined,
  }));

test('checkSpec never throws, and every diagnostic is located inside the text', () => {
  fc.assert(
    fc.property(mutatedSpec, ({ text, columns }) => {
      const { spec, diagnostics } = checkSpec(text, 'fuzz.yaml', { columns });
      const lines = text.split('\n').length;
      expect(spec === undefined).toBe(diagnostics.length > 0);
      for (const d of diagnostics) {
        expect(d.message).not.toMatch(/internal error/);
        expect(d.line).toBeGreaterThanOrEqual(1);
        expect(d.line).toBeLessThanOrEqual(lines);
        expect(d.column).toBeGreaterThanOrEqual(1);
        expect(d.file).toBe('fuzz.yaml');
      }
      if (spec) expect(() => expandSearchSpace(spec.spec)).not.toThrow();
    }),
    { numRuns: Number(process.env.SPEC_FUZZ_RUNS ?? 600) },
  );
});

test('parseSpec returns a LoadedSpec or throws a SpecError, nothing else', () => {
  fc.assert(
    fc.property(mutatedSpec, ({ text, columns }) => {
      let loaded: LoadedSpec | undefined;
      try {
        loaded = parseSpec(text, 'fuzz.yaml', { columns });
      } catch (e) {
        expect(e).toBeInstanceOf(SpecError);
        expect((e as SpecError).diagnostics.length).toBeGreaterThan(0);
        return;
      }
      expect(loaded.hash).toMatch(/^[0-9a-f]{64}$/);
    }),
    { numRuns: 300 },
  );
});

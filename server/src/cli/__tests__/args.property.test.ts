/**
 * The command grammar takes input from shells and notebook magic lines: whatever arrives, it
 * answers with a parsed command or a UsageError that says what is wrong — never a crash.
 */
import fc from 'fast-check';

import { parseCommand, tokenize, UsageError } from '../args';
import { COMMANDS } from '../commands';

const names = COMMANDS.map((c) => c.name);
const flags = [...new Set(COMMANDS.flatMap((c) => Object.keys(c.flags)))];

const token = fc.oneof(
  fc.constantFrom(...names),
  fc.constantFrom(...flags.map((f) => `--${f}`)),
  fc.constantFrom(...flags.map((f) => `--${f}=`)),
  fc.string(),
  fc.stringMatching(/^--[a-z-]{0,12}(=.{0,8})?$/),
  fc.constantFrom('--', '-h', '--help', '', ' ', '"', "'", '\\'),
  fc.integer().map(String),
  fc.double().map(String),
);

function onlyUsageErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    expect(e.message.length).toBeGreaterThan(0);
  }
}

describe('command grammar under random input', () => {
  it('parseCommand returns a command or throws UsageError for any argv', () => {
    fc.assert(
      fc.property(fc.array(token, { maxLength: 8 }), (argv) => {
        onlyUsageErrors(() => {
          const parsed = parseCommand(argv, COMMANDS);
          expect(names).toContain(parsed.command);
        });
      }),
      { numRuns: 2000 },
    );
  });

  it('tokenize splits any magic line or throws UsageError (unterminated quotes)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (line) => {
        onlyUsageErrors(() => {
          const tokens = tokenize(line);
          expect(Array.isArray(tokens)).toBe(true);
        });
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips quoted arguments with spaces and quotes inside', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 5 }), (words) => {
        const line = words.map((w) => `"${w.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(' ');
        expect(tokenize(line)).toEqual(words);
      }),
      { numRuns: 500 },
    );
  });

  it('names the unknown flag and suggests the nearest one', () => {
    expect(() => parseCommand(['run', 'x.yaml', '--wach'], COMMANDS)).toThrow(
      /unknown flag --wach for run \(did you mean --watch\?\)/,
    );
    expect(() => parseCommand(['deploi'], COMMANDS)).toThrow(/unknown command "deploi" \(did you mean deploy\?\)/);
    expect(() => parseCommand(['deploy', 'm', '--min', 'two'], COMMANDS)).toThrow(/--min expects a number, got "two"/);
  });
});

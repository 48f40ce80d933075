/**
 * Completion, inspection and is-complete for magic cells: command names, the command's flags,
 * pipeline names and spec files for `train`, and the command's usage on inspect.
 */
import { readdirSync } from 'node:fs';

import { magic, magicUsage, MAGICS, overview } from './commands';

export interface Completion {
  readonly matches: string[];
  readonly cursorStart: number;
  readonly cursorEnd: number;
}

export interface AssistContext {
  /** Pipelines defined in the session. */
  readonly pipelines: () => readonly string[];
  /** Directory to list spec files from. */
  readonly cwd: string;
}

const LINE = /^\s*%%?stratum\s+(.*)$/;

function lineAt(code: string, cursor: number): { text: string; start: number } {
  const start = code.lastIndexOf('\n', cursor - 1) + 1;
  const end = code.indexOf('\n', cursor);
  return { text: code.slice(start, end < 0 ? code.length : end), start };
}

function specFiles(cwd: string): string[] {
  try {
    return readdirSync(cwd).filter((f) => /\.ya?ml$/i.test(f));
  } catch {
    return [];
  }
}

export function completeMagic(code: string, cursor: number, ctx: AssistContext): Completion {
  const { text, start } = lineAt(code, cursor);
  const m = LINE.exec(text.slice(0, cursor - start));
  if (!m) return { matches: [], cursorStart: cursor, cursorEnd: cursor };
  const words = m[1]!.split(/\s+/);
  const word = words.pop() ?? '';
  const done = (options: readonly string[]): Completion => ({
    matches: [...new Set(options.filter((o) => o.startsWith(word)))].sort(),
    cursorStart: cursor - word.length,
    cursorEnd: cursor,
  });
  if (words.length === 0) return done(MAGICS.map((c) => c.name));
  const spec = magic(words[0]!);
  if (!spec) return done([]);
  if (word.startsWith('-')) return done(Object.keys(spec.flags).map((f) => `--${f}`));
  const positional = words.slice(1).filter((w, i, all) => !w.startsWith('--') && !isFlagValue(spec.name, all, i));
  if (positional.length > 0) return done([]);
  if (spec.name === 'train') return done([...ctx.pipelines(), ...specFiles(ctx.cwd)]);
  if (spec.name === 'help') return done(MAGICS.map((c) => c.name));
  return done([]);
}

/** Whether `all[i]` is the value of the flag before it (`--as run`), not a positional argument. */
function isFlagValue(command: string, all: readonly string[], i: number): boolean {
  const prev = all[i - 1];
  if (!prev?.startsWith('--') || prev.includes('=')) return false;
  const flag = magic(command)?.flags[prev.slice(2)];
  return flag !== undefined && flag.type !== 'boolean';
}

/** The usage of the magic at the cursor (or the overview of all of them). */
export function inspectMagic(code: string, cursor: number): string {
  const { text } = lineAt(code, Math.min(cursor, code.length));
  const m = LINE.exec(text) ?? LINE.exec(code.split('\n').find((l) => l.trim() !== '') ?? '');
  const name = m?.[1]!.trim().split(/\s+/)[0] ?? '';
  return magicUsage(name) ?? overview();
}

/** A `%%stratum` cell with nothing below its first line is not finished yet; the rest are. */
export function isMagicComplete(code: string): 'complete' | 'incomplete' {
  const lines = code.split('\n');
  const first = lines.findIndex((l) => l.trim() !== '');
  if (/^\s*%%stratum\s+(pipeline|predict)\b/.test(lines[first] ?? '')) {
    const body = lines
      .slice(first + 1)
      .join('\n')
      .trim();
    const head = lines[first]!;
    if (body === '' && !(/\bpredict\b/.test(head) && /[{[]/.test(head))) return 'incomplete';
  }
  return 'complete';
}

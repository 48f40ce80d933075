/**
 * From a cell to magic invocations, with the CLI's parser. A cell is either one `%%stratum CMD`
 * line followed by a body (the YAML of `pipeline`, the rows of `predict`), or one or more
 * `%stratum CMD` lines. Everything is parsed before anything runs.
 */
import { parseCommand, tokenize, UsageError, type ParsedCommand } from '@stratum/server/dist/cli/args';

import { CELL_BODY, JSON_TAIL, magic, MAGICS } from './commands';

export interface MagicInvocation {
  readonly command: ParsedCommand;
  /** The body of a `%%stratum` cell: the lines after the first. */
  readonly body?: string;
  /** The cell's line (from 1) the invocation is on. */
  readonly line: number;
}

const MAGIC_LINE = /^\s*(%%?)stratum(?=\s|$)(.*)$/;

/** The first line that is not blank, and its index. */
function firstLine(lines: readonly string[]): number {
  return lines.findIndex((l) => l.trim() !== '');
}

/** Whether a cell is for the magics (its first non-blank line starts with %stratum or %%stratum). */
export function isMagicCell(code: string): boolean {
  const lines = code.split('\n');
  const i = firstLine(lines);
  return i >= 0 && MAGIC_LINE.test(lines[i]!);
}

/** Splits off a raw JSON tail (from the first `{` or `[`): JSON keeps its quotes. */
function withJsonTail(rest: string): string[] {
  const at = rest.search(/[{[]/);
  if (at < 0) return tokenize(rest);
  return [...tokenize(rest.slice(0, at)), rest.slice(at).trim()];
}

/** argv of one magic line (without `%stratum`); `--help` anywhere asks for the command's help. */
export function magicArgv(rest: string): string[] {
  const name = tokenize(rest.split(/[{[]/)[0] ?? '')[0];
  const argv = name && JSON_TAIL.has(name) ? withJsonTail(rest) : tokenize(rest);
  if (argv.length === 0) return ['help'];
  if (argv.includes('--help') || argv.includes('-h')) {
    const cmd = argv[0] === '--help' || argv[0] === '-h' ? undefined : argv[0];
    return cmd ? ['help', cmd] : ['help'];
  }
  return argv;
}

function parseArgv(argv: readonly string[], line: number): ParsedCommand {
  try {
    return parseCommand(argv, MAGICS);
  } catch (e) {
    if (e instanceof UsageError && line > 1) throw new UsageError(`cell line ${line}: ${e.message}`, e.command);
    throw e;
  }
}

export function parseMagicCell(code: string): MagicInvocation[] {
  const lines = code.split('\n');
  const first = firstLine(lines);
  const head = MAGIC_LINE.exec(lines[first] ?? '');
  if (!head) throw new UsageError('not a %stratum cell');
  if (head[1] === '%%') {
    const body = lines.slice(first + 1).join('\n');
    const name = tokenize(head[2]!)[0] ?? '';
    if (CELL_BODY.has(name)) {
      // The rows of `%%stratum predict` are its JSON argument; a pipeline's YAML stays the body.
      const argv = magicArgv(head[2]!);
      if (JSON_TAIL.has(argv[0]!) && body.trim() !== '') argv.push(body.trim());
      return [{ command: parseArgv(argv, first + 1), body, line: first + 1 }];
    }
    if (body.trim() !== '' && magic(name)) {
      throw new UsageError(`%%stratum ${name} takes no cell body; write it as %stratum ${name} ...`, name);
    }
    return [{ command: parseArgv(magicArgv(head[2]!), first + 1), line: first + 1 }];
  }
  const out: MagicInvocation[] = [];
  lines.forEach((text, i) => {
    if (text.trim() === '') return;
    const m = MAGIC_LINE.exec(text);
    if (!m || m[1] === '%%') {
      throw new UsageError(
        `cell line ${i + 1}: a %stratum cell holds only %stratum lines (%%stratum only on its first line); ` +
          'put TypeScript in a cell of its own',
      );
    }
    const command = parseArgv(magicArgv(m[2]!), i + 1);
    if (command.command === 'pipeline') {
      throw new UsageError(
        'pipeline needs its YAML: write `%%stratum pipeline NAME` on the first line and the spec below it',
        'pipeline',
      );
    }
    out.push({ command, line: i + 1 });
  });
  return out;
}

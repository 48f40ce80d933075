/**
 * One grammar for the `stratum` CLI and the kernel's `%stratum` magics: commands with
 * positional arguments and typed flags. Pure: argv in, a parsed command or a UsageError out.
 */
export type FlagType = 'string' | 'number' | 'boolean' | 'list';

export interface FlagSpec {
  readonly type: FlagType;
  readonly description: string;
  readonly value?: string;
  /** A 'string' flag that may be given more than once; its value is then the list of them. */
  readonly repeatable?: boolean;
}

export interface CommandSpec {
  readonly name: string;
  readonly summary: string;
  readonly args: ReadonlyArray<{ readonly name: string; readonly required: boolean; readonly description: string }>;
  readonly flags: Readonly<Record<string, FlagSpec>>;
}

export type FlagValue = string | number | boolean | string[];

export interface ParsedCommand {
  readonly command: string;
  readonly args: readonly string[];
  readonly flags: Readonly<Record<string, FlagValue>>;
}

export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      dp[i]![j] = Math.min(dp[i - 1]![j]! + 1, dp[i]![j - 1]! + 1, dp[i - 1]![j - 1]! + cost);
    }
  }
  return dp[a.length]![b.length]!;
}

export function nearest(word: string, options: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const o of options) {
    const d = editDistance(word.toLowerCase(), o.toLowerCase());
    if (d < bestD) [best, bestD] = [o, d];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

const hint = (s: string | undefined, prefix = ''): string => (s ? ` (did you mean ${prefix}${s}?)` : '');

/** Splits a magic line like a shell would: quotes group, backslash escapes. */
export function tokenize(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: '"' | "'" | undefined;
  let started = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) cur += line[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      started = true;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      started = true;
    } else if (/\s/.test(c)) {
      if (started) out.push(cur);
      cur = '';
      started = false;
    } else {
      cur += c;
      started = true;
    }
  }
  if (quote) throw new UsageError(`unterminated ${quote} quote`);
  if (started) out.push(cur);
  return out;
}

function convert(cmd: string, flag: string, spec: FlagSpec, raw: string): FlagValue {
  if (spec.type === 'number') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${flag} expects a number, got "${raw}"`, cmd);
    return n;
  }
  if (spec.type === 'boolean') {
    if (raw === 'true') return true;
    if (raw === 'false') return false;
    throw new UsageError(`--${flag} expects true or false, got "${raw}"`, cmd);
  }
  if (spec.type === 'list')
    return raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  return raw;
}

export function parseCommand(argv: readonly string[], commands: readonly CommandSpec[]): ParsedCommand {
  const [name, ...rest] = argv;
  if (!name) throw new UsageError(`no command given; commands: ${commands.map((c) => c.name).join(', ')}`);
  const spec = commands.find((c) => c.name === name);
  if (!spec) {
    throw new UsageError(
      `unknown command "${name}"${hint(
        nearest(
          name,
          commands.map((c) => c.name),
        ),
      )}`,
    );
  }
  const args: string[] = [];
  const flags: Record<string, FlagValue> = {};
  for (let i = 0; i < rest.length; i++) {
    const tok = rest[i]!;
    if (tok === '--') {
      args.push(...rest.slice(i + 1));
      break;
    }
    if (!tok.startsWith('--') || tok === '--') {
      args.push(tok);
      continue;
    }
    const eq = tok.indexOf('=');
    const key = tok.slice(2, eq === -1 ? undefined : eq);
    const fs = spec.flags[key];
    if (!fs) {
      throw new UsageError(
        `unknown flag --${key} for ${name}${hint(nearest(key, Object.keys(spec.flags)), '--')}`,
        name,
      );
    }
    if (key in flags && !fs.repeatable) throw new UsageError(`--${key} given twice`, name);
    let raw: string | undefined = eq === -1 ? undefined : tok.slice(eq + 1);
    if (raw === undefined) {
      if (fs.type === 'boolean') {
        flags[key] = true;
        continue;
      }
      raw = rest[++i];
      if (raw === undefined) throw new UsageError(`--${key} needs a value (${fs.value ?? fs.type})`, name);
    }
    flags[key] = fs.repeatable ? [...((flags[key] as string[] | undefined) ?? []), raw] : convert(name, key, fs, raw);
  }
  const required = spec.args.filter((a) => a.required);
  if (args.length < required.length) {
    throw new UsageError(`${name} needs ${required.map((a) => a.name).join(' ')}`, name);
  }
  if (args.length > spec.args.length) {
    throw new UsageError(
      `${name} takes at most ${spec.args.length} argument(s), got ${args.length}: ${args.join(' ')}`,
      name,
    );
  }
  return { command: name, args, flags };
}

export function usage(spec: CommandSpec, prog = 'stratum'): string {
  const args = spec.args.map((a) => (a.required ? a.name : `[${a.name}]`)).join(' ');
  const lines = [`${prog} ${spec.name}${args ? ' ' + args : ''}`, `  ${spec.summary}`];
  for (const a of spec.args) lines.push(`  ${a.name.padEnd(22)} ${a.description}`);
  for (const [k, f] of Object.entries(spec.flags)) {
    const left = `--${k}${f.type === 'boolean' ? '' : ' ' + (f.value ?? f.type.toUpperCase())}`;
    lines.push(`  ${left.padEnd(22)} ${f.description}`);
  }
  return lines.join('\n');
}

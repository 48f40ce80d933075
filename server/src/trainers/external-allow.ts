/**
 * Which commands the external trainer may run: only those the operator named, by
 * `--allow-trainer NAME=COMMAND` (serve or worker, repeatable) or `$STRATUM_HOME/trainers.json`
 * (`{"NAME": "COMMAND"}` or `{"NAME": ["argv0", "arg", ...]}`). A spec only ever says NAME.
 *
 * A worker hands its resolved list to its executor processes (and `serve` to its local and Ray
 * workers) in `STRATUM_EXTERNAL_TRAINERS`, as JSON `{"NAME": ["argv0", ...]}`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { tokenize } from '../cli/args';

export type AllowedTrainers = Readonly<Record<string, readonly string[]>>;

export const ALLOWED_TRAINERS_ENV = 'STRATUM_EXTERNAL_TRAINERS';
export const TRAINERS_FILE = 'trainers.json';
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export class AllowListError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AllowListError';
  }
}

function command(name: string, value: unknown, where: string): readonly string[] {
  if (!NAME.test(name)) {
    throw new AllowListError(`${where}: trainer name "${name}" must be letters, digits, ".", "_" or "-"`);
  }
  let argv: unknown;
  try {
    argv = typeof value === 'string' ? tokenize(value) : value;
  } catch (e) {
    throw new AllowListError(`${where}: ${name}: ${(e as Error).message}`);
  }
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === 'string' && a !== '')) {
    throw new AllowListError(`${where}: ${name} needs a command line (a string or a list of arguments)`);
  }
  return argv as string[];
}

/** `NAME=COMMAND` flags (the command split like a shell would, never run through one). */
export function parseAllowFlags(flags: readonly string[]): AllowedTrainers {
  const out: Record<string, readonly string[]> = {};
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    if (eq <= 0) throw new AllowListError(`--allow-trainer expects NAME=COMMAND, got "${flag}"`);
    out[flag.slice(0, eq)] = command(flag.slice(0, eq), flag.slice(eq + 1), '--allow-trainer');
  }
  return out;
}

function parseMap(text: string, where: string): AllowedTrainers {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new AllowListError(`${where}: not JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new AllowListError(`${where}: expected an object {"NAME": "COMMAND"}`);
  }
  return Object.fromEntries(Object.entries(json).map(([k, v]) => [k, command(k, v, where)]));
}

/** `$STRATUM_HOME/trainers.json`, or nothing when the file is absent. */
export function readTrainersFile(home: string): AllowedTrainers {
  const path = join(home, TRAINERS_FILE);
  return existsSync(path) ? parseMap(readFileSync(path, 'utf8'), path) : {};
}

export function allowedFromEnv(env: NodeJS.ProcessEnv = process.env): AllowedTrainers {
  const text = env[ALLOWED_TRAINERS_ENV];
  return text ? parseMap(text, ALLOWED_TRAINERS_ENV) : {};
}

/** The file, then what the environment brought, then the flags: a later source wins per name. */
export function resolveAllowed(home: string, flags: readonly string[], env = process.env): AllowedTrainers {
  return { ...readTrainersFile(home), ...allowedFromEnv(env), ...parseAllowFlags(flags) };
}

/** The command for NAME, or an error that says how to allow it. */
export function allowedCommand(allowed: AllowedTrainers, name: unknown): readonly string[] {
  if (typeof name !== 'string' || name === '') {
    throw new AllowListError('the external trainer needs params.command: the name of an allowed command');
  }
  const argv = Object.prototype.hasOwnProperty.call(allowed, name) ? allowed[name] : undefined;
  if (argv) return argv;
  const known = Object.keys(allowed).sort();
  throw new AllowListError(
    `command "${name}" is not allowed on this worker (${known.length ? `allowed: ${known.join(', ')}` : 'none allowed'}); ` +
      `the operator allows one with --allow-trainer ${name}=COMMAND or in $STRATUM_HOME/${TRAINERS_FILE}`,
  );
}

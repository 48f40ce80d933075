/**
 * Where Stratum keeps its state ($STRATUM_HOME, default ~/.stratum) and the secrets in it.
 * Secrets are created on first start with 0600 permissions and never logged.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export function stratumHome(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.STRATUM_HOME ?? join(homedir(), '.stratum'));
}

export function ensureDir(path: string): string {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  return path;
}

/** Reads a secret file, creating it with a fresh random value (0600) when absent. */
export function ensureSecret(path: string): string {
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const value = randomBytes(24).toString('base64url');
  writeFileSync(path, value + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return value;
}

export interface Secrets {
  /** Bearer token for the control plane API (CLI, kernel, panel through the proxy). */
  readonly apiToken: string;
  /** Token workers present to join and to pull work. */
  readonly joinToken: string;
}

export function ensureSecrets(home: string): Secrets {
  ensureDir(home);
  return {
    apiToken: ensureSecret(join(home, 'api-token')),
    joinToken: ensureSecret(join(home, 'join-token')),
  };
}

/** The API token a client should use: $STRATUM_TOKEN, else the local home's token file. */
export function clientToken(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.STRATUM_TOKEN) return env.STRATUM_TOKEN;
  const path = join(stratumHome(env), 'api-token');
  return existsSync(path) ? readFileSync(path, 'utf8').trim() : undefined;
}

export const DEFAULT_PORT = 7070;
export const DEFAULT_SERVER = `http://127.0.0.1:${DEFAULT_PORT}`;

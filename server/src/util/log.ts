/**
 * Structured logs (pino) to stderr. Anything that looks like a secret is redacted at the
 * logger, so a token passed by mistake never reaches a log line.
 */
import pino from 'pino';

export type Logger = pino.Logger;

export const REDACT_PATHS = [
  'token',
  'apiToken',
  'joinToken',
  'authorization',
  '*.token',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  // Inference keys of deployments.
  'apiKey',
  'secret',
  '*.apiKey',
  '*.secret',
  'headers["x-api-key"]',
  'req.headers["x-api-key"]',
];

export function createLogger(name: string, level = process.env.STRATUM_LOG_LEVEL ?? 'info'): Logger {
  // Asynchronous writes; pino flushes what is pending when the process exits (a replica's
  // "draining" line just before process.exit included), so nothing logged is lost.
  return pino({ name, level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, pino.destination(2));
}

/** A logger that drops everything: for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

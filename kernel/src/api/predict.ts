/**
 * Predictions from a serving replica over its raw-records route: `POST
 * {replica}/v2/models/{model}/predict` with `{"rows": [...]}`, answered with
 * `{model_name, model_version, predictions, probabilities?, labels?}`.
 */
import type { PredictResponse, Row } from '../types';
import { StratumError } from './errors';

export interface PredictOptions {
  /** The model's name, when the URL does not end in /v2/models/NAME. */
  readonly model?: string;
  readonly signal?: AbortSignal;
  /** How long to wait for the replica (default 30 s). */
  readonly timeoutMs?: number;
  /** The deployment's API key (deployed with --require-key), sent as `Authorization: Bearer`. */
  readonly apiKey?: string;
}

const MODEL_PATH = /\/v2\/models\/([^/]+)(?:\/versions\/[^/]+)?(?:\/(?:predict|infer))?\/?$/;

/** The predict route for a replica URL (with or without /v2/models/NAME) and a model name. */
export function predictUrl(target: string, model?: string): string {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    url = new URL('invalid:');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new StratumError('UsageError', `"${target}" is not an http(s) URL of a replica or gateway`);
  }
  const m = MODEL_PATH.exec(url.pathname);
  const inUrl = m ? decodeURIComponent(m[1]!) : undefined;
  if (inUrl && model && inUrl !== model) {
    throw new StratumError('UsageError', `the URL names model "${inUrl}" but --model says "${model}"`);
  }
  const name = inUrl ?? model;
  if (!name) {
    throw new StratumError(
      'UsageError',
      'predict needs the model name: --model NAME, or a URL ending in /v2/models/NAME',
    );
  }
  const base = (m ? url.pathname.slice(0, m.index) : url.pathname).replace(/\/+$/, '');
  return `${url.origin}${base}/v2/models/${encodeURIComponent(name)}/predict`;
}

/** Rows from `[{...}, ...]`, `{"rows": [...]}` or one `{...}` record. */
export function normalizeRows(input: unknown): Row[] {
  const isRecord = (v: unknown): v is Row => typeof v === 'object' && v !== null && !Array.isArray(v);
  const list = Array.isArray(input) ? input : isRecord(input) && Array.isArray(input.rows) ? input.rows : [input];
  if (list.length === 0) throw new StratumError('UsageError', 'predict needs at least one row');
  list.forEach((r, i) => {
    if (!isRecord(r)) throw new StratumError('UsageError', `row ${i} is not an object of column: value`);
  });
  return list as Row[];
}

/** Parses the JSON text a magic was given, naming the problem when it is not JSON. */
export function parseRowsJson(text: string): Row[] {
  try {
    return normalizeRows(JSON.parse(text));
  } catch (e) {
    if (e instanceof StratumError) throw e;
    throw new StratumError('UsageError', `rows are not valid JSON: ${(e as Error).message}`);
  }
}

function isPredictResponse(v: unknown): v is PredictResponse {
  return typeof v === 'object' && v !== null && Array.isArray((v as PredictResponse).predictions);
}

export async function predict(target: string, rows: unknown, o: PredictOptions = {}): Promise<PredictResponse> {
  const url = predictUrl(target, o.model);
  const body = JSON.stringify({ rows: normalizeRows(rows) });
  const signals = [AbortSignal.timeout(o.timeoutMs ?? 30000), ...(o.signal ? [o.signal] : [])];
  let resp: Response;
  try {
    resp = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {}) },
      body,
      signal: AbortSignal.any(signals),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (e as Error).message;
    throw new StratumError('ConnectionError', `cannot reach the replica at ${url} (${why})`);
  }
  const text = await resp.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!resp.ok) {
    const said = (json as { error?: string } | undefined)?.error ?? text.slice(0, 300);
    throw new StratumError('PredictError', `the replica answered HTTP ${resp.status} from ${url}: ${said}`);
  }
  if (!isPredictResponse(json)) {
    throw new StratumError(
      'PredictError',
      `the replica's answer from ${url} has no predictions: ${text.slice(0, 300)}`,
    );
  }
  return json;
}

/**
 * The REST front end: the Open Inference Protocol routes under /v2, the raw-records
 * `predict` route, and /metrics. A thin layer: read the body (bounded), decode with the codec,
 * call the service, encode; every error becomes `{"error": "..."}` with the status its code
 * maps to, so bad input is a 4xx and never a crash.
 */
import type { ConnectNodeAdapterOptions } from '@connectrpc/connect-node';
import type { ServerResponse } from 'node:http';
import { gunzipSync, inflateSync } from 'node:zlib';

import type { Logger } from '../util/log';
import type { ReplicaMetrics } from './metrics';
import { decodeRestInfer, encodeRestInfer, HEADER_LENGTH, modelMetadataJson, parseJson } from './oip-codec';
import type { ReplicaService } from './service';
import { HTTP_STATUS, ServingError, type Limits } from './types';

/** What connectNodeAdapter hands its fallback: every request that is not an RPC. */
export type FallbackHandler = NonNullable<ConnectNodeAdapterOptions['fallback']>;
type Request = Parameters<FallbackHandler>[0];

interface Reply {
  readonly status: number;
  readonly body: Buffer | string;
  readonly headers?: Record<string, string | number>;
}

export interface RestOptions {
  readonly service: ReplicaService;
  readonly metrics: ReplicaMetrics;
  readonly limits: Limits;
  readonly log: Logger;
}

const json = (status: number, value: unknown, headers: Record<string, string | number> = {}): Reply => ({
  status,
  body: JSON.stringify(value),
  headers: { 'content-type': 'application/json', ...headers },
});

const MODEL_ROUTE = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(?:\/(ready|infer|predict))?\/?$/;

const size = (bytes: number): string =>
  bytes >= 2 ** 20
    ? `${+(bytes / 2 ** 20).toFixed(1)} MiB`
    : bytes >= 1024
      ? `${+(bytes / 1024).toFixed(1)} KiB`
      : `${bytes} B`;

function tooLarge(limit: number): ServingError {
  return new ServingError(
    'too_large',
    `the request body exceeds this replica's limit of ${limit} bytes (${size(limit)}); send fewer rows per request or raise limits.maxBodyBytes`,
  );
}

/** The whole body, refused as soon as it passes `limit` (the rest is read and dropped). */
function readBody(req: Request, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const fail = (e: Error): void => {
      if (!done) reject(e);
      done = true;
      chunks.length = 0;
    };
    req.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > limit) fail(tooLarge(limit));
      else chunks.push(c);
    });
    req.on('end', () => {
      if (!done) resolve(Buffer.concat(chunks, size));
      done = true;
    });
    req.on('error', fail);
    // 'close' follows every request, after 'end' too: build the error (its stack is costly) only when it applies.
    req.on('close', () => {
      if (!done) fail(new Error('the client closed the connection before the body ended'));
    });
  });
}

/** A body sent with Content-Encoding gzip or deflate (tritonclient's request compression), inflated within the limit. */
function inflate(body: Buffer, encoding: string | undefined, limit: number): Buffer {
  const how = (encoding ?? 'identity').trim().toLowerCase();
  if (how === 'identity') return body;
  if (how !== 'gzip' && how !== 'deflate') {
    throw new ServingError(
      'invalid_argument',
      `Content-Encoding "${encoding}" is not supported; send gzip, deflate or identity`,
    );
  }
  try {
    return (how === 'gzip' ? gunzipSync : inflateSync)(body, { maxOutputLength: limit });
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(limit);
    throw new ServingError(
      'invalid_argument',
      `the body is not valid ${how} data: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}

const header = (req: Request, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

export function restHandler(o: RestOptions): FallbackHandler {
  const { service, metrics, limits } = o;

  type Route = { template: string; run: () => Promise<Reply> | Reply };

  function match(req: Request, path: string, method: string): Route {
    const allow = (template: string, want: 'GET' | 'POST', run: Route['run']): Route => ({
      template,
      run:
        method === want
          ? run
          : () => json(405, { error: `${method} ${path} is not allowed; use ${want}` }, { allow: want }),
    });
    if (path === '/v2/health/live') return allow(path, 'GET', () => json(200, { live: true }));
    if (path === '/v2/health/ready') {
      return allow(path, 'GET', () =>
        service.ready()
          ? json(200, { ready: true })
          : json(400, { ready: false, state: service.state, reason: service.reason }),
      );
    }
    if (path === '/v2' || path === '/v2/') return allow('/v2', 'GET', () => json(200, service.serverMetadata()));
    if (path === '/metrics') {
      return allow(path, 'GET', async () => ({
        status: 200,
        body: await metrics.registry.metrics(),
        headers: { 'content-type': metrics.registry.contentType },
      }));
    }
    const m = MODEL_ROUTE.exec(path);
    if (!m) {
      return {
        template: 'unmatched',
        run: () => json(404, { error: `no route ${method} ${path}; the Open Inference Protocol routes are under /v2` }),
      };
    }
    const [rawName, rawVersion, action] = [m[1]!, m[2], m[3]];
    const template = `/v2/models/{name}${rawVersion === undefined ? '' : '/versions/{version}'}${action ? `/${action}` : ''}`;
    const model = () => service.model(decode(rawName), rawVersion === undefined ? undefined : decode(rawVersion));
    if (action === 'ready') {
      return allow(template, 'GET', () => {
        model();
        const name = decode(rawName);
        return service.ready()
          ? json(200, { name, ready: true })
          : json(400, { name, ready: false, state: service.state, reason: service.reason });
      });
    }
    if (action === undefined) {
      return allow(template, 'GET', () => {
        const { signature } = model();
        return json(200, modelMetadataJson(service.name, service.version, signature.inputs, signature.outputs));
      });
    }
    return allow(template, 'POST', async () => {
      const loaded = model();
      const body = inflate(
        await readBody(req, limits.maxBodyBytes),
        header(req, 'content-encoding'),
        limits.maxBodyBytes,
      );
      if (action === 'predict') return json(200, await service.predict(loaded, parseJson(body)));
      const request = decodeRestInfer(body, header(req, HEADER_LENGTH), loaded.signature, limits);
      const encoded = encodeRestInfer(await service.infer(loaded, request), request.outputs);
      const headers: Record<string, string | number> =
        encoded.headerLength === null
          ? { 'content-type': 'application/json' }
          : { 'content-type': 'application/octet-stream', [HEADER_LENGTH]: encoded.headerLength };
      return { status: 200, body: encoded.body, headers };
    });
  }

  function failure(e: unknown, req: Request): Reply {
    if (e instanceof ServingError) {
      const closing: Record<string, string> =
        e.code === 'too_large' && req.httpVersionMajor === 1 ? { connection: 'close' } : {};
      return json(HTTP_STATUS[e.code], { error: e.message }, closing);
    }
    o.log.error({ err: e, url: req.url }, 'request failed');
    return json(500, { error: `internal error: ${e instanceof Error ? e.message : String(e)}` });
  }

  return (req, res) => {
    const started = performance.now();
    const path = (req.url ?? '/').split('?')[0]!;
    const { template, run } = match(req, path, req.method ?? 'GET');
    void Promise.resolve()
      .then(run)
      .catch((e: unknown) => failure(e, req))
      .then((reply) => {
        if (!res.headersSent && !res.destroyed) {
          const out = res as unknown as ServerResponse;
          out.writeHead(reply.status, reply.headers);
          out.end(reply.body);
        }
        metrics.request('rest', template, reply.status, (performance.now() - started) / 1000);
      });
  };
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ServingError('invalid_argument', `the path segment "${segment}" is not valid percent-encoding`);
  }
}

/**
 * The gateway's REST front end: the Open Inference Protocol routes of every deployment it
 * routes, health, and /metrics. Inference and metadata are forwarded to a replica as they came
 * (path, query, headers, body: a replica serves under its deployment's name); the replica's
 * answer, a 400 for bad input included, goes back as it came. The gateway's own errors are `{"error": "..."}`.
 */
import type { ConnectNodeAdapterOptions } from '@connectrpc/connect-node';
import type { ServerResponse } from 'node:http';

import { HTTP_STATUS, ServingError } from '../../serving/types';
import { checkApiKey, KeyRefused, withoutKey } from './api-keys';
import type { Dispatcher } from './dispatch';
import { passHeaders, type Forwarded, type Upstreams } from './forward';
import { isConnectionFailure, isRetriableStatus } from './router';
import type { GatewayStats } from './stats';
import type { RouteTable } from './table';

type FallbackHandler = NonNullable<ConnectNodeAdapterOptions['fallback']>;
type Request = Parameters<FallbackHandler>[0];

export interface GatewayRestOptions {
  readonly table: RouteTable;
  readonly dispatcher: Dispatcher;
  readonly stats: GatewayStats;
  readonly upstreams: Upstreams;
  readonly maxBodyBytes: number;
  readonly maxResponseBytes: number;
  readonly serverMetadata: () => { name: string; version: string; extensions: string[] };
  readonly onError: (e: unknown, url: string) => void;
}

const MODEL_ROUTE = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(?:\/(ready|infer|predict))?\/?$/;

const json = (status: number, value: unknown, headers: Record<string, string> = {}): Forwarded => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: Buffer.from(JSON.stringify(value)),
});

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ServingError('invalid_argument', `the path segment "${segment}" is not valid percent-encoding`);
  }
}

/** The body, refused past `limit` bytes (413) before it is all read. */
function readBody(req: Request, limit: number): Promise<Buffer> {
  const tooLarge = () =>
    new ServingError(
      'too_large',
      `the request body exceeds the gateway's limit of ${limit} bytes (${limit / 2 ** 20} MiB)`,
    );
  if (Number(req.headers['content-length']) > limit) return Promise.reject(tooLarge());
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
      if (size > limit) fail(tooLarge());
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

export function gatewayRestHandler(o: GatewayRestOptions): FallbackHandler {
  const { table, dispatcher } = o;

  /** `url`: the path and query as the client sent them, which the replica serves as they are. */
  async function viaReplica(req: Request, url: string, deployment: string, action: 'infer' | 'predict' | undefined) {
    const method = action ? 'POST' : 'GET';
    const body = action ? await readBody(req, o.maxBodyBytes) : undefined;
    const headers = withoutKey(passHeaders(req.headers));
    return dispatcher.dispatch<Forwarded>(deployment, async (target) => {
      try {
        const res = await o.upstreams.forward(target.url, {
          method,
          path: url,
          headers,
          maxResponseBytes: o.maxResponseBytes,
          ...(body ? { body } : {}),
        });
        if (isRetriableStatus(res.status))
          return { kind: 'retry', reason: `answered ${res.status}: ${res.body.toString('utf8', 0, 300)}` };
        return { kind: 'answer', value: res, failed: res.status >= 500 };
      } catch (e) {
        if (isConnectionFailure(e)) return { kind: 'retry', reason: e instanceof Error ? e.message : String(e) };
        throw e;
      }
    });
  }

  type Parsed = { deployment: string; action: 'ready' | 'infer' | 'predict' | undefined };

  function parse(path: string): Parsed | null {
    const m = MODEL_ROUTE.exec(path);
    if (!m) return null;
    return { deployment: decode(m[1]!), action: m[3] as Parsed['action'] };
  }

  const notAllowed = (method: string, path: string, want: 'GET' | 'POST'): Forwarded | null =>
    method === want ? null : json(405, { error: `${method} ${path} is not allowed; use ${want}` }, { allow: want });

  async function own(path: string, method: string): Promise<Forwarded> {
    if (path === '/v2/health/live') return notAllowed(method, path, 'GET') ?? json(200, { live: true });
    if (path === '/v2/health/ready') {
      const ready = table.received
        ? json(200, { ready: true })
        : json(400, { ready: false, reason: 'no routing table from the control plane yet' });
      return notAllowed(method, path, 'GET') ?? ready;
    }
    if (path === '/v2' || path === '/v2/') return notAllowed(method, path, 'GET') ?? json(200, o.serverMetadata());
    if (path === '/metrics') {
      const text = await o.stats.registry.metrics();
      return (
        notAllowed(method, path, 'GET') ?? {
          status: 200,
          headers: { 'content-type': o.stats.registry.contentType },
          body: Buffer.from(text),
        }
      );
    }
    return json(404, { error: `no route ${method} ${path}; the Open Inference Protocol routes are under /v2` });
  }

  async function model(
    req: Request,
    p: Parsed,
    path: string,
    method: string,
  ): Promise<{ reply: Forwarded; coldStart: boolean }> {
    const refused = notAllowed(method, path, p.action && p.action !== 'ready' ? 'POST' : 'GET');
    if (refused) return { reply: refused, coldStart: false };
    // Metadata, ready, infer and predict of a keyed deployment all need its key.
    checkApiKey(await dispatcher.route(p.deployment), req.headers);
    if (p.action === 'ready') {
      const r = await dispatcher.route(p.deployment);
      const name = p.deployment;
      if (r.targets.length > 0) return { reply: json(200, { name, ready: true }), coldStart: false };
      const reason = r.scaledToZero ? 'scaled to zero; the first request starts a replica' : 'no ready replica';
      return { reply: json(400, { name, ready: false, reason }), coldStart: false };
    }
    const { value, coldStart } = await viaReplica(req, req.url ?? path, p.deployment, p.action);
    return { reply: value, coldStart };
  }

  function failure(e: unknown, req: Request): Forwarded {
    if (e instanceof KeyRefused) return json(401, { error: e.message }, { 'www-authenticate': 'Bearer' });
    if (e instanceof ServingError) {
      // An HTTP/1.1 body left unread would be taken for the next request: close the connection.
      const close: Record<string, string> =
        e.code === 'too_large' && req.httpVersionMajor === 1 ? { connection: 'close' } : {};
      return json(HTTP_STATUS[e.code], { error: e.message }, close);
    }
    o.onError(e, req.url ?? '');
    return json(502, { error: `the gateway could not reach a replica: ${e instanceof Error ? e.message : String(e)}` });
  }

  return (req, res) => {
    const started = performance.now();
    const path = (req.url ?? '/').split('?')[0]!;
    const method = req.method ?? 'GET';
    let deployment: string | undefined;
    let coldStart = false;
    void Promise.resolve()
      .then(async () => {
        const p = parse(path);
        if (!p) return own(path, method);
        deployment = p.deployment;
        const r = await model(req, p, path, method);
        coldStart = r.coldStart;
        return r.reply;
      })
      .catch((e: unknown) => failure(e, req))
      .then((reply) => {
        if (!res.headersSent && !res.destroyed) {
          const out = res as unknown as ServerResponse;
          out.writeHead(reply.status, reply.headers);
          out.end(reply.body);
        }
        // Only routed deployments get series: a client guessing names must not grow the registry.
        if (deployment !== undefined && table.get(deployment)) {
          o.stats.answered(deployment, 'rest', reply.status, (performance.now() - started) / 1000, coldStart);
        }
      });
  };
}

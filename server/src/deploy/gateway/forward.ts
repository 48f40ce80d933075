/**
 * The REST leg to a replica: one HTTP/1.1 request over a keep-alive agent, the body and the
 * headers that describe it (content-type, the binary-data extension's
 * inference-header-content-length, ...) passed on unchanged, the answer read whole so a
 * replica that cannot answer can be retried before the client sees anything.
 */
import { Agent, request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';

export interface Forwarded {
  readonly status: number;
  readonly headers: OutgoingHttpHeaders;
  readonly body: Buffer;
}

/** Connection-level headers (RFC 9110 §7.6.1) and HTTP/2 pseudo-headers never cross a proxy. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'host',
  'content-length',
  'http2-settings',
]);

export function passHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || k.startsWith(':') || HOP_BY_HOP.has(k)) continue;
    out[k] = v;
  }
  return out;
}

export class ResponseTooLarge extends Error {
  override readonly name = 'ResponseTooLarge';
}

export interface ForwardOptions {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly headers: OutgoingHttpHeaders;
  readonly body?: Buffer;
  /** Answers larger than this fail with ResponseTooLarge. */
  readonly maxResponseBytes: number;
}

/** Where a replica's base URL points; parsed once per replica, not per request. */
interface Origin {
  readonly hostname: string;
  readonly port: number;
  /** The base URL's own path, without its trailing slash ("" for a replica at the root). */
  readonly prefix: string;
}

const origins = new Map<string, Origin>();

export function originOf(baseUrl: string): Origin {
  let o = origins.get(baseUrl);
  if (!o) {
    const u = new URL(baseUrl);
    if (u.protocol !== 'http:') throw new Error(`replica URL "${baseUrl}" is not http://`);
    o = {
      hostname: u.hostname.replace(/^\[|\]$/g, ''),
      port: Number(u.port || 80),
      prefix: u.pathname.replace(/\/+$/, ''),
    };
    // Replicas come and go; a bound keeps a long-lived gateway from collecting every URL it saw.
    if (origins.size >= 1024) origins.clear();
    origins.set(baseUrl, o);
  }
  return o;
}

export function forward(agent: Agent, baseUrl: string, o: ForwardOptions): Promise<Forwarded> {
  const { hostname, port, prefix } = originOf(baseUrl);
  const path = prefix + (o.path.startsWith('/') ? o.path : `/${o.path}`);
  return new Promise((resolve, reject) => {
    const headers: OutgoingHttpHeaders = o.body ? { ...o.headers, 'content-length': o.body.length } : o.headers;
    const req = request({ hostname, port, path, method: o.method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > o.maxResponseBytes) {
          res.destroy(new ResponseTooLarge(`the replica's answer exceeds ${o.maxResponseBytes} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 502,
          headers: passHeaders(res.headers),
          body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size),
        }),
      );
      res.on('error', reject);
      res.on('aborted', () =>
        reject(Object.assign(new Error('the replica closed the connection mid-answer'), { code: 'ECONNRESET' })),
      );
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

/**
 * Keep-alive connections to the replicas, enough per replica for the gateway's concurrency
 * (a request never queues for a socket below 256 in flight per replica), reused most recently
 * used first, Nagle off: answers are single small writes that must not wait for an ACK.
 */
export function createAgent(): Agent {
  return new Agent({ keepAlive: true, maxSockets: 256, keepAliveMsecs: 1000, scheduling: 'lifo', noDelay: true });
}

/**
 * The REST leg to a replica: HTTP/1.1 over pooled keep-alive sockets, written and parsed here
 * (http1-response.ts) rather than with node:http's client, whose per-request objects were most
 * of the gateway's own CPU time per forwarded request.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';

import { ResponseParser, type ParsedResponse } from './http1-response';

export { ResponseTooLarge } from './http1-response';

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
  readonly key: string;
  readonly hostname: string;
  readonly port: number;
  /** The Host header: the URL's host as written. */
  readonly host: string;
  /** The base URL's own path, without its trailing slash ("" for a replica at the root). */
  readonly prefix: string;
}

const origins = new Map<string, Origin>();

export function originOf(baseUrl: string): Origin {
  let o = origins.get(baseUrl);
  if (!o) {
    const u = new URL(baseUrl);
    if (u.protocol !== 'http:') throw new Error(`replica URL "${baseUrl}" is not http://`);
    const hostname = u.hostname.replace(/^\[|\]$/g, '');
    const port = Number(u.port || 80);
    o = { key: `${hostname}:${port}`, hostname, port, host: u.host, prefix: u.pathname.replace(/\/+$/, '') };
    // Replicas come and go; a bound keeps a long-lived gateway from collecting every URL it saw.
    if (origins.size >= 1024) origins.clear();
    origins.set(baseUrl, o);
  }
  return o;
}

/** The request's bytes: request line, headers, body length, as one HTTP/1.1 message head. */
export function requestHead(origin: Origin, o: ForwardOptions): string {
  const path = origin.prefix + (o.path.startsWith('/') ? o.path : `/${o.path}`);
  // The path is the client's request target as Node's parser accepted it; a line break would
  // split the message, so it is refused here too.
  if (/\s/.test(path)) throw new Error(`the request path ${JSON.stringify(path)} cannot be forwarded`);
  let head = `${o.method} ${path} HTTP/1.1\r\nhost: ${origin.host}\r\n`;
  for (const [k, v] of Object.entries(o.headers)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const item of v) head += `${k}: ${item}\r\n`;
    else head += `${k}: ${v}\r\n`;
  }
  if (o.body) head += `content-length: ${o.body.length}\r\n`;
  return `${head}\r\n`;
}

const forwarded = (res: ParsedResponse): Forwarded => ({
  status: res.status,
  headers: passHeaders(res.headers as IncomingHttpHeaders),
  body: res.body,
});

interface Pending {
  readonly resolve: (r: Forwarded) => void;
  readonly reject: (e: Error) => void;
}

/** One keep-alive connection to a replica, carrying one request at a time. */
class Connection {
  readonly socket: Socket;
  private parser: ResponseParser;
  private pending: Pending | null = null;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly origin: Origin,
    private readonly release: (c: Connection, reusable: boolean) => void,
  ) {
    this.parser = new ResponseParser(0);
    this.socket = connect({ host: origin.hostname, port: origin.port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (e) => this.fail(e));
    this.socket.on('close', () => this.onClose());
  }

  send(head: string, body: Buffer | undefined, maxResponseBytes: number): Promise<Forwarded> {
    clearTimeout(this.idleTimer);
    this.parser = new ResponseParser(maxResponseBytes);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      // One write for a small message (one syscall); a large body is not copied.
      if (!body) this.socket.write(head, 'latin1');
      else if (body.length <= 16384) this.socket.write(Buffer.concat([Buffer.from(head, 'latin1'), body]));
      else {
        this.socket.cork();
        this.socket.write(head, 'latin1');
        this.socket.write(body);
        this.socket.uncork();
      }
    });
  }

  /** Idle in the pool: closed after `ms` so it never meets the replica's own keep-alive timeout. */
  idle(ms: number): void {
    this.idleTimer = setTimeout(() => this.socket.destroy(), ms);
    this.idleTimer.unref();
  }

  private onData(chunk: Buffer): void {
    const p = this.pending;
    // Bytes nobody asked for: the connection is out of step and cannot be trusted again.
    if (!p) return void this.socket.destroy();
    let res: ParsedResponse | null;
    try {
      res = this.parser.push(chunk);
    } catch (e) {
      this.socket.destroy();
      return this.fail(e as Error);
    }
    if (!res) return;
    this.pending = null;
    // Bytes past the answer (none was asked for): the connection is out of step, not reused.
    const reusable = !res.close && this.parser.buffered === 0;
    if (!reusable) this.socket.destroy();
    this.release(this, reusable);
    p.resolve(forwarded(res));
  }

  private onClose(): void {
    clearTimeout(this.idleTimer);
    const p = this.pending;
    this.pending = null;
    this.release(this, false);
    if (!p) return;
    let res: ParsedResponse | null = null;
    try {
      res = this.parser.end();
    } catch (e) {
      return p.reject(e as Error);
    }
    if (res) p.resolve(forwarded(res));
    else
      p.reject(Object.assign(new Error('the replica closed the connection before answering'), { code: 'ECONNRESET' }));
  }

  private fail(e: Error): void {
    const p = this.pending;
    this.pending = null;
    this.socket.destroy();
    p?.reject(e);
  }
}

export interface UpstreamOptions {
  /** Connections per replica, busy and idle; requests past it wait for one. Default 256. */
  readonly maxConnections?: number;
  /** An idle connection is closed after this (below Node's 5 s server keep-alive timeout). Default 4 s. */
  readonly idleMs?: number;
}

/**
 * The REST leg to the replicas: keep-alive HTTP/1.1 connections per replica, one request at a
 * time each, most recently used first, Nagle off (answers are single small writes that must
 * not wait for an ACK). The body and the headers that describe it (content-type, the
 * binary-data extension's inference-header-content-length, ...) pass unchanged; the answer is
 * read whole, so a replica that cannot answer can be retried before the client sees anything.
 * Failures carry the socket's error code (ECONNREFUSED, ECONNRESET, ...), which the dispatcher
 * reads to try another replica.
 */
export class Upstreams {
  private readonly idle = new Map<string, Connection[]>();
  private readonly open = new Map<string, number>();
  private readonly waiting = new Map<string, (() => void)[]>();
  private readonly all = new Set<Connection>();
  private readonly maxConnections: number;
  private readonly idleMs: number;
  private closed = false;

  constructor(o: UpstreamOptions = {}) {
    this.maxConnections = o.maxConnections ?? 256;
    this.idleMs = o.idleMs ?? 4000;
  }

  async forward(baseUrl: string, o: ForwardOptions): Promise<Forwarded> {
    const origin = originOf(baseUrl);
    const head = requestHead(origin, o);
    const conn = this.idle.get(origin.key)?.pop() ?? (await this.connection(origin));
    return conn.send(head, o.body, o.maxResponseBytes);
  }

  /** Every connection ends; a request still in flight fails (the gateway closes this after draining). */
  close(): void {
    this.closed = true;
    for (const c of this.all) c.socket.destroy();
    this.idle.clear();
  }

  private async connection(origin: Origin): Promise<Connection> {
    while ((this.open.get(origin.key) ?? 0) >= this.maxConnections) {
      await new Promise<void>((resolve) => {
        const w = this.waiting.get(origin.key) ?? [];
        w.push(resolve);
        this.waiting.set(origin.key, w);
      });
      const reused = this.idle.get(origin.key)?.pop();
      if (reused) return reused;
    }
    if (this.closed) throw Object.assign(new Error('the gateway is closing'), { code: 'ECONNABORTED' });
    this.open.set(origin.key, (this.open.get(origin.key) ?? 0) + 1);
    let released = false;
    const conn = new Connection(origin, (c, reusable) => {
      if (reusable && !this.closed) {
        const list = this.idle.get(origin.key) ?? [];
        list.push(c);
        this.idle.set(origin.key, list);
        c.idle(this.idleMs);
      } else {
        c.socket.destroy();
        this.all.delete(c);
        const list = this.idle.get(origin.key);
        const i = list?.indexOf(c) ?? -1;
        if (i >= 0) list!.splice(i, 1);
        if (!released) {
          released = true;
          const n = (this.open.get(origin.key) ?? 1) - 1;
          if (n > 0) this.open.set(origin.key, n);
          else this.open.delete(origin.key);
        }
      }
      this.waiting.get(origin.key)?.shift()?.();
    });
    this.all.add(conn);
    return conn;
  }
}

/**
 * An HTTP/1.1 response parser for the gateway's leg to a replica: bytes in, whole responses
 * out. The gateway reads every answer whole before the client sees it (so a failed replica can
 * be retried), so this needs none of the streaming of Node's client, whose per-request objects
 * (ClientRequest, IncomingMessage, agent bookkeeping) cost more than the forwarding itself.
 * It takes what a server may send (RFC 9112): a Content-Length body, a chunked body (extensions
 * and trailers skipped), a body delimited by the connection closing, and interim 1xx answers
 * (skipped). Pure: no sockets.
 */
import type { OutgoingHttpHeaders } from 'node:http';

export interface ParsedResponse {
  readonly status: number;
  /** Lower-case names; a repeated header's values joined with ", " (set-cookie kept as a list). */
  readonly headers: OutgoingHttpHeaders;
  readonly body: Buffer;
  /** The server will close the connection (or HTTP/1.0 without keep-alive): do not reuse it. */
  readonly close: boolean;
}

export class MalformedResponse extends Error {
  override readonly name = 'MalformedResponse';
  /** A broken answer means a broken connection: the dispatcher tries another replica. */
  readonly code = 'ECONNRESET';
}

export class ResponseTooLarge extends Error {
  override readonly name = 'ResponseTooLarge';
}

const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');
/** Longest status line and headers taken (Node's own default is 16 KiB). */
const MAX_HEAD_BYTES = 64 * 1024;

type Framing = { kind: 'length'; remaining: number } | { kind: 'chunked' } | { kind: 'close' };

interface Head {
  readonly status: number;
  readonly headers: OutgoingHttpHeaders;
  readonly framing: Framing;
  readonly close: boolean;
}

export function parseHead(text: string): Head {
  const lines = text.split('\r\n');
  const m = /^HTTP\/1\.([01]) (\d{3})(?: .*)?$/.exec(lines[0]!);
  if (!m)
    throw new MalformedResponse(
      `the replica's answer does not start with an HTTP/1.x status line: "${lines[0]!.slice(0, 80)}"`,
    );
  const headers: Record<string, string | string[]> = {};
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0)
      throw new MalformedResponse(`the replica sent a header line without a name: "${line.slice(0, 80)}"`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const prev = headers[name];
    if (prev === undefined) headers[name] = name === 'set-cookie' ? [value] : value;
    else if (Array.isArray(prev)) prev.push(value);
    else headers[name] = `${prev}, ${value}`;
  }
  const status = Number(m[2]);
  const connection = String(headers.connection ?? '').toLowerCase();
  const close = connection.includes('close') || (m[1] === '0' && !connection.includes('keep-alive'));
  const te = String(headers['transfer-encoding'] ?? '').toLowerCase();
  let framing: Framing;
  // (1xx heads carry no body either; push() skips them before reading one.)
  if (status === 204 || status === 304) framing = { kind: 'length', remaining: 0 };
  else if (te.includes('chunked')) framing = { kind: 'chunked' };
  else if (headers['content-length'] !== undefined) {
    const n = Number(headers['content-length']);
    if (!Number.isSafeInteger(n) || n < 0)
      throw new MalformedResponse(`the replica sent content-length "${String(headers['content-length'])}"`);
    framing = { kind: 'length', remaining: n };
  } else framing = { kind: 'close' };
  return { status, headers, framing, close: close || framing.kind === 'close' };
}

/**
 * Feeds bytes of one connection; `push` answers the complete responses found so far (at most
 * one per request sent: the gateway never pipelines). `end()` answers the response a closing
 * connection completes, if any.
 */
export class ResponseParser {
  private buf: Buffer = Buffer.alloc(0);
  private head: Head | null = null;
  private body: Buffer[] = [];
  private size = 0;
  /** Where a chunked body is: a chunk-size line, its data, the CRLF after the data, or the trailers. */
  private chunk: 'size' | 'data' | 'data-end' | 'trailers' = 'size';
  private chunkLeft = 0;

  constructor(private readonly maxBodyBytes: number) {}

  /** Bytes received and not yet part of a complete response. */
  get buffered(): number {
    return this.buf.length;
  }

  /** The next complete response in what has arrived, or null while more bytes are needed. */
  push(chunk: Buffer): ParsedResponse | null {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      if (!this.head) {
        const i = this.buf.indexOf(HEAD_END);
        if (i < 0) {
          if (this.buf.length > MAX_HEAD_BYTES)
            throw new MalformedResponse(`the replica's headers exceed ${MAX_HEAD_BYTES} bytes`);
          return null;
        }
        const head = parseHead(this.buf.toString('latin1', 0, i));
        this.buf = this.buf.subarray(i + 4);
        if (head.status >= 100 && head.status < 200) continue; // interim (100 Continue): the answer follows
        this.head = head;
      }
      const done = this.readBody(this.head.framing);
      if (!done) return null;
      return this.finish();
    }
  }

  /** The connection closed: the close-delimited response it completes, or null if none was under way. */
  end(): ParsedResponse | null {
    if (this.head?.framing.kind === 'close') return this.finish();
    if (this.head || this.buf.length > 0) throw new MalformedResponse('the replica closed the connection mid-answer');
    return null;
  }

  private take(n: number): void {
    this.size += n;
    if (this.size > this.maxBodyBytes)
      throw new ResponseTooLarge(`the replica's answer exceeds ${this.maxBodyBytes} bytes`);
    this.body.push(this.buf.subarray(0, n));
    this.buf = this.buf.subarray(n);
  }

  /** True once the body is complete. */
  private readBody(f: Framing): boolean {
    if (f.kind === 'length') {
      const n = Math.min(f.remaining, this.buf.length);
      if (n > 0) this.take(n);
      f.remaining -= n;
      return f.remaining === 0;
    }
    if (f.kind === 'close') {
      if (this.buf.length > 0) this.take(this.buf.length);
      return false;
    }
    for (;;) {
      switch (this.chunk) {
        case 'size': {
          const i = this.buf.indexOf(CRLF);
          if (i < 0) {
            if (this.buf.length > 1024) throw new MalformedResponse('the replica sent a chunk-size line over 1 KiB');
            return false;
          }
          const sizeText = this.buf.toString('latin1', 0, i).split(';')[0]!.trim();
          if (!/^[0-9a-fA-F]{1,12}$/.test(sizeText))
            throw new MalformedResponse(`the replica sent a chunk size "${sizeText.slice(0, 20)}"`);
          this.buf = this.buf.subarray(i + 2);
          this.chunkLeft = parseInt(sizeText, 16);
          this.chunk = this.chunkLeft === 0 ? 'trailers' : 'data';
          break;
        }
        case 'data': {
          const n = Math.min(this.chunkLeft, this.buf.length);
          if (n > 0) this.take(n);
          this.chunkLeft -= n;
          if (this.chunkLeft > 0) return false;
          this.chunk = 'data-end';
          break;
        }
        case 'data-end':
          if (this.buf.length < 2) return false;
          if (this.buf[0] !== 13 || this.buf[1] !== 10)
            throw new MalformedResponse('the replica sent a chunk whose data does not end with CRLF');
          this.buf = this.buf.subarray(2);
          this.chunk = 'size';
          break;
        case 'trailers': {
          // Trailer lines up to an empty one; they are not passed on.
          const i = this.buf.indexOf(CRLF);
          if (i < 0) return false;
          this.buf = this.buf.subarray(i + 2);
          if (i === 0) {
            this.chunk = 'size';
            return true;
          }
          break;
        }
      }
    }
  }

  private finish(): ParsedResponse {
    const head = this.head!;
    const body = this.body.length === 1 ? this.body[0]! : Buffer.concat(this.body, this.size);
    this.head = null;
    this.body = [];
    this.size = 0;
    return { status: head.status, headers: head.headers, body, close: head.close };
  }
}

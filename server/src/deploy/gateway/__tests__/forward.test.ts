import fc from 'fast-check';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';

import { MalformedResponse, ResponseParser, ResponseTooLarge } from '../http1-response';
import { Upstreams } from '../forward';
import { isConnectionFailure } from '../router';

/** Feeds `bytes` split at `cuts`; collects the responses as they complete. */
function parseSplit(bytes: Buffer, cuts: readonly number[], max = 1 << 20) {
  const parser = new ResponseParser(max);
  const out = [];
  let from = 0;
  for (const at of [...cuts.filter((c) => c > 0 && c < bytes.length)].sort((a, b) => a - b).concat(bytes.length)) {
    const r = parser.push(bytes.subarray(from, at));
    if (r) out.push(r);
    from = at;
  }
  return { out, parser };
}

const CHUNKED = Buffer.from(
  'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n' +
    '5;ext=1\r\n{"a":\r\n' +
    'a\r\n[1,2,3,4]}\r\n' +
    '0\r\nx-trailer: y\r\n\r\n',
);

describe('ResponseParser', () => {
  it('reads a Content-Length answer, headers lower-cased, repeats joined', () => {
    const bytes = Buffer.from(
      'HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nX-A: 1\r\nx-a: 2\r\nContent-Length: 13\r\n\r\n{"error":"x"}',
    );
    const { out } = parseSplit(bytes, []);
    expect(out).toHaveLength(1);
    expect(out[0]!.status).toBe(400);
    expect(out[0]!.headers['content-type']).toBe('application/json');
    expect(out[0]!.headers['x-a']).toBe('1, 2');
    expect(out[0]!.body.toString()).toBe('{"error":"x"}');
    expect(out[0]!.close).toBe(false);
  });

  it('decodes chunked bodies (extensions and trailers dropped), however the bytes are split (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(CHUNKED.length), { maxLength: 12 }), (cuts) => {
        const { out } = parseSplit(CHUNKED, cuts);
        expect(out).toHaveLength(1);
        expect(out[0]!.body.toString()).toBe('{"a":[1,2,3,4]}');
      }),
    );
  });

  it('skips an interim 100 Continue and answers two responses one after the other on one connection', () => {
    const one = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';
    const parser = new ResponseParser(100);
    expect(parser.push(Buffer.from(one))?.body.toString()).toBe('ok');
    expect(parser.buffered).toBe(0);
    expect(parser.push(Buffer.from('HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1'))?.status).toBe(204);
    // What follows an answer stays buffered: the connection is out of step.
    expect(parser.buffered).toBe('HTTP/1.1'.length);
  });

  it('ends a close-delimited body when the connection ends, and says a cut answer is broken', () => {
    const parser = new ResponseParser(100);
    expect(parser.push(Buffer.from('HTTP/1.0 200 OK\r\n\r\npart one, '))).toBeNull();
    expect(parser.push(Buffer.from('part two'))).toBeNull();
    const r = parser.end()!;
    expect(r.body.toString()).toBe('part one, part two');
    expect(r.close).toBe(true);

    const cut = new ResponseParser(100);
    expect(cut.push(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc'))).toBeNull();
    expect(() => cut.end()).toThrow(MalformedResponse);
  });

  it('refuses what is not HTTP, bad lengths and chunk sizes, and bodies over the limit', () => {
    expect(() => new ResponseParser(100).push(Buffer.from('SSH-2.0-OpenSSH\r\n\r\n'))).toThrow(/status line/);
    expect(() => new ResponseParser(100).push(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n'))).toThrow(
      /content-length "-1"/,
    );
    expect(() =>
      new ResponseParser(100).push(Buffer.from('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n')),
    ).toThrow(/chunk size "zz"/);
    expect(() =>
      new ResponseParser(10).push(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\nhello world')),
    ).toThrow(ResponseTooLarge);
    // A broken answer reads as a broken connection: the gateway tries another replica.
    expect(isConnectionFailure(new MalformedResponse('x'))).toBe(true);
  });
});

function listen(server: Server | HttpServer): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
}

describe('Upstreams', () => {
  let http: HttpServer;
  let url: string;
  const connections = new Set<Socket>();

  beforeAll(async () => {
    http = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const echo = { method: req.method, url: req.url, host: req.headers.host, ct: req.headers['content-type'] };
        if (req.url === '/stream') {
          // No length: Node streams it chunked.
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('first ');
          setTimeout(() => res.end('second'), 5);
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json', 'x-replica': 'r1' });
        res.end(JSON.stringify({ ...echo, body: Buffer.concat(chunks).toString() }));
      });
    });
    http.on('connection', (s: Socket) => connections.add(s));
    url = await listen(http);
  });

  afterAll(async () => {
    await new Promise((r) => http.close(r));
  });

  it('forwards method, path, headers and body, and reuses one connection for requests in turn', async () => {
    const up = new Upstreams();
    try {
      connections.clear();
      for (let i = 0; i < 5; i++) {
        const r = await up.forward(`${url}/base/`, {
          method: 'POST',
          path: `/v2/models/m/infer?i=${i}`,
          headers: { 'content-type': 'application/json', 'x-list': ['a', 'b'] },
          body: Buffer.from(`{"i":${i}}`),
          maxResponseBytes: 1 << 20,
        });
        expect(r.status).toBe(200);
        expect(r.headers['x-replica']).toBe('r1');
        // Connection-level headers stay on their hop.
        expect(r.headers['content-length']).toBeUndefined();
        expect(r.headers.connection).toBeUndefined();
        expect(JSON.parse(r.body.toString())).toEqual({
          method: 'POST',
          url: `/base/v2/models/m/infer?i=${i}`,
          host: url.slice('http://'.length),
          ct: 'application/json',
          body: `{"i":${i}}`,
        });
      }
      expect(connections.size).toBe(1);
    } finally {
      up.close();
    }
  });

  it('reads a chunked answer whole, and opens one connection per concurrent request up to its bound', async () => {
    const up = new Upstreams({ maxConnections: 3 });
    try {
      connections.clear();
      const opts = { method: 'GET' as const, path: '/stream', headers: {}, maxResponseBytes: 1024 };
      const answers = await Promise.all(Array.from({ length: 8 }, () => up.forward(url, opts)));
      expect(answers.map((a) => a.body.toString())).toEqual(Array(8).fill('first second'));
      expect(connections.size).toBe(3);
    } finally {
      up.close();
    }
  });

  it('fails with the code the dispatcher retries on: refused, reset mid-answer, garbage', async () => {
    const up = new Upstreams();
    const opts = { method: 'GET' as const, path: '/', headers: {}, maxResponseBytes: 1024 };
    const raw = createNetServer((s) => {
      s.once('data', (d: Buffer) => {
        if (d.toString().startsWith('GET /reset')) s.end('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\ncut');
        else s.end('this is not http\r\n\r\n');
      });
    });
    const rawUrl = await listen(raw);
    try {
      const closed = createNetServer();
      const closedUrl = await listen(closed);
      await new Promise((r) => closed.close(r));
      for (const [target, path] of [
        [closedUrl, '/'],
        [rawUrl, '/reset'],
        [rawUrl, '/garbage'],
      ] as const) {
        const e = await up.forward(target, { ...opts, path }).then(
          () => null,
          (err: unknown) => err,
        );
        expect(isConnectionFailure(e)).toBe(true);
      }
      // Whatever failed before, a good replica still answers.
      expect((await up.forward(url, opts)).status).toBe(200);
    } finally {
      up.close();
      await new Promise((r) => raw.close(r));
    }
  });

  it('does not reuse a connection that sent more than the answer', async () => {
    const up = new Upstreams();
    let opened = 0;
    const twice = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';
    const raw = createNetServer((s) => {
      opened++;
      s.on('data', () => s.write(twice + twice));
    });
    const rawUrl = await listen(raw);
    try {
      const opts = { method: 'GET' as const, path: '/', headers: {}, maxResponseBytes: 1024 };
      for (let i = 0; i < 3; i++) expect((await up.forward(rawUrl, opts)).body.toString()).toBe('ok');
      expect(opened).toBe(3);
    } finally {
      up.close();
      await new Promise((r) => raw.close(r));
    }
  });

  it('close() ends busy and idle connections: a request in flight fails, a new one is refused', async () => {
    const up = new Upstreams();
    // Reads and never answers.
    const silent = createNetServer((s) => s.resume());
    const silentUrl = await listen(silent);
    const opts = { method: 'GET' as const, path: '/', headers: {}, maxResponseBytes: 1024 };
    try {
      expect((await up.forward(url, opts)).status).toBe(200);
      const hanging = up.forward(silentUrl, opts);
      await new Promise((r) => setTimeout(r, 20));
      up.close();
      await expect(hanging).rejects.toMatchObject({ code: 'ECONNRESET' });
      await expect(up.forward(url, opts)).rejects.toThrow(/closing/);
    } finally {
      await new Promise((r) => silent.close(r));
    }
  });

  it('refuses a path that would split the message', async () => {
    const up = new Upstreams();
    await expect(
      up.forward(url, { method: 'GET', path: '/x HTTP/1.1\r\nx-evil: 1', headers: {}, maxResponseBytes: 10 }),
    ).rejects.toThrow(/cannot be forwarded/);
    up.close();
  });
});

/**
 * `predict` against a tiny local HTTP server that answers a replica's raw-records route,
 * `POST /v2/models/{model}/predict`, as the serving replica does.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { Recorder } from '../../__tests__/recorder';
import { runMagicCell } from '../../magics/run';
import { StratumError } from '../errors';
import { normalizeRows, predict, predictUrl } from '../predict';
import { Stratum } from '../stratum';

interface Seen {
  readonly url: string;
  readonly body: unknown;
}

let server: Server;
let base: string;
const seen: Seen[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', body: JSON.parse(body || 'null') });
      const m = /^\/v2\/models\/([^/]+)\/predict$/.exec(req.url ?? '');
      res.setHeader('content-type', 'application/json');
      if (req.method !== 'POST' || !m) {
        res.statusCode = 404;
        res.end(JSON.stringify({ error: `no route ${req.method} ${req.url}` }));
        return;
      }
      const rows = (JSON.parse(body) as { rows: { flipper: number }[] }).rows;
      if (rows.some((r) => typeof r.flipper !== 'number')) {
        res.statusCode = 400;
        res.end(JSON.stringify({ error: 'column "flipper" must be a number' }));
        return;
      }
      res.end(
        JSON.stringify({
          model_name: m[1],
          model_version: '3',
          predictions: rows.map((r) => (r.flipper > 200 ? 'Gentoo' : 'Adelie')),
          probabilities: rows.map((r) => (r.flipper > 200 ? [0.1, 0.9] : [0.8, 0.2])),
          labels: ['Adelie', 'Gentoo'],
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('predictUrl', () => {
  it('builds the raw-records route from a replica URL and a model name', () => {
    expect(predictUrl('http://h:9/', 'penguins')).toBe('http://h:9/v2/models/penguins/predict');
    expect(predictUrl('http://h:9/v2/models/penguins')).toBe('http://h:9/v2/models/penguins/predict');
    expect(predictUrl('http://h:9/gw/v2/models/p/versions/2/predict')).toBe('http://h:9/gw/v2/models/p/predict');
  });

  it('says what is missing', () => {
    expect(() => predictUrl('http://h:9')).toThrow('predict needs the model name');
    expect(() => predictUrl('http://h:9/v2/models/a', 'b')).toThrow('the URL names model "a" but --model says "b"');
    expect(() => predictUrl('penguins')).toThrow('"penguins" is not an http(s) URL of a replica or gateway');
  });
});

describe('normalizeRows', () => {
  it('takes a list of rows, {rows: [...]} or one row', () => {
    expect(normalizeRows([{ a: 1 }])).toEqual([{ a: 1 }]);
    expect(normalizeRows({ rows: [{ a: 1 }, { a: 2 }] })).toEqual([{ a: 1 }, { a: 2 }]);
    expect(normalizeRows({ a: 1 })).toEqual([{ a: 1 }]);
    expect(() => normalizeRows([])).toThrow('at least one row');
    expect(() => normalizeRows([1])).toThrow('row 0 is not an object');
  });
});

describe('predict', () => {
  it('posts the rows and returns the replica answer', async () => {
    const r = await new Stratum().predict(`${base}/v2/models/penguins`, [{ flipper: 230 }, { flipper: 180 }]);
    expect(r).toEqual({
      model_name: 'penguins',
      model_version: '3',
      predictions: ['Gentoo', 'Adelie'],
      probabilities: [
        [0.1, 0.9],
        [0.8, 0.2],
      ],
      labels: ['Adelie', 'Gentoo'],
    });
    expect(seen.at(-1)).toEqual({
      url: '/v2/models/penguins/predict',
      body: { rows: [{ flipper: 230 }, { flipper: 180 }] },
    });
  });

  it("reports the replica's error message and an unreachable replica in one line", async () => {
    await expect(predict(base, { rows: [{ flipper: 'x' }] }, { model: 'm' })).rejects.toThrow(
      `the replica answered HTTP 400 from ${base}/v2/models/m/predict: column "flipper" must be a number`,
    );
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const e = await predict(`http://127.0.0.1:${port}`, [{ a: 1 }], { model: 'm' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StratumError);
    expect((e as StratumError).ename).toBe('ConnectionError');
    expect((e as StratumError).message).toMatch(
      /^cannot reach the replica at http:\/\/127\.0\.0\.1:\d+\/v2\/models\/m\/predict \(ECONNREFUSED\)$/,
    );
  });
});

describe('%stratum predict', () => {
  const ctx = (out: Recorder) => ({ stratum: new Stratum(), out, cwd: process.cwd(), bind: async () => undefined });

  it('shows the rows with their predictions as HTML and text', async () => {
    const out = new Recorder();
    await runMagicCell(`%stratum predict ${base} --model penguins {"rows": [{"flipper": 230}]}`, ctx(out));
    const { bundle } = out.shown[0]!;
    expect(bundle['text/plain']).toBe(
      'model penguins:3\nflipper  prediction  probability\n-------  ----------  -----------\n230      Gentoo      0.9000',
    );
    expect(bundle['text/html']).toContain(
      '<td style="padding:2px 8px;text-align:left;border-bottom:1px solid var(--jp-border-color2,#ddd)">Gentoo</td>',
    );
  });

  it('takes the rows from the body of %%stratum predict', async () => {
    const out = new Recorder();
    await runMagicCell(
      `%%stratum predict ${base}/v2/models/penguins\n[{"flipper": 180},\n {"flipper": 210}]`,
      ctx(out),
    );
    expect(out.shown[0]!.bundle['text/plain']).toMatch(/180 +Adelie +0\.8000\n210 +Gentoo +0\.9000$/);
  });

  it('names bad JSON', async () => {
    await expect(runMagicCell(`%stratum predict ${base} --model m {"rows": [}`, ctx(new Recorder()))).rejects.toThrow(
      /^rows are not valid JSON: /,
    );
  });
});

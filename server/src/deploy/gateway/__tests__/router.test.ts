import fc from 'fast-check';

import { backoffMs, errorCode, isConnectionFailure, isRetriableStatus, pickTarget, type TargetView } from '../router';
import { LoadWindow, MAX_COLD_STARTS, percentile } from '../window';

const t = (key: string, outstanding = 0, ejectedUntil = 0): TargetView => ({
  key,
  url: `http://${key}`,
  outstanding,
  ejectedUntil,
});

describe('pickTarget', () => {
  it('takes the target with the fewest outstanding requests', () => {
    expect(pickTarget([t('a', 3), t('b', 1), t('c', 2)], new Set(), 0)?.key).toBe('b');
  });

  it('breaks ties at random', () => {
    const targets = [t('a', 1), t('b', 0), t('c', 0), t('d', 0)];
    expect(pickTarget(targets, new Set(), 0, () => 0)?.key).toBe('b');
    expect(pickTarget(targets, new Set(), 0, () => 0.5)?.key).toBe('c');
    expect(pickTarget(targets, new Set(), 0, () => 0.9999)?.key).toBe('d');
  });

  it('skips targets this request already tried, and answers undefined when none is left', () => {
    expect(pickTarget([t('a'), t('b', 5)], new Set(['a']), 0)?.key).toBe('b');
    expect(pickTarget([t('a'), t('b')], new Set(['a', 'b']), 0)).toBeUndefined();
    expect(pickTarget([], new Set(), 0)).toBeUndefined();
  });

  it('puts recently failed targets last, until their ejection ends', () => {
    const targets = [t('a', 0, 1000), t('b', 50)];
    expect(pickTarget(targets, new Set(), 500)?.key).toBe('b');
    expect(pickTarget(targets, new Set(), 1000)?.key).toBe('a');
    expect(pickTarget(targets, new Set(['b']), 500)?.key).toBe('a');
  });

  it('always returns an untried target when there is one, the least loaded of the healthy ones (property)', () => {
    const targets = fc.uniqueArray(
      fc.record({ key: fc.string({ minLength: 1, maxLength: 3 }), outstanding: fc.nat(20), ejectedUntil: fc.nat(10) }),
      {
        selector: (x) => x.key,
        maxLength: 8,
      },
    );
    fc.assert(
      fc.property(
        targets,
        fc.nat(10),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        fc.func(fc.boolean()),
        (ts, now, r, triedFn) => {
          const views = ts.map((x) => ({ ...x, url: x.key }));
          const tried = new Set(views.filter((v) => triedFn(v.key)).map((v) => v.key));
          const picked = pickTarget(views, tried, now, () => r);
          const open = views.filter((v) => !tried.has(v.key));
          if (open.length === 0) return expect(picked).toBeUndefined();
          expect(picked && !tried.has(picked.key)).toBe(true);
          const healthy = open.filter((v) => v.ejectedUntil <= now);
          if (healthy.length > 0) expect(picked!.outstanding).toBe(Math.min(...healthy.map((v) => v.outstanding)));
        },
      ),
    );
  });
});

describe('failure classification', () => {
  it('retries connection failures, found through cause chains', () => {
    expect(isConnectionFailure(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(
      isConnectionFailure(new Error('fetch failed', { cause: Object.assign(new Error('y'), { code: 'ECONNRESET' }) })),
    ).toBe(true);
    expect(isConnectionFailure(Object.assign(new Error('x'), { code: 'ERR_INVALID_URL' }))).toBe(false);
    expect(isConnectionFailure(new Error('plain'))).toBe(false);
    expect(errorCode({ cause: { cause: { code: 'EPIPE' } } })).toBe('EPIPE');
  });

  it('retries 502, 503 and 504, never a 4xx or another 5xx', () => {
    expect([502, 503, 504].map(isRetriableStatus)).toEqual([true, true, true]);
    expect([200, 400, 404, 413, 429, 500, 501].map(isRetriableStatus)).toEqual(Array(7).fill(false));
  });
});

describe('backoffMs', () => {
  it('doubles from the initial delay up to the cap, with jitter between half and all of it', () => {
    const o = { initialMs: 100, maxMs: 5000 };
    expect([0, 1, 2, 3, 10, 100].map((n) => backoffMs(n, o, () => 0.999999))).toEqual([100, 200, 400, 800, 5000, 5000]);
    expect([0, 1, 6].map((n) => backoffMs(n, o, () => 0))).toEqual([50, 100, 2500]);
  });
});

describe('LoadWindow', () => {
  it('reports rps, time-weighted mean in flight, percentiles, failures and retries, then starts over', () => {
    const w = new LoadWindow('d', 0);
    w.arrive(0);
    w.arrive(0);
    w.depart(250, { latencyMs: 250, failed: false, coldStart: false });
    w.arrive(500);
    w.retry();
    w.depart(500, { latencyMs: 500, failed: true, coldStart: false });
    w.depart(1000, { latencyMs: 500, failed: false, coldStart: false });
    const s = w.snapshot(1000);
    // In flight: 2 for 250 ms, 1 for 250 ms, 2→1 at 500, 1 until 1000: (500 + 250 + 500) / 1000.
    expect(s).toEqual({
      deployment: 'd',
      windowSeconds: 1,
      requestsPerSecond: 3,
      inflight: 1.25,
      buffered: 0,
      p50Ms: 500,
      p95Ms: 500,
      p99Ms: 500,
      requests: 3,
      failures: 1,
      retries: 1,
      coldStartMs: [],
    });
    expect(w.snapshot(3000)).toMatchObject({
      windowSeconds: 2,
      requestsPerSecond: 0,
      inflight: 0,
      requests: 0,
      p95Ms: 0,
    });
  });

  it('counts a request still in flight across windows', () => {
    const w = new LoadWindow('d', 0);
    w.arrive(500);
    expect(w.snapshot(1000).inflight).toBe(0.5);
    expect(w.snapshot(2000).inflight).toBe(1);
    expect(w.idle()).toBe(false);
  });

  it('keeps buffered counts and cold starts of successful requests, bounded, and restores them after a failed report', () => {
    const w = new LoadWindow('d', 0);
    expect(w.buffer(1)).toBe(1);
    expect(w.buffer(1)).toBe(2);
    expect(w.snapshot(10).buffered).toBe(2);
    w.buffer(-1);
    w.buffer(-1);
    for (let i = 0; i < MAX_COLD_STARTS + 5; i++) {
      w.arrive(10);
      w.depart(20, { latencyMs: 300 + i, failed: i === 0, coldStart: true });
    }
    const s = w.snapshot(30);
    expect(s.coldStartMs).toHaveLength(MAX_COLD_STARTS);
    expect(s.coldStartMs[0]).toBe(301);
    w.restoreColdStarts([900]);
    expect(w.snapshot(40).coldStartMs).toEqual([900]);
    expect(w.idle()).toBe(true);
  });

  it('percentile is nearest-rank', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(xs, 50), percentile(xs, 95), percentile(xs, 99), percentile(xs, 100)]).toEqual([
      50, 95, 99, 100,
    ]);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBe(0);
  });
});

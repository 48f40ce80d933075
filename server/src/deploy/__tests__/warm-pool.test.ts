import { inferBody, http, tinyAnswer, tinyModelFile, waitUntil } from '../gateway/__tests__/harness';
import { join } from 'node:path';

import { WarmPool, type WarmPoolOptions } from '../warm-pool';
import { encodeLoad, parseLoadLine, READY_LINE } from '../warm-protocol';

const modelPath = tinyModelFile();
/** The built process (jest runs the sources, whose folder has no .js). */
const script = join(__dirname, '..', '..', '..', 'dist', 'deploy', 'warm-replica-main.js');
const env = { ...process.env, STRATUM_LOG_LEVEL: 'warn' };
const options = (size: number): WarmPoolOptions => ({ size, env, script, refillDelayMs: 50 });
const args = (name = 'tiny') => ['--model', modelPath, '--name', name, '--version', '2'];
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('the warm pool', () => {
  let pool: WarmPool;

  afterEach(async () => {
    await pool?.close();
  });

  it('hands a waiting process its model, which then answers as a replica, and refills behind it', async () => {
    pool = new WarmPool(options(2));
    await pool.start();
    expect(pool.ready).toBe(2);
    const replica = await pool.acquire(args());
    const res = await http(`${replica.url}/v2/models/tiny/versions/2/infer`, {
      body: JSON.stringify(inferBody([[1, 2, 3, 4]])),
    });
    expect(res.status).toBe(200);
    res
      .json<{ outputs: { data: number[] }[] }>()
      .outputs[0]!.data.forEach((v, i) => expect(v).toBeCloseTo(tinyAnswer([1, 2, 3, 4])[i]!, 5));
    await waitUntil(() => pool.ready === 2, 60_000, 'the pool to refill');
    expect(await replica.stop()).toBe(0);
  });

  it('fails an acquire with the replica’s own error, and serves the next one', async () => {
    pool = new WarmPool(options(1));
    await pool.start();
    await expect(pool.acquire(['--model', '/nonexistent/model.onnx', '--name', 'x', '--version', '1'])).rejects.toThrow(
      /^the warm replica exited \(1\): stratum replica: .*no such file or directory/,
    );
    await expect(pool.acquire(['--name', 'x'])).rejects.toThrow(/--model is required/);
    const replica = await pool.acquire(args('again'));
    expect((await http(`${replica.url}/v2/models/again/ready`)).status).toBe(200);
    expect(await replica.stop()).toBe(0);
  });

  it('says why when its processes cannot start', async () => {
    pool = new WarmPool({ ...options(1), script: '/nonexistent/warm.js' });
    await expect(pool.start()).rejects.toThrow(
      /^the warm pool started 0 of 1 processes: the warm replica exited \(1\): .*Cannot find module/s,
    );
  });

  it('starts a fresh process when none is waiting', async () => {
    pool = new WarmPool(options(0));
    await pool.start();
    const replica = await pool.acquire(args());
    expect((await http(`${replica.url}/v2/health/ready`)).status).toBe(200);
    expect(await replica.stop()).toBe(0);
  });

  it('stops its waiting processes on close, and refuses to hand out more', async () => {
    pool = new WarmPool(options(2));
    await pool.start();
    const held = await pool.acquire(args());
    await waitUntil(() => pool.ready === 2, 60_000, 'the pool to refill');
    await pool.close();
    expect(pool.ready).toBe(0);
    await expect(pool.acquire(args())).rejects.toThrow('the warm pool is closed');
    expect(alive(held.pid)).toBe(true);
    expect(await held.stop()).toBe(0);
    expect(alive(held.pid)).toBe(false);
  });
});

describe('the warm protocol', () => {
  it('carries replica-main arguments as one JSON line', () => {
    expect(parseLoadLine(encodeLoad(args()))).toEqual(args());
    expect(() => parseLoadLine('--model x')).toThrow('the load line is not JSON: --model x');
    expect(() => parseLoadLine('{"model":"x"}')).toThrow(/must be a JSON array of replica-main arguments/);
    expect(READY_LINE.exec('stratum replica tiny:2 ready on http://127.0.0.1:4100\n')?.[1]).toBe(
      'http://127.0.0.1:4100',
    );
  });
});

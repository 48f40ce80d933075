import '../../../serving/__tests__/node-realm';

import { startReplica } from '../../../serving/replica';
import { silentLogger } from '../../../util/log';
import { startGateway, type Gateway, type GatewayOptions } from '../gateway';
import {
  FakeControlPlane,
  grpc,
  http,
  infer,
  replicaCount,
  route,
  sample,
  tinyModelFile,
  TOKEN,
  waitUntil,
} from './harness';

const modelPath = tinyModelFile();
/** A replica serves under its deployment's name. */
const replica = (name = 'tiny-edge') => startReplica({ modelPath, name, version: '1', log: silentLogger() });
const open: { close(): Promise<void> }[] = [];

async function gateway(cp: FakeControlPlane, o: Partial<GatewayOptions> = {}): Promise<Gateway> {
  const gw = await startGateway({
    controlPlaneUrl: cp.url,
    token: TOKEN,
    gatewayId: 'gw-f',
    reportIntervalMs: 100,
    log: silentLogger(),
    ...o,
  });
  open.push(gw);
  return gw;
}

async function controlPlane(): Promise<FakeControlPlane> {
  const cp = new FakeControlPlane();
  await cp.start();
  open.push({ close: () => cp.stop() });
  return cp;
}

afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

const metric = async (gw: Gateway, name: string, labels: Record<string, string> = {}) =>
  sample((await http(`${gw.url}/metrics`)).text, name, labels);

/** `total` requests, `concurrency` at a time, over REST and gRPC alternately; calls `at(n)` after the n-th answer. */
async function load(gw: Gateway, total: number, concurrency: number, at: (done: number) => void): Promise<string[]> {
  const outcomes: string[] = [];
  const client = grpc(gw.url);
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      if (i % 2 === 0) {
        outcomes.push(String((await infer(gw.url, 'tiny-edge', [[i, 1, 2, 3]])).status));
      } else {
        const input = { name: 'x', datatype: 'FP32', shape: [1n, 4n], contents: { fp32Contents: [i, 1, 2, 3] } };
        outcomes.push(
          await client.modelInfer({ modelName: 'tiny-edge', inputs: [input] }).then(
            () => '200',
            (e: Error) => e.message,
          ),
        );
      }
      at(outcomes.length);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return outcomes;
}

describe('a replica that goes away', () => {
  it('closed in the middle of a load: its requests are retried on the other, none fails', async () => {
    const cp = await controlPlane();
    const [a, b] = await Promise.all([replica(), replica()]);
    open.push(b);
    cp.setRoutes([
      route('tiny-edge', [
        { replicaId: 'r-a', url: a.url },
        { replicaId: 'r-b', url: b.url },
      ]),
    ]);
    const gw = await gateway(cp);
    await waitUntil(async () => (await http(`${gw.url}/v2/models/tiny-edge/ready`)).status === 200);
    let closing: Promise<void> | null = null;
    const outcomes = await load(gw, 200, 8, (done) => {
      if (done === 40) closing = a.close();
    });
    await closing;
    expect(outcomes.filter((o) => o !== '200')).toEqual([]);
    expect(outcomes).toHaveLength(200);
    expect(await metric(gw, 'stratum_gateway_retries_total', { deployment: 'tiny-edge' })).toBeGreaterThan(0);
    const report = await cp.report((l) => l.retries > 0n);
    expect(report.loads.every((l) => l.failures === 0n)).toBe(true);
  });

  it('draining (503) sends the request to another replica', async () => {
    const cp = await controlPlane();
    const [a, b] = await Promise.all([replica(), replica()]);
    open.push(a, b);
    a.service.setState('DRAINING', 'the replica is shutting down');
    cp.setRoutes([
      route('tiny-edge', [
        { replicaId: 'r-a', url: a.url },
        { replicaId: 'r-b', url: b.url },
      ]),
    ]);
    const gw = await gateway(cp);
    await waitUntil(async () => (await http(`${gw.url}/v2/models/tiny-edge/ready`)).status === 200);
    const answers = await Promise.all(Array.from({ length: 20 }, () => infer(gw.url, 'tiny-edge', [[1, 2, 3, 4]])));
    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200));
    const refused = sample((await http(`${a.url}/metrics`)).text, 'stratum_replica_requests_total', { status: '503' });
    expect(refused).toBeGreaterThan(0);
    expect(await metric(gw, 'stratum_gateway_retries_total', { deployment: 'tiny-edge' })).toBe(refused);
    expect(await replicaCount(b.url)).toBe(20);
  });

  it('its only replica refusing connections: the request waits for a replacement, then a clear 503 at the buffer deadline naming the last failure', async () => {
    const cp = await controlPlane();
    const dead = await replica();
    await dead.close();
    cp.setRoutes([route('tiny-edge', [{ replicaId: 'r-dead', url: dead.url }])]);
    const gw = await gateway(cp, { bufferTimeoutMs: 1000 });
    await waitUntil(async () => (await http(`${gw.url}/v2/models/tiny-edge/ready`)).status === 200);
    const res = await infer(gw.url, 'tiny-edge', [[1, 2, 3, 4]]);
    expect(res.status).toBe(503);
    expect(res.json<{ error: string }>().error).toMatch(
      new RegExp(
        `^deployment "tiny-edge" has no ready replica after 1000 ms; last failure: replica r-dead at ${dead.url}: .*ECONNREFUSED.*; retry later$`,
      ),
    );
    await cp.report((l) => l.failures === 1n);
  });
});

describe('the control plane going away', () => {
  it('the gateway keeps serving the last routing table, then takes the new one when it returns', async () => {
    const cp = await controlPlane();
    const [a, two] = await Promise.all([replica(), replica('tiny-two')]);
    open.push(a, two);
    cp.setRoutes([route('tiny-edge', [{ replicaId: 'r-a', url: a.url }])]);
    const gw = await gateway(cp);
    await waitUntil(async () => (await http(`${gw.url}/v2/models/tiny-edge/ready`)).status === 200);

    await cp.stop();
    await waitUntil(
      async () => (await metric(gw, 'stratum_gateway_control_plane_connected')) === 0,
      20_000,
      'the stream to break',
    );
    const during = await Promise.all(Array.from({ length: 20 }, () => infer(gw.url, 'tiny-edge', [[1, 2, 3, 4]])));
    expect(during.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect((await http(`${gw.url}/v2/health/ready`)).status).toBe(200);

    cp.setRoutes([
      route('tiny-edge', [{ replicaId: 'r-a', url: a.url }]),
      route('tiny-two', [{ replicaId: 'r-two', url: two.url }]),
    ]);
    await cp.start();
    await waitUntil(
      async () => (await infer(gw.url, 'tiny-two', [[1, 2, 3, 4]])).status === 200,
      20_000,
      'the new table',
    );
    expect(await metric(gw, 'stratum_gateway_control_plane_connected')).toBe(1);
    await cp.report((l) => l.deployment === 'tiny-two');
  });

  it('before the first table: not ready, and requests wait for it', async () => {
    const cp = new FakeControlPlane();
    await cp.start();
    await cp.stop();
    const a = await replica();
    open.push(a, { close: () => cp.stop() });
    const gw = await gateway(cp);
    const notReady = await http(`${gw.url}/v2/health/ready`);
    expect([notReady.status, notReady.json()]).toEqual([
      400,
      { ready: false, reason: 'no routing table from the control plane yet' },
    ]);
    expect((await grpc(gw.url).serverReady({})).ready).toBe(false);
    const pending = infer(gw.url, 'tiny-edge', [[1, 2, 3, 4]]);
    cp.setRoutes([route('tiny-edge', [{ replicaId: 'r-a', url: a.url }])]);
    await cp.start();
    expect((await pending).status).toBe(200);
  });

  it('a token the control plane refuses: the gateway keeps trying and says it is not ready', async () => {
    const cp = await controlPlane();
    const gw = await gateway(cp, { token: 'wrong', bufferTimeoutMs: 200 });
    const res = await infer(gw.url, 'tiny-edge', [[1, 2, 3, 4]]);
    expect([res.status, res.json()]).toEqual([
      503,
      { error: 'the gateway has no routing table yet: the control plane has not answered within 200 ms' },
    ]);
    expect(cp.reports).toEqual([]);
  });
});

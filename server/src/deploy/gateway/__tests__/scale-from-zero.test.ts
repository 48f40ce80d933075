import '../../../serving/__tests__/node-realm';

import { startReplica, type Replica } from '../../../serving/replica';
import { silentLogger } from '../../../util/log';
import { startGateway, type Gateway, type GatewayOptions } from '../gateway';
import { FakeControlPlane, grpc, http, infer, route, sample, tinyModelFile, TOKEN, waitUntil } from './harness';

const modelPath = tinyModelFile();
let cp: FakeControlPlane;
let replica: Replica;
const gateways: Gateway[] = [];

beforeAll(async () => {
  replica = await startReplica({ modelPath, name: 'tiny-edge', version: '1', log: silentLogger() });
});

beforeEach(async () => {
  cp = new FakeControlPlane();
  await cp.start();
  cp.setRoutes([route('tiny-edge', [])]);
});

afterEach(async () => {
  for (const gw of gateways.splice(0)) await gw.close();
  await cp.stop();
});

afterAll(async () => {
  await replica?.close();
});

async function gateway(o: Partial<GatewayOptions> = {}): Promise<Gateway> {
  const gw = await startGateway({
    controlPlaneUrl: cp.url,
    token: TOKEN,
    gatewayId: 'gw-z',
    reportIntervalMs: 100,
    log: silentLogger(),
    ...o,
  });
  gateways.push(gw);
  await waitUntil(
    async () => (await http(`${gw.url}/v2/health/ready`)).status === 200,
    20_000,
    'the first routing table',
  );
  return gw;
}

const metric = async (gw: Gateway, name: string, labels: Record<string, string> = {}) =>
  sample((await http(`${gw.url}/metrics`)).text, name, labels);
const scaleUp = () => cp.setRoutes([route('tiny-edge', [{ replicaId: 'r-1', url: replica.url }])]);

describe('a deployment scaled to zero', () => {
  it('buffers the request, reports buffered at once (not at the next interval), and answers once a replica is routed', async () => {
    const gw = await gateway({ reportIntervalMs: 600_000 });
    const ready = await http(`${gw.url}/v2/models/tiny-edge/ready`);
    expect([ready.status, ready.json()]).toEqual([
      400,
      { name: 'tiny-edge', ready: false, reason: 'scaled to zero; the first request starts a replica' },
    ]);
    const pending = infer(gw.url, 'tiny-edge', [[1, 2, 3, 4]]);
    const report = await cp.report((l) => l.deployment === 'tiny-edge' && l.buffered > 0);
    expect(report.loads.find((l) => l.deployment === 'tiny-edge')).toMatchObject({ buffered: 1, requests: 1n });
    expect(await metric(gw, 'stratum_gateway_buffered', { deployment: 'tiny-edge' })).toBe(1);
    scaleUp();
    expect((await pending).status).toBe(200);
    expect(await metric(gw, 'stratum_gateway_buffered', { deployment: 'tiny-edge' })).toBe(0);
    expect(await metric(gw, 'stratum_gateway_cold_start_seconds_count', { deployment: 'tiny-edge' })).toBe(1);
  });

  it('reports the first-response latency of buffered requests as cold_start_ms', async () => {
    const gw = await gateway();
    const rest = Array.from({ length: 6 }, () => infer(gw.url, 'tiny-edge', [[1, 2, 3, 4]]));
    const input = { name: 'x', datatype: 'FP32', shape: [1n, 4n], contents: { fp32Contents: [1, 2, 3, 4] } };
    const rpc = Array.from({ length: 4 }, () => grpc(gw.url).modelInfer({ modelName: 'tiny-edge', inputs: [input] }));
    await cp.report((l) => l.buffered === 10);
    scaleUp();
    expect((await Promise.all(rest)).map((r) => r.status)).toEqual(Array(6).fill(200));
    expect((await Promise.all(rpc)).map((r) => r.modelName)).toEqual(Array(4).fill('tiny-edge'));
    await waitUntil(
      () => cp.reports.flatMap((r) => r.loads.flatMap((l) => l.coldStartMs)).length === 10,
      20_000,
      'ten cold starts',
    );
    const coldStarts = cp.reports.flatMap((r) => r.loads.flatMap((l) => l.coldStartMs));
    expect(coldStarts.every((ms) => ms > 0)).toBe(true);
    const load = (await cp.report((l) => l.coldStartMs.length > 0)).loads[0]!;
    expect(load.failures).toBe(0n);
    expect(load.inflight).toBeGreaterThan(0);
  });

  it('answers 503 with the reason when no replica comes within the buffer time', async () => {
    const gw = await gateway({ bufferTimeoutMs: 200 });
    const res = await infer(gw.url, 'tiny-edge', [[1, 2, 3, 4]]);
    expect(res.status).toBe(503);
    expect(res.json()).toEqual({
      error:
        'deployment "tiny-edge" has no ready replica after 200 ms (it is scaling from zero, or its replicas are down); retry later',
    });
    await expect(grpc(gw.url).modelInfer({ modelName: 'tiny-edge' })).rejects.toMatchObject({ code: 14 });
    await cp.report((l) => l.failures > 0n);
  });

  it('refuses at once beyond the buffer bound, and flushes the requests it holds', async () => {
    const gw = await gateway({ maxBuffered: 2 });
    const held = [infer(gw.url, 'tiny-edge', [[1, 2, 3, 4]]), infer(gw.url, 'tiny-edge', [[1, 2, 3, 4]])];
    await waitUntil(async () => (await metric(gw, 'stratum_gateway_buffered', { deployment: 'tiny-edge' })) === 2);
    const refused = await infer(gw.url, 'tiny-edge', [[1, 2, 3, 4]]);
    expect([refused.status, refused.json()]).toEqual([
      503,
      {
        error:
          'deployment "tiny-edge" has no ready replica and the gateway already holds 2 waiting requests; retry later',
      },
    ]);
    scaleUp();
    expect((await Promise.all(held)).map((r) => r.status)).toEqual([200, 200]);
  });

  it('answers 404 to waiting requests when the deployment is deleted', async () => {
    const gw = await gateway();
    const pending = infer(gw.url, 'tiny-edge', [[1, 2, 3, 4]]);
    await cp.report((l) => l.buffered > 0);
    cp.setRoutes([]);
    const res = await pending;
    expect([res.status, res.json()]).toEqual([
      404,
      { error: 'deployment "tiny-edge" is not served by this gateway; it routes no deployment' },
    ]);
  });

  it('answers waiting requests 503 at once when the gateway closes', async () => {
    const gw = await gateway();
    const pending = infer(gw.url, 'tiny-edge', [[1, 2, 3, 4]]);
    await cp.report((l) => l.buffered > 0);
    await gw.close();
    const res = await pending;
    expect([res.status, res.json()]).toEqual([
      503,
      { error: 'the gateway is shutting down; retry on another gateway' },
    ]);
  });
});

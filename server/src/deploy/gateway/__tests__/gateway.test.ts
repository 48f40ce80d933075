import '../../../serving/__tests__/node-realm';

import { startReplica, type Replica } from '../../../serving/replica';
import { silentLogger } from '../../../util/log';
import { startGateway, type Gateway } from '../gateway';
import {
  FakeControlPlane,
  grpc,
  http,
  infer,
  inferBody,
  replicaCount,
  route,
  sample,
  tinyAnswer,
  tinyModelFile,
  TOKEN,
  waitUntil,
} from './harness';

let cp: FakeControlPlane;
let a: Replica;
let b: Replica;
let gw: Gateway;

beforeAll(async () => {
  cp = new FakeControlPlane();
  await cp.start();
  const modelPath = tinyModelFile();
  [a, b] = await Promise.all(
    ['a', 'b'].map(() => startReplica({ modelPath, name: 'tiny-edge', version: '1', log: silentLogger() })),
  );
  cp.setRoutes([
    route('tiny-edge', [
      { replicaId: 'r-a', url: a.url },
      { replicaId: 'r-b', url: b.url },
    ]),
  ]);
  gw = await startGateway({
    controlPlaneUrl: cp.url,
    token: TOKEN,
    gatewayId: 'gw-1',
    reportIntervalMs: 100,
    log: silentLogger(),
  });
  await waitUntil(
    async () => (await http(`${gw.url}/v2/health/ready`)).status === 200,
    20_000,
    'the first routing table',
  );
});

afterAll(async () => {
  await gw?.close();
  await Promise.all([a?.close(), b?.close()]);
  await cp?.stop();
});

const closeTo = (actual: number[], expected: number[]) =>
  actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));

describe('REST', () => {
  it('answers a deployment’s inference from a replica serving under the deployment’s name', async () => {
    const res = await infer(gw.url, 'tiny-edge', [[1, 2, 3, 4]]);
    expect(res.status).toBe(200);
    const body = res.json<{ model_name: string; model_version: string; outputs: { name: string; data: number[] }[] }>();
    expect([body.model_name, body.model_version, body.outputs[0]!.name]).toEqual(['tiny-edge', '1', 'y']);
    closeTo(body.outputs[0]!.data, tinyAnswer([1, 2, 3, 4]));
  });

  it('forwards the path as it came: a version the replica serves answers, another is the replica’s 404', async () => {
    const body = JSON.stringify(inferBody([[1, 2, 3, 4]]));
    expect((await http(`${gw.url}/v2/models/tiny-edge/versions/1/infer?trace=1`, { body })).status).toBe(200);
    const other = await http(`${gw.url}/v2/models/tiny-edge/versions/2/infer`, { body });
    expect([other.status, other.json()]).toEqual([
      404,
      { error: 'model "tiny-edge" version "2" is not served here; this replica serves "tiny-edge" version "1"' },
    ]);
  });

  it('spreads concurrent requests over the replicas', async () => {
    const before = await Promise.all([a, b].map((r) => replicaCount(r.url)));
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) => infer(gw.url, 'tiny-edge', [[i, 1, 0, -i]])),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(60).fill(200));
    const after = await Promise.all([a, b].map((r) => replicaCount(r.url)));
    const served = after.map((n, i) => n - before[i]!);
    expect(served[0]! + served[1]!).toBe(60);
    expect(Math.min(...served)).toBeGreaterThan(0);
  });

  it('passes the binary-data extension through both ways, headers and bytes unchanged', async () => {
    const x = Buffer.from(Float32Array.from([1, 2, 3, 4, 0, 0, 0, 1]).buffer);
    const header = Buffer.from(
      JSON.stringify({
        inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 4], parameters: { binary_data_size: x.length } }],
        outputs: [{ name: 'y', parameters: { binary_data: true } }],
      }),
    );
    const headers = {
      'inference-header-content-length': String(header.length),
      'content-type': 'application/octet-stream',
    };
    const res = await fetch(`${gw.url}/v2/models/tiny-edge/infer`, {
      method: 'POST',
      body: Buffer.concat([header, x]),
      headers,
    });
    expect(res.status).toBe(200);
    const length = Number(res.headers.get('inference-header-content-length'));
    const bytes = Buffer.from(await res.arrayBuffer());
    const y = new Float32Array(bytes.buffer.slice(bytes.byteOffset + length, bytes.byteOffset + bytes.length));
    closeTo(Array.from(y), [...tinyAnswer([1, 2, 3, 4]), ...tinyAnswer([0, 0, 0, 1])]);
  });

  it('passes a replica’s 400 for bad input through as it is, and never retries it', async () => {
    const bad = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] };
    const before = await Promise.all([a, b].map((r) => replicaCount(r.url, 400)));
    const direct = await http(`${a.url}/v2/models/tiny-edge/infer`, { body: JSON.stringify(bad) });
    const via = await http(`${gw.url}/v2/models/tiny-edge/infer`, { body: JSON.stringify(bad) });
    expect(via.status).toBe(400);
    expect(via.text).toBe(direct.text);
    expect(via.json<{ error: string }>().error).toMatch(/input "x"/);
    const after = await Promise.all([a, b].map((r) => replicaCount(r.url, 400)));
    expect(after[0]! + after[1]! - before[0]! - before[1]!).toBe(2);
    expect(
      sample((await http(`${gw.url}/metrics`)).text, 'stratum_gateway_retries_total', { deployment: 'tiny-edge' }),
    ).toBe(0);
  });

  it('answers metadata from a replica and readiness from the routing table', async () => {
    const meta = (await http(`${gw.url}/v2/models/tiny-edge`)).json();
    expect(meta).toMatchObject({
      name: 'tiny-edge',
      versions: ['1'],
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }],
    });
    expect((await http(`${gw.url}/v2/models/tiny-edge/ready`)).json()).toEqual({ name: 'tiny-edge', ready: true });
    expect((await http(`${gw.url}/v2/health/live`)).json()).toEqual({ live: true });
    expect((await http(`${gw.url}/v2`)).json()).toEqual({
      name: 'stratum-gateway',
      version: expect.any(String),
      extensions: ['binary_tensor_data'],
    });
  });

  it('says which deployments it routes when asked for another, and refuses wrong methods and paths', async () => {
    const missing = await infer(gw.url, 'cars', [[1, 2, 3, 4]]);
    expect(missing.status).toBe(404);
    expect(missing.json()).toEqual({ error: 'deployment "cars" is not served by this gateway; it routes "tiny-edge"' });
    const get = await http(`${gw.url}/v2/models/tiny-edge/infer`);
    expect([get.status, get.headers.get('allow')]).toEqual([405, 'POST']);
    expect((await http(`${gw.url}/nowhere`)).status).toBe(404);
  });

  it('refuses a body over 8 MiB with 413 before it reaches a replica', async () => {
    const res = await http(`${gw.url}/v2/models/tiny-edge/infer`, { body: new Uint8Array(8 * 2 ** 20 + 1) });
    expect(res.status).toBe(413);
    expect(res.json()).toEqual({ error: "the request body exceeds the gateway's limit of 8388608 bytes (8 MiB)" });
  });
});

describe('gRPC', () => {
  it('forwards ModelInfer as it came, and answers health from the table', async () => {
    const client = grpc(gw.url);
    const res = await client.modelInfer({
      modelName: 'tiny-edge',
      id: 'q1',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1n, 4n], contents: { fp32Contents: [1, 2, 3, 4] } }],
    });
    expect([res.modelName, res.id, res.outputs[0]!.name]).toEqual(['tiny-edge', 'q1', 'y']);
    const raw = res.rawOutputContents[0]!;
    closeTo(
      Array.from(new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength))),
      tinyAnswer([1, 2, 3, 4]),
    );
    expect((await client.serverLive({})).live).toBe(true);
    expect((await client.serverReady({})).ready).toBe(true);
    expect((await client.modelReady({ name: 'tiny-edge' })).ready).toBe(true);
    expect((await client.modelReady({ name: 'cars' })).ready).toBe(false);
    expect((await client.modelMetadata({ name: 'tiny-edge' })).inputs.map((i) => i.name)).toEqual(['x']);
    expect((await client.serverMetadata({})).name).toBe('stratum-gateway');
  });

  it('passes a replica’s INVALID_ARGUMENT through, and NOT_FOUND for an unknown deployment', async () => {
    const client = grpc(gw.url);
    const bad = {
      modelName: 'tiny-edge',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1n, 3n], contents: { fp32Contents: [1, 2, 3] } }],
    };
    await expect(client.modelInfer(bad)).rejects.toMatchObject({
      code: 3,
      rawMessage: expect.stringMatching(/input "x"/),
    });
    await expect(client.modelInfer({ ...bad, modelName: 'cars' })).rejects.toMatchObject({ code: 5 });
  });
});

describe('metrics', () => {
  it('reports each deployment’s load to the control plane and exposes it at /metrics', async () => {
    await Promise.all(Array.from({ length: 10 }, () => infer(gw.url, 'tiny-edge', [[1, 1, 1, 1]])));
    const report = await cp.report((l) => l.deployment === 'tiny-edge' && l.requests > 0n && l.p95Ms > 0);
    expect(report.gatewayId).toBe('gw-1');
    const load = report.loads.find((l) => l.deployment === 'tiny-edge')!;
    expect(load.requestsPerSecond).toBeGreaterThan(0);
    expect(load.p50Ms).toBeLessThanOrEqual(load.p95Ms);
    expect(load.p95Ms).toBeLessThanOrEqual(load.p99Ms);
    expect(load.buffered).toBe(0);
    const text = (await http(`${gw.url}/metrics`)).text;
    expect(
      sample(text, 'stratum_gateway_requests_total', { deployment: 'tiny-edge', protocol: 'rest', code: '200' }),
    ).toBeGreaterThan(60);
    expect(
      sample(text, 'stratum_gateway_requests_total', { deployment: 'tiny-edge', protocol: 'grpc', code: 'OK' }),
    ).toBeGreaterThan(0);
    expect(sample(text, 'stratum_gateway_ready_targets', { deployment: 'tiny-edge' })).toBe(2);
    expect(sample(text, 'stratum_gateway_control_plane_connected')).toBe(1);
    expect(text).not.toContain('deployment="cars"');
  });

  it('sends the request body it was given, byte for byte', async () => {
    const body = JSON.stringify(inferBody([[0.5, 0.25, 0, 1]]), null, 3);
    const [direct, via] = await Promise.all([
      http(`${a.url}/v2/models/tiny-edge/infer`, { body }),
      http(`${gw.url}/v2/models/tiny-edge/infer`, { body }),
    ]);
    expect(via.text).toBe(direct.text);
  });
});

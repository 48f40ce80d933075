import './node-realm';

import { inferTensors, predictRows, ReplicaClientError } from '../client';
import { fromBytes } from '../tensor-data';
import { batchingFor, startReplica, type Replica } from '../replica';
import { readOnnxSignature } from '../../onnx/signature';
import { silentLogger } from '../../util/log';
import { sklearnFixture, stratumPenguins, tinyModel, tinyReference, writeTemp, type Expected } from './fixtures';
import { call, chunk, expectClose, freePort, grpcClient, post, sample } from './helpers';

let expected: Expected;
let on: Replica;
let off: Replica;

beforeAll(async () => {
  const sk = sklearnFixture();
  expected = sk.expected;
  const common = { modelPath: sk.modelPath, name: 'penguins', version: '1', log: silentLogger() };
  [on, off] = await Promise.all([
    startReplica({ ...common, batching: { maxBatchSize: 32, maxQueueDelayMs: 2 } }),
    startReplica({ ...common, batching: { maxBatchSize: 1, maxQueueDelayMs: 0 } }),
  ]);
});

afterAll(async () => {
  await Promise.all([on?.close(), off?.close()]);
});

const rows = (inputs: number[][]) => ({
  inputs: [{ name: 'input', datatype: 'FP32', shape: [inputs.length, 4], data: inputs }],
});

describe('health and metadata', () => {
  it('answers the OIP health and metadata routes over REST', async () => {
    expect((await call(on.url, '/v2/health/live')).json()).toEqual({ live: true });
    expect((await call(on.url, '/v2/health/ready')).status).toBe(200);
    expect((await call(on.url, '/v2')).json()).toEqual({
      name: 'stratum',
      version: expect.any(String),
      extensions: ['binary_tensor_data'],
    });
    const meta = {
      name: 'penguins',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [
        { name: 'label', datatype: 'BYTES', shape: [-1] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
      ],
    };
    expect((await call(on.url, '/v2/models/penguins')).json()).toEqual(meta);
    expect((await call(on.url, '/v2/models/penguins/versions/1')).json()).toEqual(meta);
    expect((await call(on.url, '/v2/models/penguins/versions/1/ready')).json()).toEqual({
      name: 'penguins',
      ready: true,
    });
  });

  it('says which model it serves when asked for another', async () => {
    const other = await call(on.url, '/v2/models/cars/ready');
    expect(other.status).toBe(404);
    expect(other.json()).toEqual({
      error: 'model "cars" is not served here; this replica serves "penguins" version "1"',
    });
    expect((await call(on.url, '/v2/models/penguins/versions/2')).json()).toEqual({
      error: 'model "penguins" version "2" is not served here; this replica serves "penguins" version "1"',
    });
    expect((await call(on.url, '/v2/models/penguins/infer')).status).toBe(405);
    expect((await call(on.url, '/nowhere')).status).toBe(404);
  });

  it('answers the same over gRPC', async () => {
    const client = grpcClient(on.url);
    expect((await client.serverLive({})).live).toBe(true);
    expect((await client.serverReady({})).ready).toBe(true);
    expect((await client.modelReady({ name: 'penguins' })).ready).toBe(true);
    expect((await client.modelReady({ name: 'cars' })).ready).toBe(false);
    expect((await client.serverMetadata({})).extensions).toEqual(['binary_tensor_data']);
    const meta = await client.modelMetadata({ name: 'penguins', version: '1' });
    expect(meta.outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual([
      ['label', 'BYTES', [-1n]],
      ['probabilities', 'FP32', [-1n, 3n]],
    ]);
  });
});

describe('inference gives scikit-learn’s answers', () => {
  it('over REST with JSON tensors', async () => {
    const out = (await post(on.url, '/v2/models/penguins/infer', rows(expected.inputs))).json<{
      outputs: { name: string; data: unknown[] }[];
    }>();
    expect(out.outputs[0]!.data).toEqual(expected.labels);
    expectClose(chunk(out.outputs[1]!.data as number[], 3), expected.probabilities, 1e-5);
  });

  it('over REST with the binary-data extension both ways', async () => {
    const x = new Uint8Array(Float32Array.from(expected.inputs.flat()).buffer);
    const header = Buffer.from(
      JSON.stringify({
        inputs: [
          {
            name: 'input',
            datatype: 'FP32',
            shape: [expected.inputs.length, 4],
            parameters: { binary_data_size: x.length },
          },
        ],
        outputs: [
          { name: 'label', parameters: { binary_data: true } },
          { name: 'probabilities', parameters: { binary_data: true } },
        ],
      }),
    );
    const res = await call(on.url, '/v2/models/penguins/infer', {
      body: Buffer.concat([header, x]),
      headers: { 'inference-header-content-length': String(header.length), 'content-type': 'application/octet-stream' },
    });
    expect(res.status).toBe(200);
    const length = Number(res.headers.get('inference-header-content-length'));
    const head = JSON.parse(res.body.subarray(0, length).toString()) as {
      outputs: { parameters: { binary_data_size: number } }[];
    };
    const [labelSize, probSize] = head.outputs.map((o) => o.parameters.binary_data_size);
    const n = expected.inputs.length;
    expect(fromBytes('BYTES', res.body.subarray(length, length + labelSize!), n, 'label')).toEqual(expected.labels);
    const p = fromBytes(
      'FP32',
      res.body.subarray(length + labelSize!, length + labelSize! + probSize!),
      n * 3,
      'p',
    ) as Float32Array;
    expectClose(chunk(Array.from(p), 3), expected.probabilities, 1e-5);
  });

  it.each(['raw', 'typed'])('over gRPC with %s contents', async (form) => {
    const n = expected.inputs.length;
    const flat = expected.inputs.flat();
    const res = await grpcClient(on.url).modelInfer({
      modelName: 'penguins',
      id: 'q1',
      inputs: [
        {
          name: 'input',
          datatype: 'FP32',
          shape: [BigInt(n), 4n],
          ...(form === 'typed' ? { contents: { fp32Contents: flat } } : {}),
        },
      ],
      rawInputContents: form === 'raw' ? [new Uint8Array(Float32Array.from(flat).buffer)] : [],
    });
    expect(res.id).toBe('q1');
    expect(res.outputs.map((o) => o.name)).toEqual(['label', 'probabilities']);
    expect(fromBytes('BYTES', res.rawOutputContents[0]!, n, 'label')).toEqual(expected.labels);
    expectClose(
      chunk(Array.from(fromBytes('FP32', res.rawOutputContents[1]!, n * 3, 'p') as Float32Array), 3),
      expected.probabilities,
      1e-5,
    );
  });

  it('the same with batching on and off, request by request', async () => {
    const before = sample((await call(on.url, '/metrics')).body.toString(), 'stratum_replica_batch_size_sum');
    const n = 96;
    const ask = (r: Replica) =>
      Promise.all(expected.inputs.slice(0, n).map((x) => post(r.url, '/v2/models/penguins/infer', rows([x]))));
    const [a, b] = await Promise.all([ask(on), ask(off)]);
    type Out = { outputs: { data: (string | number)[] }[] };
    const read = (answers: typeof a) => answers.map((r) => r.json<Out>().outputs.map((o) => o.data));
    const [ra, rb] = [read(a), read(b)];
    expect(a.map((r) => r.status)).toEqual(a.map(() => 200));
    // Labels are identical; probabilities agree to float32 rounding (onnxruntime's GEMM kernels
    // for one row and for many differ in the last bit).
    expect(ra.map((o) => o[0]![0])).toEqual(expected.labels.slice(0, n));
    expect(rb.map((o) => o[0]![0])).toEqual(expected.labels.slice(0, n));
    expectClose(
      ra.map((o) => o[1] as number[]),
      rb.map((o) => o[1] as number[]),
      1e-6,
    );
    const after = sample((await call(on.url, '/metrics')).body.toString(), 'stratum_replica_batch_size_sum');
    expect(after - before).toBe(n);
  });
});

describe('metrics', () => {
  it('counts requests by protocol, route and status, and reports batches, queue depth and inference time', async () => {
    await post(on.url, '/v2/models/penguins/infer', { inputs: [] });
    const text = (await call(on.url, '/metrics')).body.toString();
    const infer = { protocol: 'rest', route: '/v2/models/{name}/infer' };
    expect(sample(text, 'stratum_replica_requests_total', { ...infer, status: '200' })).toBeGreaterThan(0);
    expect(sample(text, 'stratum_replica_requests_total', { ...infer, status: '400' })).toBe(1);
    expect(
      sample(text, 'stratum_replica_requests_total', {
        protocol: 'grpc',
        route: '/inference.GRPCInferenceService/ModelInfer',
        status: 'OK',
      }),
    ).toBe(2);
    expect(sample(text, 'stratum_replica_request_duration_seconds_count', infer)).toBeGreaterThan(0);
    expect(sample(text, 'stratum_replica_batch_size_count')).toBeGreaterThan(0);
    expect(sample(text, 'stratum_replica_inference_duration_seconds_count')).toBeGreaterThan(0);
    expect(text).toMatch(/^stratum_replica_queue_depth\{model="penguins",version="1"\} 0$/m);
  });
});

describe('the predict route', () => {
  it('applies a Stratum model’s own preprocessing to raw records and answers labels and probabilities', async () => {
    const s = await stratumPenguins();
    const r = await startReplica({
      modelPath: s.modelPath,
      name: 'stratum-penguins',
      version: '3',
      log: silentLogger(),
    });
    try {
      const body = await predictRows(r.url, 'stratum-penguins', s.records);
      expect(body).toMatchObject({ model_name: 'stratum-penguins', model_version: '3', labels: s.classes });
      expect(body.predictions).toEqual(s.labels);
      expectClose(body.probabilities!, s.probabilities, 1e-4);
      const bad = await post(r.url, '/v2/models/stratum-penguins/predict', { rows: [{ ...s.records[0], Island: 7 }] });
      expect(bad.status).toBe(400);
      expect(bad.json()).toEqual({ error: 'record 0, field "Island" must be a string or null, got number 7' });
    } finally {
      await r.close();
    }
  });

  it('refuses a model without a Stratum preprocessor and points at /infer', async () => {
    const res = await post(on.url, '/v2/models/penguins/predict', { rows: [{ a: 1 }] });
    expect(res.status).toBe(400);
    expect(res.json<{ error: string }>().error).toBe(
      'POST /v2/models/penguins/predict takes raw records only for a Stratum-trained model (ONNX metadata "stratum.preprocessor"), and this model has none; send tensors to POST /v2/models/penguins/infer',
    );
  });
});

describe('the client helpers', () => {
  it('inferTensors sends JSON tensors and reads the outputs', async () => {
    const out = await inferTensors(on.url, 'penguins', [
      { name: 'input', datatype: 'FP32', shape: [2, 4], data: Float32Array.from(expected.inputs.slice(0, 2).flat()) },
    ]);
    expect(out.outputs.map((o) => [o.name, o.shape])).toEqual([
      ['label', [2]],
      ['probabilities', [2, 3]],
    ]);
    expect(out.outputs[0]!.data).toEqual(expected.labels.slice(0, 2));
  });

  it('predictRows and inferTensors throw the replica’s status and message', async () => {
    const bad = await inferTensors(on.url, 'penguins', [
      { name: 'input', datatype: 'FP64', shape: [1, 4], data: [1, 2, 3, 4] },
    ]).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ReplicaClientError);
    expect((bad as ReplicaClientError).status).toBe(400);
    expect((bad as ReplicaClientError).message).toBe(
      `400 from ${on.url}/v2/models/penguins/infer: input "input" has datatype FP64, but the model takes FP32`,
    );
    await expect(predictRows(on.url, 'penguins', [{}], { version: '9' })).rejects.toMatchObject({ status: 404 });
  });
});

describe('lifecycle', () => {
  it('drains queued requests on close, then stops listening', async () => {
    const r = await startReplica({
      modelPath: writeTemp('tiny.onnx', tinyModel()),
      name: 'tiny',
      version: '1',
      batching: { maxBatchSize: 1000, maxQueueDelayMs: 600000 },
      log: silentLogger(),
    });
    const xs = Array.from({ length: 20 }, (_, i) => [i, 1, -i, 0.5]);
    let answered = 0;
    const pending = xs.map((x) =>
      post(r.url, '/v2/models/tiny/infer', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: x }] }).then(
        (a) => {
          answered++;
          return a;
        },
      ),
    );
    // The batcher is work-conserving, so some may be answered already; close once all are accepted.
    while (r.inflightCount() + answered < xs.length) await new Promise((resolve) => setImmediate(resolve));
    expect(r.inflightCount()).toBeGreaterThan(0);
    await r.close();
    const answers = await Promise.all(pending);
    answers.forEach((a, i) => {
      expect(a.status).toBe(200);
      expectClose([a.json<{ outputs: { data: number[] }[] }>().outputs[0]!.data], [tinyReference(xs[i]!)], 1e-6);
    });
    await expect(fetch(`${r.url}/v2/health/live`)).rejects.toThrow();
  });

  it('refuses to start on a file that is not ONNX, and frees its port', async () => {
    const path = writeTemp('bad.onnx', Buffer.from('not a model'));
    const port = await freePort();
    await expect(
      startReplica({ modelPath: path, name: 'bad', version: '1', port, log: silentLogger() }),
    ).rejects.toThrow('not an ONNX model: the bytes are not an ONNX ModelProto');
    const good = await startReplica({
      modelPath: writeTemp('tiny.onnx', tinyModel()),
      name: 'tiny',
      version: '1',
      port,
      log: silentLogger(),
    });
    expect(good.url).toBe(`http://127.0.0.1:${port}`);
    await good.close();
  });

  it('turns batching off for a model without a variable first dimension', () => {
    const sig = readOnnxSignature(tinyModel());
    const fixed = { ...sig, inputs: [{ ...sig.inputs[0]!, shape: [1, 4] }] };
    expect(batchingFor({ maxBatchSize: 8, maxQueueDelayMs: 1 }, sig)).toEqual({
      batching: { maxBatchSize: 8, maxQueueDelayMs: 1 },
    });
    expect(batchingFor({ maxBatchSize: 8, maxQueueDelayMs: 1 }, fixed)).toEqual({
      batching: { maxBatchSize: 1, maxQueueDelayMs: 0 },
      reason: 'tensor "x" has shape [1,4], without a variable first dimension to batch along',
    });
  });
});

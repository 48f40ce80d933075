/**
 * From a trained model to answers, as a user does it: `stratum run`, `stratum serve-model`,
 * REST and gRPC (a plain grpc-js client on the KServe proto), `stratum import` of a model
 * made by scikit-learn, `stratum predict`, and `stratum deploy` onto the workers.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { cli, cliJson, freePort, REPO, serve, startProcess, stop, tempHome, waitFor, type Proc } from './harness';

type Row = Record<string, unknown>;
interface PredictJson {
  predictions: (string | number)[];
  probabilities?: number[][];
  labels?: string[];
}

const PENGUINS = JSON.parse(
  readFileSync(join(REPO, 'node_modules', 'vega-datasets', 'data', 'penguins.json'), 'utf8'),
) as Row[];
const FEATURES = ['Island', 'Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)', 'Sex'];
const complete = PENGUINS.filter((r) => FEATURES.slice(1, 5).every((f) => typeof r[f] === 'number'));
const rows = complete.map((r) => Object.fromEntries(FEATURES.map((f) => [f, r[f] ?? null])));

async function post<T>(url: string, body: unknown): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as T;
  if (!res.ok) throw new Error(`${res.status} from ${url}: ${JSON.stringify(json)}`);
  return json;
}

function grpcInfer(target: string, model: string, input: { name: string; shape: number[]; data: number[] }) {
  const def = protoLoader.loadSync('inference/v2/grpc_predict_v2.proto', {
    includeDirs: [join(REPO, 'proto')],
    keepCase: true,
    longs: Number,
    defaults: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    inference: { GRPCInferenceService: grpc.ServiceClientConstructor };
  };
  const client = new pkg.inference.GRPCInferenceService(target, grpc.credentials.createInsecure());
  return new Promise<{ outputs: { name: string; datatype: string; shape: number[] }[]; raw_output_contents: Buffer[] }>(
    (resolve, reject) => {
      (client as unknown as Record<string, (req: object, cb: (e: Error | null, r: never) => void) => void>).ModelInfer!(
        {
          model_name: model,
          inputs: [{ name: input.name, datatype: 'FP32', shape: input.shape, contents: { fp32_contents: input.data } }],
        },
        (err, res) => {
          client.close();
          if (err) reject(err);
          else resolve(res);
        },
      );
    },
  );
}

describe('models, serving and deployments (CLI end to end)', () => {
  let home: string;
  let url: string;
  let server: Proc;

  beforeAll(async () => {
    home = tempHome();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = await serve(home, port, ['--workers', '2']);
    const r = cli(['run', join(REPO, 'examples', 'penguins.yaml'), '--json'], home, url);
    if (r.code !== 0) throw new Error(`penguins run failed: ${r.stderr}`);
  });
  afterAll(() => stop(server));

  it('serves the best penguins model over REST and gRPC with the same answers, matching the labels', async () => {
    const model = cliJson<{ format: string; inputs: { name: string; shape: string[] }[]; classes: string[] }>(
      ['model', 'penguins'],
      home,
      url,
    );
    expect(model.format).toBe('onnx');
    expect(model.classes).toEqual(['Adelie', 'Chinstrap', 'Gentoo']);
    const port = await freePort();
    const replica = await startProcess(
      ['serve-model', 'penguins', '--port', String(port), '--server', url],
      home,
      /serving penguins:\d+ on/,
    );
    try {
      const base = `http://127.0.0.1:${port}/v2/models/penguins`;
      const predicted = await post<PredictJson>(`${base}/predict`, { rows });
      const correct = predicted.predictions.filter((p, i) => p === complete[i]!.Species).length;
      expect(correct / rows.length).toBeGreaterThanOrEqual(0.95);

      // The same rows as tensors: REST /infer and gRPC ModelInfer agree with /predict.
      const width = Number(model.inputs[0]!.shape[1]);
      const local = cliJson<PredictJson>(
        ['predict', 'penguins', '--input', JSON.stringify({ rows: rows.slice(0, 5) })],
        home,
        url,
      );
      expect(local.predictions).toEqual(predicted.predictions.slice(0, 5));
      const encoded = await post<{ outputs: { name: string; data: number[] }[] }>(`${base}/infer`, {
        inputs: [{ name: 'features', datatype: 'FP32', shape: [1, width], data: new Array(width).fill(0) }],
      });
      const viaGrpc = await grpcInfer(`127.0.0.1:${port}`, 'penguins', {
        name: 'features',
        shape: [1, width],
        data: new Array(width).fill(0),
      });
      const probIndex = viaGrpc.outputs.findIndex((o) => o.name === 'probabilities');
      const raw = viaGrpc.raw_output_contents[probIndex]!;
      const grpcProbs = Array.from(new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4));
      const restProbs = encoded.outputs.find((o) => o.name === 'probabilities')!.data;
      expect(grpcProbs).toHaveLength(3);
      grpcProbs.forEach((p, i) => expect(p).toBeCloseTo(restProbs[i]!, 6));
    } finally {
      await stop(replica);
    }
  });

  it('imports an ONNX model made by scikit-learn, reads its signature, and serves the same answers', () => {
    const dir = tempHome();
    execFileSync(join(REPO, '.venv', 'bin', 'python'), [
      join(REPO, 'server', 'test-fixtures', 'make_sklearn_onnx.py'),
      dir,
    ]);
    const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as {
      inputs: number[][];
      labels: string[];
    };
    const imported = cliJson<{
      name: string;
      source: string;
      inputs: { name: string; datatype: string }[];
      producer: string;
    }>(['import', join(dir, 'model.onnx'), '--name', 'sk-penguins'], home, url);
    expect(imported.source).toBe('imported');
    expect(imported.inputs).toEqual([expect.objectContaining({ name: 'input', datatype: 'FP32' })]);
    expect(imported.producer).toMatch(/skl2onnx/);
    const sample = expected.inputs.slice(0, 20);
    const out = cliJson<{ outputs: { name: string; data: string[] }[] }>(
      [
        'predict',
        'sk-penguins',
        '--input',
        JSON.stringify({
          inputs: [{ name: 'input', datatype: 'FP32', shape: [sample.length, 4], data: sample.flat() }],
        }),
      ],
      home,
      url,
    );
    expect(out.outputs.find((o) => o.name === 'label')!.data).toEqual(expected.labels.slice(0, 20));
  });

  it('refuses to import a file that is not ONNX, and stores nothing', () => {
    const dir = tempHome();
    const bogus = join(dir, 'not-a-model.onnx');
    writeFileSync(bogus, 'this is not a protobuf');
    const r = cli(['import', bogus, '--name', 'bogus'], home, url);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not an ONNX model/);
    expect(cliJson<{ name: string }[]>(['models'], home, url).map((m) => m.name)).not.toContain('bogus');
  });

  it('deploys the model on the workers after checking the plan, and refuses an infeasible plan', async () => {
    const refused = cli(['deploy', 'penguins', '--tier', 'edge'], home, url);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/✗ memory fits: .*no worker has joined tier edge/);
    expect(cliJson<unknown[]>(['deployments'], home, url)).toEqual([]);

    const dry = cli(['deploy', 'penguins', '--tier', 'cloud', '--dry-run'], home, url);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/kind: Deployment/);
    expect(dry.stdout).toMatch(/"kind": "LocalDeploymentPlan"/);

    const deployed = cliJson<{ state: string; replicas: { url: string; state: string }[] }>(
      ['deploy', 'penguins', '--tier', 'cloud', '--min', '1'],
      home,
      url,
    );
    expect(deployed.state).toBe('STATE_READY');
    const replicaUrl = deployed.replicas.find((r) => r.state === 'STATE_READY')!.url;
    const answer = await post<PredictJson>(`${replicaUrl}/v2/models/penguins/predict`, { rows: rows.slice(0, 3) });
    expect(answer.predictions).toHaveLength(3);
    const events = cliJson<{ kind: string }[]>(['logs', 'penguins'], home, url).map((e) => e.kind);
    expect(events).toEqual(expect.arrayContaining(['created', 'replica-started', 'replica-ready']));
    expect(cli(['undeploy', 'penguins'], home, url).code).toBe(0);
    await waitFor('the replica to stop', async () => {
      try {
        await fetch(`${replicaUrl}/v2/health/live`);
        return undefined;
      } catch {
        return true;
      }
    });
  });
});

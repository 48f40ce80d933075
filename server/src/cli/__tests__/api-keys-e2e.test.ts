/**
 * API keys of deployments end to end, with real processes: a control plane with local workers
 * and its gateway, an imported ONNX model deployed twice (with and without --require-key), and
 * clients over REST (fetch, `stratum predict`) and gRPC (a plain grpc-js client on the KServe
 * proto). Keys must open only their deployment, stop working once revoked, and appear nowhere
 * but in the answer that created them.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { Recorder } from '../../../../kernel/src/__tests__/recorder';
import { runMagicCell } from '../../../../kernel/src/magics/run';
import { Stratum } from '../../../../kernel/src/api/stratum';
import { writeModel } from '../../profiler/__tests__/model';
import { cli, cliJson, freePort, REPO, serve, stop, tempHome, waitFor, type Proc } from './harness';

interface DeploymentJson {
  name: string;
  state: string;
  endpoint: string;
  apiKey?: { id: string; key: string; label: string };
}
interface KeyJson {
  id: string;
  label: string;
  created: string;
  revoked: string;
  key?: string;
}

const ROW = Array.from({ length: 16 }, (_, i) => i / 16);
const TENSORS = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 16], data: ROW }] };

async function infer(endpoint: string, name: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${endpoint}/v2/models/${name}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(TENSORS),
  });
  return { status: res.status, body: (await res.json()) as { outputs?: { data: number[] }[]; error?: string } };
}

function grpcInfer(target: string, model: string, key?: string): Promise<{ code: number; details: string }> {
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
  const metadata = new grpc.Metadata();
  if (key) metadata.set('authorization', `Bearer ${key}`);
  return new Promise((resolve) => {
    (
      client as unknown as Record<
        string,
        (req: object, md: grpc.Metadata, cb: (e: grpc.ServiceError | null) => void) => void
      >
    ).ModelInfer!(
      {
        model_name: model,
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 16], contents: { fp32_contents: ROW } }],
      },
      metadata,
      (err) => {
        client.close();
        resolve({ code: err ? err.code : grpc.status.OK, details: err?.details ?? '' });
      },
    );
  });
}

/** Every file under `dir`, as text (the database, its WAL, logs, tokens). */
function everyFile(dir: string): string {
  return readdirSync(dir)
    .map((f) => join(dir, f))
    .map((p) => (statSync(p).isDirectory() ? everyFile(p) : readFileSync(p).toString('latin1')))
    .join('\n');
}

describe('API keys per deployment (end to end)', () => {
  let home: string;
  let url: string;
  let server: Proc;
  let gateway: string;
  let first: string;
  const outputs: string[] = [];

  beforeAll(async () => {
    home = tempHome();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = await serve(home, port, ['--workers', '2']);
    const imported = cli(['import', writeModel(), '--name', 'mlp'], home, url);
    if (imported.code !== 0) throw new Error(`import failed: ${imported.stderr}`);
    const keyed = cliJson<DeploymentJson>(
      ['deploy', 'mlp', '--tier', 'cloud', '--name', 'keyed', '--min', '1', '--max', '1', '--require-key'],
      home,
      url,
    );
    const open = cliJson<DeploymentJson>(
      ['deploy', 'mlp', '--tier', 'cloud', '--name', 'open', '--min', '1', '--max', '1'],
      home,
      url,
    );
    if (keyed.state !== 'STATE_READY' || open.state !== 'STATE_READY') throw new Error('deployments not ready');
    gateway = keyed.endpoint;
    first = keyed.apiKey!.key;
    expect(open.apiKey).toBeUndefined();
  }, 240000);
  afterAll(() => stop(server));

  it('refuses a keyed deployment without its key (REST and gRPC) and answers with it', async () => {
    expect(first).toMatch(/^sk-stratum-[A-Za-z0-9_-]{43}$/);
    const none = await infer(gateway, 'keyed');
    expect(none.status).toBe(401);
    expect(none.body.error).toMatch(/deployment "keyed" requires an API key/);
    const wrongKey = `sk-stratum-${'A'.repeat(43)}`;
    const wrong = await infer(gateway, 'keyed', { authorization: `Bearer ${wrongKey}` });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toMatch(/not valid for deployment "keyed"/);
    expect(JSON.stringify(wrong.body)).not.toContain(wrongKey);
    // Metadata and readiness are protected too; the server's health stays open for probes.
    expect((await fetch(`${gateway}/v2/models/keyed`)).status).toBe(401);
    expect((await fetch(`${gateway}/v2/models/keyed/ready`)).status).toBe(401);
    expect((await fetch(`${gateway}/v2/health/ready`)).status).toBe(200);

    const viaBearer = await infer(gateway, 'keyed', { authorization: `Bearer ${first}` });
    expect(viaBearer.status).toBe(200);
    expect(viaBearer.body.outputs?.[0]?.data).toHaveLength(3);
    expect((await infer(gateway, 'keyed', { 'x-api-key': first })).status).toBe(200);

    const target = gateway.replace(/^http:\/\//, '');
    const grpcNone = await grpcInfer(target, 'keyed');
    expect(grpcNone.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(grpcNone.details).toMatch(/requires an API key/);
    expect((await grpcInfer(target, 'keyed', wrongKey)).code).toBe(grpc.status.UNAUTHENTICATED);
    expect((await grpcInfer(target, 'keyed', first)).code).toBe(grpc.status.OK);
  });

  it('leaves a deployment made without --require-key open, and keys refused there', async () => {
    expect((await infer(gateway, 'open')).status).toBe(200);
    expect((await grpcInfer(gateway.replace(/^http:\/\//, ''), 'open')).code).toBe(grpc.status.OK);
    const r = cli(['keys', 'create', 'open'], home, url);
    outputs.push(r.stdout, r.stderr);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/deployed without --require-key/);
    const plan = cli(['deploy', 'mlp', '--tier', 'cloud', '--name', 'later', '--require-key', '--dry-run'], home, url);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/inference needs an API key of the deployment/);
  });

  it('creates, lists and revokes keys; a revoked key is refused once the table updates', async () => {
    const made = cliJson<KeyJson>(['keys', 'create', 'keyed', '--label', 'notebook'], home, url);
    expect(made.key).toMatch(/^sk-stratum-/);
    expect(made.label).toBe('notebook');
    const second = made.key!;
    await waitFor('the new key to reach the gateway', async () =>
      (await infer(gateway, 'keyed', { authorization: `Bearer ${second}` })).status === 200 ? true : undefined,
    );

    const predicted = cli(
      ['predict', `${gateway}/v2/models/keyed`, '--input', JSON.stringify(TENSORS), '--api-key', second, '--json'],
      home,
      url,
    );
    outputs.push(predicted.stdout, predicted.stderr);
    expect(predicted.code).toBe(0);
    expect((JSON.parse(predicted.stdout) as { outputs: unknown[] }).outputs).toHaveLength(1);
    const refused = cli(['predict', `${gateway}/v2/models/keyed`, '--input', JSON.stringify(TENSORS)], home, url);
    outputs.push(refused.stdout, refused.stderr);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/401 .*requires an API key/);

    // The kernel's %stratum predict sends --api-key too (this model has no raw-records route,
    // so with the key the replica's own refusal comes back, not the gateway's 401).
    const magic = (line: string) =>
      runMagicCell(line, { stratum: new Stratum(), out: new Recorder(), cwd: home, bind: async () => undefined }).then(
        () => 'answered',
        (e: Error) => e.message,
      );
    const kernelUrl = `${gateway}/v2/models/keyed`;
    expect(await magic(`%stratum predict ${kernelUrl} [{"a": 1}]`)).toMatch(/HTTP 401 .*requires an API key/);
    const withKey = await magic(`%stratum predict ${kernelUrl} --api-key ${second} [{"a": 1}]`);
    expect(withKey).toMatch(/HTTP 400 .*takes raw records only for a Stratum-trained model/);

    const listed = cli(['keys', 'list', 'keyed', '--json'], home, url);
    outputs.push(listed.stdout);
    const keys = JSON.parse(listed.stdout) as KeyJson[];
    expect(keys.map((k) => k.label)).toEqual(['first key', 'notebook']);
    expect(listed.stdout).not.toMatch(/sk-stratum-|[0-9a-f]{64}/);

    const firstId = keys[0]!.id;
    const t0 = performance.now();
    const revoked = cli(['keys', 'revoke', 'keyed', firstId], home, url);
    outputs.push(revoked.stdout, revoked.stderr);
    expect(revoked.code).toBe(0);
    await waitFor('the revoked key to be refused', async () =>
      (await infer(gateway, 'keyed', { authorization: `Bearer ${first}` })).status === 401 ? true : undefined,
    );
    console.log(`revocation reached the gateway in ${(performance.now() - t0).toFixed(0)} ms (CLI call included)`);
    expect((await infer(gateway, 'keyed', { authorization: `Bearer ${second}` })).status).toBe(200);
    expect(cliJson<KeyJson[]>(['keys', 'list', 'keyed'], home, url)[0]!.revoked).not.toBe('');

    // Keys are secrets: not in `deployments --json`, nor any log line, nor any file of the home.
    const listing = cli(['deployments', '--json'], home, url);
    outputs.push(listing.stdout);
    const everything = server.output() + outputs.join('\n') + everyFile(home);
    for (const key of [first, second]) expect(everything).not.toContain(key);
  });
});

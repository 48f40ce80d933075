/**
 * Wire compatibility: the control plane answers a plain @grpc/grpc-js client (HTTP/2, protos
 * loaded at run time, no generated code of ours) and Connect/JSON over HTTP/1.1 (what the
 * browser panel speaks through jupyter-server-proxy), from the same handlers and port.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { silentLogger } from '../../util/log';
import { startControlPlane, type ControlPlane } from '../server';

const PROTO_ROOT = join(__dirname, '..', '..', '..', '..', 'proto');

type Callback<T> = (err: grpc.ServiceError | null, res: T) => void;
type UnaryFn = (req: object, md: grpc.Metadata, cb: Callback<Record<string, unknown>>) => void;

function unary(client: grpc.Client, method: string, req: object, md: grpc.Metadata): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    (client as unknown as Record<string, UnaryFn>)[method]!.call(client, req, md, (err, res) =>
      err ? reject(err) : resolve(res),
    );
  });
}

describe('wire compatibility', () => {
  let cp: ControlPlane;
  let pkg: grpc.GrpcObject;
  const home = mkdtempSync(join(tmpdir(), 'stratum-wire-'));

  beforeAll(async () => {
    cp = await startControlPlane({ home, port: 0, log: silentLogger() });
    const def = protoLoader.loadSync(
      ['stratum/v1/cluster.proto', 'stratum/v1/runs.proto', 'stratum/v1/workers.proto'],
      { includeDirs: [PROTO_ROOT], longs: String, enums: String, defaults: true },
    );
    pkg = grpc.loadPackageDefinition(def);
  });
  afterAll(() => cp.close());

  const ctor = (name: string) =>
    ((pkg.stratum as grpc.GrpcObject).v1 as grpc.GrpcObject)[name] as grpc.ServiceClientConstructor;
  const target = () => cp.url.replace('http://', '');
  const auth = (token: string) => {
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${token}`);
    return md;
  };

  it('serves GetCluster and ListRuns to a grpc-js client with the API token', async () => {
    const cluster = new (ctor('ClusterService'))(target(), grpc.credentials.createInsecure());
    const res = await unary(cluster, 'GetCluster', {}, auth(cp.secrets.apiToken));
    expect((res.tiers as { name: string }[]).map((t) => t.name)).toEqual(
      expect.arrayContaining(['cloud', 'fog', 'edge']),
    );
    const runs = new (ctor('RunService'))(target(), grpc.credentials.createInsecure());
    const list = await unary(runs, 'ListRuns', { limit: 5 }, auth(cp.secrets.apiToken));
    expect(list.runs).toEqual([]);
    cluster.close();
    runs.close();
  });

  it('refuses a grpc-js call without a valid token with UNAUTHENTICATED, and the token is not echoed', async () => {
    const cluster = new (ctor('ClusterService'))(target(), grpc.credentials.createInsecure());
    await expect(unary(cluster, 'GetCluster', {}, new grpc.Metadata())).rejects.toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
    });
    const err = (await unary(cluster, 'GetCluster', {}, auth('wrong-token')).catch(
      (e: unknown) => e,
    )) as grpc.ServiceError;
    expect(err.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(err.details).not.toContain('wrong-token');
    expect(err.details).not.toContain(cp.secrets.apiToken);
    cluster.close();
  });

  it('keeps the join token and the API token apart', async () => {
    const workers = new (ctor('WorkerService'))(target(), grpc.credentials.createInsecure());
    const req = { name: 'x', tier: 'edge', resources: { cpus: 1, memoryMb: '512', gpus: 0 } };
    await expect(unary(workers, 'Join', req, auth(cp.secrets.apiToken))).rejects.toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
    });
    const joined = await unary(workers, 'Join', req, auth(cp.secrets.joinToken));
    expect(String(joined.workerId)).toMatch(/^w-/);
    workers.close();
  });

  it('answers Connect/JSON over HTTP/1.1 on the same port', async () => {
    const resp = await fetch(`${cp.url}/stratum.v1.ClusterService/GetCluster`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${cp.secrets.apiToken}` },
      body: '{}',
    });
    expect(resp.status).toBe(200);
    const body = (await resp.json()) as { tiers: { name: string }[]; workers: { tier: string }[] };
    expect(body.tiers.map((t) => t.name)).toContain('edge');
    const denied = await fetch(`${cp.url}/stratum.v1.ClusterService/GetCluster`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(denied.status).toBe(401);
  });

  it('stores its secrets with 0600 permissions', () => {
    expect(statSync(join(home, 'api-token')).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'join-token')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(home, 'api-token'), 'utf8').trim()).toBe(cp.secrets.apiToken);
  });
});

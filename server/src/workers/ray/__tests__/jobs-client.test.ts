import { RayApiError, RayJobsClient } from '../jobs-client';
import { startFakeRay, type FakeRay } from './fake-ray';

describe('RayJobsClient (against a stand-in job API)', () => {
  let ray: FakeRay;
  let client: RayJobsClient;

  beforeEach(async () => {
    ray = await startFakeRay();
    client = new RayJobsClient({ address: `${ray.url}/` });
  });
  afterEach(() => ray.close());

  it('submits with the entrypoint resources, env vars and metadata in Ray field names', async () => {
    const id = await client.submit({
      submissionId: 'stratum-ray-edge-1',
      entrypoint: 'node main.js worker',
      numCpus: 0.5,
      numGpus: 1,
      memory: 256 * 2 ** 20,
      resources: { 'stratum-tier-edge': 1 },
      envVars: { STRATUM_JOIN_TOKEN: 't' },
      metadata: { 'stratum.tier': 'edge' },
    });
    expect(id).toBe('stratum-ray-edge-1');
    expect(ray.jobs.get(id)).toMatchObject({
      entrypoint: 'node main.js worker',
      entrypoint_num_cpus: 0.5,
      entrypoint_num_gpus: 1,
      entrypoint_memory: 268435456,
      entrypoint_resources: { 'stratum-tier-edge': 1 },
      runtime_env: { env_vars: { STRATUM_JOIN_TOKEN: 't' } },
      metadata: { 'stratum.tier': 'edge' },
    });
  });

  it('leaves out zero GPUs and empty custom resources', async () => {
    await client.submit({ submissionId: 'a', entrypoint: 'x', numCpus: 1, numGpus: 0, resources: {} });
    const job = ray.jobs.get('a')!;
    expect(job.entrypoint_num_gpus).toBeUndefined();
    expect(job.entrypoint_resources).toBeUndefined();
  });

  it('reads details, lists, stops and fetches logs', async () => {
    await client.submit({ submissionId: 'j1', entrypoint: 'x' });
    ray.jobs.get('j1')!.logs = 'worker joined\n';
    expect(await client.get('j1')).toMatchObject({ submissionId: 'j1', status: 'PENDING' });
    expect((await client.list()).map((j) => j.submissionId)).toEqual(['j1']);
    expect(await client.logs('j1')).toBe('worker joined\n');
    expect(await client.stop('j1')).toBe(true);
    expect(await client.get('j1')).toMatchObject({ status: 'STOPPED', message: 'Job was intentionally stopped.' });
    expect(await client.stop('j1')).toBe(false);
  });

  it('answers undefined for a job Ray does not know, and an error with the status otherwise', async () => {
    expect(await client.get('nope')).toBeUndefined();
    ray.failNextSubmit(400);
    const err = await client.submit({ submissionId: 'b', entrypoint: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RayApiError);
    expect(err).toMatchObject({ status: 400, message: expect.stringContaining('Job resources are not valid') });
  });

  it('is not mistaken for a browser (Ray refuses browser POSTs)', async () => {
    await expect(client.submit({ submissionId: 'c', entrypoint: 'x' })).resolves.toBe('c');
    expect(ray.requests).toContain('POST /api/jobs/');
  });

  it('reports an unreachable API without a status', async () => {
    await ray.close();
    const err = await client.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RayApiError);
    expect((err as RayApiError).status).toBeUndefined();
    expect((err as Error).message).toMatch(/unreachable/);
    ray = await startFakeRay();
  });
});

import { KUBERNETES_FILE, LOCAL_PLAN_FILE, renderIac, renderLocalPlan } from '../index';
import { docs, plan, type Obj } from './plan-fixture';

describe('renderLocalPlan', () => {
  it('says what Stratum runs: replicas, resources, batching, command, routes, probes', () => {
    const local = JSON.parse(renderLocalPlan(plan({ minReplicas: 0, maxBatchSize: 0 }))) as Obj;
    expect(local).toEqual({
      apiVersion: 'stratum.dev/v1',
      kind: 'LocalDeploymentPlan',
      deployment: 'penguins',
      model: { name: 'penguins', version: 3, ref: 'penguins:3', digest: 'sha256:ab12' },
      placement: { tier: 'edge', fallbackTiers: [] },
      replicas: { min: 0, max: 4, initial: 1, targetConcurrency: 8, scaleToZero: true },
      resourcesPerReplica: { cpus: 0.5, memoryMb: 192, gpus: 0 },
      batching: { maxBatchSize: 32, maxQueueDelayMs: 2, enabled: true },
      replica: {
        command: [
          'stratum',
          'replica',
          '--model',
          'penguins:3',
          '--name',
          'penguins',
          '--version',
          '3',
          '--host',
          '127.0.0.1',
          '--port',
          '0',
        ].concat(['--max-batch-size', '32', '--max-queue-delay-ms', '2']),
      },
      probes: {
        readiness: { path: '/v2/health/ready', periodMs: 2000, failureThreshold: 2 },
        liveness: { path: '/v2/health/live', periodMs: 10000, failureThreshold: 3 },
      },
      routes: {
        rest: [
          'POST /v2/models/penguins/infer',
          'POST /v2/models/penguins/predict',
          'GET /v2/models/penguins',
          'GET /v2/models/penguins/ready',
        ],
        grpc: [
          'inference.GRPCInferenceService/ModelInfer model_name="penguins"',
          'inference.GRPCInferenceService/ModelMetadata model_name="penguins"',
          'inference.GRPCInferenceService/ModelReady model_name="penguins"',
        ],
      },
      qos: { p95Ms: 20, rps: 100 },
      signature: {
        inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }],
        outputs: [{ name: 'label', datatype: 'BYTES', shape: [-1] }],
      },
      checks: [
        {
          name: 'memory fits',
          ok: true,
          message: 'model needs ~192 MiB per replica; largest edge worker offers 1024 MiB',
        },
      ],
      feasible: true,
    });
  });

  it('marks batching off at a batch size of 1 and defaults resources when the plan has none', () => {
    const local = JSON.parse(
      renderLocalPlan(plan({ maxBatchSize: 1, maxQueueDelayMs: 0, resources: undefined, qos: undefined })),
    ) as Obj;
    expect(local.batching).toEqual({ maxBatchSize: 1, maxQueueDelayMs: 0, enabled: false });
    expect(local.resourcesPerReplica).toEqual({ cpus: 1, memoryMb: 128, gpus: 0 });
    expect(local.qos).toEqual({});
  });
});

describe('renderIac', () => {
  it('fills the plan’s iac map by file name', () => {
    const p = plan();
    const iac = renderIac(p, { image: 'registry.local/stratum:1' });
    expect(Object.keys(iac)).toEqual([LOCAL_PLAN_FILE, KUBERNETES_FILE]);
    expect(iac[LOCAL_PLAN_FILE]).toBe(renderLocalPlan(p));
    expect(docs(iac[KUBERNETES_FILE]!)[0]!.spec.template.spec.containers[0].image).toBe('registry.local/stratum:1');
  });
});

import { checkPlan, feasible, replicaResources, replicasThatFit } from '../checks';
import type { PlanInput, PlanWorker } from '../types';

const MIB = 2 ** 20;
const none = { cpus: 0, memoryMb: 0, gpus: 0 };

const worker = (id: string, memoryMb: number, extra: Partial<PlanWorker> = {}): PlanWorker => ({
  id,
  total: { cpus: 4, memoryMb, gpus: 0 },
  used: none,
  executionProviders: ['cpu'],
  ...extra,
});

const base: PlanInput = {
  model: {
    name: 'penguins',
    version: 3,
    sizeBytes: 20 * MIB,
    inputs: [{ name: 'input', datatype: 'FP32' }],
    outputs: [
      { name: 'label', datatype: 'BYTES' },
      { name: 'probabilities', datatype: 'FP32' },
    ],
    opset: 17,
  },
  tier: { name: 'edge', workers: [worker('e1', 1024), worker('e2', 512)] },
  request: { minReplicas: 1, maxReplicas: 4 },
};

const with_ = (
  patch: {
    model?: Partial<PlanInput['model']>;
    tier?: Partial<PlanInput['tier']>;
    request?: Partial<PlanInput['request']>;
  } & Omit<Partial<PlanInput>, 'model' | 'tier' | 'request'>,
): PlanInput => ({
  ...base,
  ...patch,
  model: { ...base.model, ...patch.model },
  tier: { ...base.tier, ...patch.tier },
  request: { ...base.request, ...patch.request },
});

const byName = (input: PlanInput) => Object.fromEntries(checkPlan(input).map((c) => [c.name, c]));

describe('replicaResources', () => {
  it('is 128 MiB of runtime plus 2.5 × the model, rounded up to 16 MiB, on one cpu', () => {
    expect(replicaResources({ sizeBytes: 0 })).toEqual({ cpus: 1, memoryMb: 128, gpus: 0 });
    expect(replicaResources({ sizeBytes: 20 * MIB })).toEqual({ cpus: 1, memoryMb: 192, gpus: 0 });
    expect(replicaResources({ sizeBytes: 64 * MIB })).toEqual({ cpus: 1, memoryMb: 288, gpus: 0 });
    expect(replicaResources({ sizeBytes: 1 })).toEqual({ cpus: 1, memoryMb: 144, gpus: 0 });
  });

  it('asks for a GPU on a GPU execution provider only', () => {
    expect(replicaResources({ sizeBytes: 0 }, 'cuda').gpus).toBe(1);
    expect(replicaResources({ sizeBytes: 0 }, 'tensorrt').gpus).toBe(1);
    expect(replicaResources({ sizeBytes: 0 }, 'xnnpack').gpus).toBe(0);
  });
});

describe('checkPlan', () => {
  it('passes a model that fits, with a measured message per check', () => {
    const checks = checkPlan(base);
    expect(checks).toEqual([
      { name: 'replica bounds', ok: true, message: '1 to 4 replicas' },
      { name: 'signature known', ok: true, message: '1 input, 2 tensor outputs, opset 17' },
      {
        name: 'memory fits',
        ok: true,
        message:
          'model needs ~192 MiB per replica (128 MiB runtime + 2.5 × 20 MiB model); largest edge worker offers 1024 MiB',
      },
      { name: 'execution provider', ok: true, message: "cpu: every worker runs onnxruntime's CPU provider" },
      {
        name: 'capacity',
        ok: true,
        message: '1 replica (1 cpu, 192 MiB each) asked; free resources of 2 ready edge workers hold 6',
      },
      { name: 'QoS reachable', ok: true, message: 'no QoS asked' },
    ]);
    expect(feasible(checks)).toBe(true);
  });

  it('fails memory when the model outgrows the largest worker', () => {
    const input = with_({
      model: { sizeBytes: 21 * MIB },
      tier: { workers: [worker('e1', 128), worker('e2', 64)] },
      request: { minReplicas: 0 },
    });
    const c = byName(input)['memory fits'];
    expect(c).toEqual({
      name: 'memory fits',
      ok: false,
      message:
        'model needs ~192 MiB per replica (128 MiB runtime + 2.5 × 21 MiB model); largest edge worker offers 128 MiB',
    });
    expect(feasible(checkPlan(input))).toBe(false);
  });

  it('states given resources without the formula, and fails memory on an empty tier', () => {
    const given = byName(with_({ replicaResources: { cpus: 0.5, memoryMb: 300, gpus: 0 } }))['memory fits'];
    expect(given!.message).toBe('model needs ~300 MiB per replica; largest edge worker offers 1024 MiB');
    const empty = byName(with_({ tier: { workers: [] }, request: { minReplicas: 0 } }));
    expect(empty['memory fits']).toMatchObject({
      ok: false,
      message: expect.stringMatching(/no worker has joined tier edge$/),
    });
  });

  describe('execution provider', () => {
    it('fails a GPU provider on a tier without GPUs, saying so', () => {
      const c = byName(with_({ request: { executionProvider: 'cuda' } }))['execution provider'];
      expect(c).toEqual({
        name: 'execution provider',
        ok: false,
        message: 'cuda: no edge worker has a GPU (2 workers, 0 with GPUs)',
      });
    });

    it('fails a GPU provider that the GPU workers do not list', () => {
      const gpu = worker('g1', 8192, { total: { cpus: 8, memoryMb: 8192, gpus: 1 } });
      const c = byName(with_({ tier: { workers: [gpu] }, request: { executionProvider: 'tensorrt' } }))[
        'execution provider'
      ];
      expect(c).toEqual({
        name: 'execution provider',
        ok: false,
        message: 'tensorrt: no edge worker offers it (1 worker, 1 with GPUs)',
      });
    });

    it('passes when a worker with a GPU lists the provider, and capacity counts only those workers', () => {
      const gpu = worker('g1', 8192, {
        total: { cpus: 8, memoryMb: 8192, gpus: 2 },
        executionProviders: ['cpu', 'cuda'],
      });
      const checks = byName(
        with_({ tier: { workers: [gpu, worker('c1', 4096)] }, request: { executionProvider: 'cuda', minReplicas: 2 } }),
      );
      expect(checks['execution provider']).toEqual({
        name: 'execution provider',
        ok: true,
        message: 'cuda: offered by 1 edge worker of 2',
      });
      expect(checks['capacity']).toEqual({
        name: 'capacity',
        ok: true,
        message: '2 replicas (1 cpu, 192 MiB, 1 GPU each) asked; free resources of 1 ready edge worker hold 2',
      });
    });
  });

  describe('capacity', () => {
    it('counts free resources, not totals', () => {
      const busy = worker('e1', 1024, { used: { cpus: 3.5, memoryMb: 900, gpus: 0 } });
      const c = byName(with_({ tier: { workers: [busy] }, request: { minReplicas: 1 } }))['capacity'];
      expect(c).toEqual({
        name: 'capacity',
        ok: false,
        message: '1 replica (1 cpu, 192 MiB each) asked; free resources of 1 ready edge worker hold 0',
      });
    });

    it('fails without a ready worker unless min is 0', () => {
      const offline = [worker('e1', 1024, { ready: false })];
      expect(byName(with_({ tier: { workers: offline } }))['capacity']).toEqual({
        name: 'capacity',
        ok: false,
        message: 'no ready edge worker to place 1 replica on',
      });
      const zero = with_({ tier: { workers: offline }, request: { minReplicas: 0 } });
      expect(byName(zero)['capacity']).toEqual({
        name: 'capacity',
        ok: true,
        message: 'no ready edge worker now; min replicas is 0, so the deployment waits scaled to zero',
      });
      expect(feasible(checkPlan(zero))).toBe(true);
    });

    it('fails when min replicas need more than is free', () => {
      const c = byName(with_({ request: { minReplicas: 8, maxReplicas: 8 } }))['capacity'];
      expect(c).toMatchObject({
        ok: false,
        message: '8 replicas (1 cpu, 192 MiB each) asked; free resources of 2 ready edge workers hold 6',
      });
    });
  });

  describe('QoS reachable', () => {
    const qos = { p50Ms: 0, p95Ms: 20, p99Ms: 0, rps: 100, maxCostPerHour: 0 };

    it('fails without a profile, naming the command that makes one', () => {
      expect(byName(with_({ request: { qos } }))['QoS reachable']).toEqual({
        name: 'QoS reachable',
        ok: false,
        message: 'no profile of penguins on edge: run `stratum profile penguins --tiers edge`',
      });
    });

    it('takes the profiler’s verdict when given', () => {
      const verdict = { ok: true, message: 'p95 11.2 ms at 100 rps with 2 replicas (profiled)' };
      expect(byName(with_({ request: { qos }, qosCheck: () => verdict }))['QoS reachable']).toEqual({
        name: 'QoS reachable',
        ...verdict,
      });
      const no = { ok: false, message: 'p95 at 100 rps is 48 ms > 20 ms even with 4 replicas' };
      expect(byName(with_({ request: { qos }, qosCheck: () => no }))['QoS reachable']).toEqual({
        name: 'QoS reachable',
        ...no,
      });
    });

    it('passes an all-zero QoS as none asked, without calling the profiler', () => {
      const qosCheck = jest.fn(() => ({ ok: false, message: 'x' }));
      const zero = { p50Ms: 0, p95Ms: 0, p99Ms: 0, rps: 0, maxCostPerHour: 0 };
      expect(byName(with_({ request: { qos: zero }, qosCheck }))['QoS reachable']!.message).toBe('no QoS asked');
      expect(qosCheck).not.toHaveBeenCalled();
    });
  });

  describe('signature known', () => {
    it('fails an input without an OIP datatype', () => {
      const c = byName(
        with_({
          model: {
            inputs: [
              { name: 'x', datatype: 'bfloat16' },
              { name: 'y', datatype: '' },
            ],
          },
        }),
      )['signature known'];
      expect(c).toEqual({
        name: 'signature known',
        ok: false,
        message:
          'input "x" (bfloat16), "y" (no type) has no Open Inference Protocol datatype, so no request can carry it',
      });
    });

    it('passes a ZipMap output but reports it is left out of answers', () => {
      const outputs = [
        { name: 'output_label', datatype: 'INT64' },
        { name: 'output_probability', datatype: 'seq(map(int64,tensor(float)))' },
      ];
      expect(byName(with_({ model: { outputs } }))['signature known']).toEqual({
        name: 'signature known',
        ok: true,
        message:
          '1 input, 1 tensor output, opset 17; output "output_probability" (seq(map(int64,tensor(float)))) is not a tensor and is left out of answers',
      });
    });

    it('fails when no output is a tensor, or there is no input', () => {
      const outputs = [{ name: 'm', datatype: 'map(string,tensor(float))' }];
      expect(byName(with_({ model: { outputs } }))['signature known']).toMatchObject({
        ok: false,
        message: 'none of the outputs is a tensor ("m" is map(string,tensor(float))); nothing could be answered',
      });
      expect(byName(with_({ model: { inputs: [] } }))['signature known']).toMatchObject({
        ok: false,
        message: 'model penguins declares no inputs',
      });
    });
  });

  describe('replica bounds', () => {
    it.each([
      [2, 1, false, 'min replicas 2 is above max replicas 1'],
      [0, 0, false, 'max replicas is 0; a deployment needs at least 1 to answer anything'],
      [0, 3, true, '0 to 3 replicas; scales to zero when idle'],
      [3, 3, true, '3 to 3 replicas'],
    ])('min %i, max %i → ok %s', (minReplicas, maxReplicas, ok, message) => {
      expect(byName(with_({ request: { minReplicas, maxReplicas } }))['replica bounds']).toEqual({
        name: 'replica bounds',
        ok,
        message,
      });
    });
  });
});

describe('replicasThatFit', () => {
  it('is bounded by the scarcest free resource', () => {
    const w = { total: { cpus: 4, memoryMb: 1000, gpus: 1 }, used: { cpus: 1, memoryMb: 100, gpus: 0 } };
    expect(replicasThatFit(w, { cpus: 1, memoryMb: 200, gpus: 0 })).toBe(3);
    expect(replicasThatFit(w, { cpus: 0.5, memoryMb: 200, gpus: 0 })).toBe(4);
    expect(replicasThatFit(w, { cpus: 1, memoryMb: 200, gpus: 1 })).toBe(1);
    expect(replicasThatFit(w, { cpus: 0.1, memoryMb: 0.1, gpus: 2 })).toBe(0);
    expect(
      replicasThatFit({ ...w, used: { cpus: 0.7, memoryMb: 0, gpus: 0 } }, { cpus: 0.1, memoryMb: 0, gpus: 0 }),
    ).toBe(33);
  });
});

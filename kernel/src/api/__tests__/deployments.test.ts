import { Deployment_State, type Deployment, type DeploymentPlan } from '@stratum/proto';

import { callDeployments, deploymentUrl } from '../deployments';
import { NotAvailableError, StratumError } from '../errors';

/** An error shaped like @connectrpc/connect's ConnectError. */
function connectError(code: number, details: unknown[] = []): Error {
  return Object.assign(new Error('x'), { name: 'ConnectError', code, rawMessage: 'x', findDetails: () => details });
}

const plan = {
  modelName: 'penguins',
  modelVersion: 1,
  tier: 'edge',
  name: 'penguins',
  fallbackTiers: [],
  minReplicas: 0,
  maxReplicas: 4,
  initialReplicas: 1,
  targetConcurrency: 8,
  maxBatchSize: 8,
  maxQueueDelayMs: 2,
  feasible: false,
  checks: [
    { name: 'memory', ok: true, message: 'model needs 48 MiB' },
    { name: 'capacity', ok: false, message: 'tier edge has no ready workers' },
  ],
} as unknown as DeploymentPlan;

describe('callDeployments', () => {
  it('answers a control plane without deployments with one "not available yet" message', async () => {
    const e = await callDeployments('deploying', () => Promise.reject(connectError(12))).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NotAvailableError);
    expect((e as Error).message).toBe(
      'deploying is not available yet in this control plane: it has no deployment engine yet',
    );
  });

  it('names the failing checks of a refused plan', async () => {
    const e = await callDeployments('deploying', () => Promise.reject(connectError(9, [{ plan }]))).catch(
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(StratumError);
    expect((e as StratumError).ename).toBe('DeployRefused');
    expect((e as Error).message).toBe(
      'the plan for penguins:1 on edge is not feasible: capacity: tier edge has no ready workers',
    );
    expect((e as StratumError).details).toContain('  ✗ capacity: tier edge has no ready workers');
  });

  it('passes other errors on', async () => {
    const other = connectError(5);
    await expect(callDeployments('x', () => Promise.reject(other))).rejects.toBe(other);
  });
});

describe('deploymentUrl', () => {
  it("is the model route on the deployment's endpoint", () => {
    const d = { name: 'penguins', endpoint: 'http://127.0.0.1:9000/', state: Deployment_State.READY } as Deployment;
    expect(deploymentUrl(d)).toBe('http://127.0.0.1:9000/v2/models/penguins');
    expect(() => deploymentUrl({ ...d, endpoint: '' })).toThrow('deployment penguins has no endpoint yet');
  });
});

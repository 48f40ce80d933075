import { DeployFormModel, deployRequest, initialFields, tierChoices } from '../model/deploy-form';
import { appendLoad, series } from '../model/deploy-history';
import { DeploymentsModel, endpointUrl, parseScale } from '../model/deployments';
import { NO_PROFILER, ProfilesModel } from '../model/profiles';
import { FakeControlPlane } from './fake-control-plane';

const penguins = { name: 'penguins', version: 1 };

function form(cp: FakeControlPlane, deployments: DeploymentsModel): DeployFormModel {
  return new DeployFormModel({
    model: penguins,
    tiers: ['cloud', 'edge'],
    defaultTier: 'cloud',
    debounceMs: 5,
    plan: async (request) => (await cp.api.deployments.planDeployment(request)).plan,
    create: (request) => deployments.create(request),
  });
}

function deploymentsOf(cp: FakeControlPlane): DeploymentsModel {
  return new DeploymentsModel({ api: () => cp.api, intervalSeconds: 600, isActive: () => true });
}

/** Resolves once the form has left "planning" (the debounced plan came back). */
function settled(f: DeployFormModel): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (f.status === 'planning') return;
      f.changed.disconnect(check);
      resolve();
    };
    f.changed.connect(check);
  });
}

describe('the Deploy form', () => {
  it('starts from the default tier and turns fields into a DeployRequest', () => {
    const fields = initialFields(penguins, ['cloud', 'edge'], 'edge');
    expect(fields.tier).toBe('edge');
    expect(initialFields(penguins, ['fog'], 'cloud').tier).toBe('fog');
    expect(tierChoices(['fog'], 'cloud')).toEqual(['fog', 'cloud']);
    const built = deployRequest(penguins, { ...fields, p99: '50', rps: '', minReplicas: '1', maxReplicas: '3' });
    expect(built).toEqual({
      request: {
        model: 'penguins:1',
        name: 'penguins',
        tier: 'edge',
        qos: { p99Ms: 50, p95Ms: 0, rps: 0 },
        minReplicas: 1,
        maxReplicas: 3,
      },
    });
    expect(deployRequest(penguins, { ...fields, p99: '-3' })).toEqual({
      error: 'p99 must be a number above 0, or empty for none',
    });
    expect(deployRequest(penguins, { ...fields, minReplicas: '1.5' })).toEqual({
      error: 'Min replicas must be a whole number ≥ 0',
    });
    expect(deployRequest(penguins, { ...fields, maxReplicas: '0' })).toEqual({
      error: 'Max replicas must be a whole number ≥ 1',
    });
  });

  it('plans as fields change, enables Deploy only for a feasible plan, then deploys', async () => {
    const cp = new FakeControlPlane();
    const deployments = deploymentsOf(cp);
    const f = form(cp, deployments);
    await f.checkPlan();
    expect(f.status).toBe('planned');
    expect(f.plan?.checks.map((c) => c.ok)).toEqual([true, true, true]);
    expect(f.canDeploy).toBe(true);

    // A QoS without a profile: the plan comes back infeasible and Deploy is off.
    f.setField('p99', '5');
    f.setField('p99', '50');
    expect(f.canDeploy).toBe(false);
    await settled(f);
    expect(f.plan?.feasible).toBe(false);
    expect(f.plan?.checks.find((c) => !c.ok)?.name).toBe('QoS reachable');
    expect(f.canDeploy).toBe(false);
    expect(await f.deploy()).toBeUndefined();
    expect(cp.calls.filter((c) => c === 'plan')).toHaveLength(2);

    f.setField('p99', '');
    await settled(f);
    expect(f.canDeploy).toBe(true);
    const d = await f.deploy();
    expect(d?.name).toBe('penguins');
    expect(f.status).toBe('deployed');
    // The list was refreshed after the mutation.
    expect(deployments.find('penguins')?.endpoint).toBe('http://127.0.0.1:9001');
    deployments.dispose();
  });

  it('shows the failing checks a refused CreateDeployment carries', async () => {
    const cp = new FakeControlPlane({ refuseCreate: true });
    const deployments = deploymentsOf(cp);
    const f = form(cp, deployments);
    await f.checkPlan();
    expect(f.canDeploy).toBe(true);
    expect(await f.deploy()).toBeUndefined();
    expect(f.status).toBe('refused');
    expect(f.error).toBe('The control plane refused the deployment: 1 check fails.');
    expect(f.plan?.checks.filter((c) => !c.ok).map((c) => [c.name, c.message])).toEqual([
      ['memory fits', 'no worker has joined'],
    ]);
    expect(f.canDeploy).toBe(false);
    deployments.dispose();
  });

  it('says why there is no plan when a field is not a number', async () => {
    const cp = new FakeControlPlane();
    const deployments = deploymentsOf(cp);
    const f = form(cp, deployments);
    f.setField('maxReplicas', 'many');
    await settled(f);
    expect([f.status, f.plan, f.error]).toEqual(['invalid', undefined, 'Max replicas must be a whole number ≥ 1']);
    expect(cp.calls).not.toContain('plan');
    f.dispose();
    deployments.dispose();
  });
});

describe('deployments', () => {
  it('keeps each deployment’s load over the last polls and forgets removed ones', () => {
    const d = (name: string, rps: number) => ({ name, requestsPerSecond: rps, p50Ms: rps / 2, p99Ms: rps });
    let h = appendLoad(new Map(), [d('a', 1), d('b', 5)], 3);
    h = appendLoad(h, [d('a', 2), d('b', 6)], 3);
    h = appendLoad(h, [d('a', 3)], 3);
    h = appendLoad(h, [d('a', 4)], 3);
    expect(series(h, 'a', 'rps')).toEqual([2, 3, 4]);
    expect(series(h, 'a', 'p50Ms')).toEqual([1, 1.5, 2]);
    expect(series(h, 'b', 'rps')).toEqual([]);
  });

  it('builds the endpoint URL the kernel and curl use', () => {
    expect(endpointUrl({ endpoint: 'http://127.0.0.1:9001/', name: 'penguins' })).toBe(
      'http://127.0.0.1:9001/v2/models/penguins',
    );
    expect(endpointUrl({ endpoint: '', name: 'penguins' })).toBe('');
  });

  it('scales and undeploys, refreshing the list after each', async () => {
    const cp = new FakeControlPlane();
    const deployments = deploymentsOf(cp);
    await deployments.create({ model: 'penguins:1', tier: 'cloud', minReplicas: 1, maxReplicas: 2 });
    expect(deployments.history.get('penguins')).toHaveLength(1);
    await deployments.scale('penguins', 0, 3);
    expect([deployments.find('penguins')?.plan?.minReplicas, deployments.find('penguins')?.plan?.maxReplicas]).toEqual([
      0, 3,
    ]);
    await deployments.remove('penguins');
    expect(deployments.value).toEqual({ available: true, deployments: [] });
    expect(deployments.history.size).toBe(0);
    deployments.dispose();
  });

  it('says so when the control plane has no deployment engine', async () => {
    const deployments = deploymentsOf(new FakeControlPlane({ withoutEngine: true }));
    await deployments.refresh();
    expect(deployments.value).toEqual({ available: false });
    expect(deployments.connection).toEqual({ kind: 'ready' });
    deployments.dispose();
  });

  it('checks replica bounds before scaling', () => {
    expect(parseScale({ min: '0', max: '3' })).toEqual({ min: 0, max: 3 });
    expect(parseScale({ min: '4', max: '3' })).toEqual({ error: 'min replicas 4 is above max replicas 3' });
    expect(parseScale({ min: '', max: '3' })).toEqual({ error: 'min replicas must be a whole number ≥ 0, not ""' });
    expect(parseScale({ min: '1', max: '0' })).toEqual({ error: 'max replicas must be a whole number ≥ 1, not "0"' });
  });
});

describe('profiles', () => {
  it('loads a profile, or says plainly why there is none', async () => {
    const profiles = new ProfilesModel(() => new FakeControlPlane().api);
    await profiles.load('penguins:1');
    expect(profiles.state('penguins:1')).toMatchObject({ kind: 'ready', profile: { id: 'p1' } });
    await profiles.load('penguins:2');
    expect(profiles.state('penguins:2')).toEqual({
      kind: 'none',
      reason: 'No profile available: penguins:2 has not been profiled yet (stratum profile penguins measures it).',
    });
    const older = new ProfilesModel(() => new FakeControlPlane({ withoutEngine: true }).api);
    await older.load('penguins:1');
    expect(older.state('penguins:1')).toEqual({ kind: 'none', reason: NO_PROFILER });
  });
});

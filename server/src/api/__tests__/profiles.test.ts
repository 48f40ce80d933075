/**
 * ProfileService in memory (createRouterTransport): one real profile in a profile-main child
 * process on one tier, stored and analysed; the refusals with their codes; the plan's QoS check.
 */
import { Code, ConnectError, createClient, createRouterTransport, type Client } from '@connectrpc/connect';
import { ProfileService, type Model } from '@stratum/proto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { DEFAULT_TIERS } from '../../config/tiers';
import { ProfileRepo } from '../../profiler/repo';
import type { ProfileRunner } from '../../profiler/runner';
import { ArtifactStore } from '../../store/artifacts';
import { openDb } from '../../store/db';
import { describeOnnx } from '../../store/model-info';
import { ModelRepo } from '../../store/models';
import { mlpModel, writeModel } from '../../profiler/__tests__/model';
import { profileQosCheck, profileRoutes, type ProfileRoutesDeps } from '../profiles';

const LINEAGE = {
  runId: '',
  trialId: '',
  specHash: '',
  dataHash: '',
  paramsJson: '{}',
  trainer: '',
  backend: '',
  candidate: '',
  versions: {},
};

function setup(runner?: ProfileRunner) {
  const home = mkdtempSync(join(tmpdir(), 'stratum-profiles-'));
  const db = openDb(join(home, 'stratum.db'));
  const artifacts = new ArtifactStore(join(home, 'artifacts'), db);
  const models = new ModelRepo(db);
  const bytes = readFileSync(writeModel(mlpModel()));
  const digest = artifacts.put(bytes, 'mlp.onnx');
  const info = describeOnnx(bytes);
  models.register(
    {
      name: 'mlp',
      format: 'onnx',
      digest,
      size: bytes.length,
      metrics: {},
      lineage: LINEAGE,
      info,
      source: 'imported',
    },
    1,
  );
  models.register(
    {
      name: 'tfjs-only',
      format: 'tfjs',
      digest,
      size: bytes.length,
      metrics: {},
      lineage: LINEAGE,
      info,
      source: 'trained',
    },
    2,
  );
  const profiles = new ProfileRepo(db);
  const deps: ProfileRoutesDeps = {
    models,
    artifacts,
    profiles,
    tiers: () => [...DEFAULT_TIERS],
    ...(runner ? { runner } : {}),
  };
  const client: Client<typeof ProfileService> = createClient(
    ProfileService,
    createRouterTransport(({ service }) => service(ProfileService, profileRoutes(deps))),
  );
  return { client, profiles, models, close: () => db.close() };
}

async function codeOf(p: Promise<unknown> | AsyncIterable<unknown>): Promise<[Code, string]> {
  try {
    if (Symbol.asyncIterator in p) for await (const _ of p as AsyncIterable<unknown>);
    else await p;
  } catch (e) {
    const c = ConnectError.from(e);
    return [c.code, c.rawMessage];
  }
  throw new Error('no error');
}

describe('ProfileService', () => {
  it('profiles a registered model in a child process, stores it, and analyses it for a QoS', async () => {
    const s = setup();
    try {
      const kinds: string[] = [];
      let last;
      for await (const e of s.client.profileModel({
        model: 'mlp',
        tiers: ['fog'],
        settings: { batchSizes: [1, 2], concurrency: [2], windowMs: 150, maxPointMs: 800, warmupMs: 50 },
        qos: { p99Ms: 60000, rps: 10 },
      })) {
        kinds.push(e.kind);
        last = e;
      }
      // The closed-loop points, then the open-loop ones at the default fractions of its throughput.
      expect(kinds).toEqual([
        'tier-start',
        'loaded',
        'point',
        'point',
        ...Array(4).fill('open-loop'),
        'tier-done',
        'done',
      ]);
      const profile = last!.profile!;
      expect(profile.tiers[0]!.openLoop).toHaveLength(4);
      expect(profile).toMatchObject({ modelName: 'mlp', modelVersion: 1 });
      expect(profile.tiers[0]!.points.map((p) => [p.batchSize, p.concurrency])).toEqual([
        [1, 2],
        [2, 2],
      ]);
      expect(profile.settings).toMatchObject({
        batchSizes: [1, 2],
        concurrency: [2],
        stableWindows: 3,
        tolerance: 0.1,
      });
      expect(last!.report).toMatchObject({ feasible: true, best: { tier: 'fog', replicas: 1, ok: true } });

      const got = await s.client.getProfile({ model: 'mlp', qos: { p99Ms: 0.001 } });
      expect(got.profile!.id).toBe(profile.id);
      expect(got.report!.feasible).toBe(false);
      expect(got.report!.tiers[0]!.reason).toMatch(/^fog: p99 at batch \d, concurrency 2 is .* > 0\.001 ms budget/);
      expect((await s.client.getProfile({ id: profile.id })).report).toBeUndefined();
      expect((await s.client.listProfiles({ model: 'mlp' })).profiles.map((p) => p.id)).toEqual([profile.id]);
      expect((await s.client.listProfiles({ model: 'other' })).profiles).toEqual([]);

      const check = profileQosCheck(s.profiles);
      const model = s.models.get('mlp', 1) as Model;
      expect(check(model, 'fog', undefined).ok).toBe(true);
      expect(check(model, 'edge', undefined)).toEqual({
        ok: false,
        message: 'no profile of mlp:1 on edge: run `stratum profile mlp:1 --tiers edge`',
      });
    } finally {
      s.close();
    }
  });

  it('lists the tiers and refuses what it cannot profile, with the reason', async () => {
    const hold = { release: () => {} };
    const runner: ProfileRunner = async function* () {
      yield { kind: 'tier-start', tier: 'cloud', message: 'cloud: 2 cpu' };
      await new Promise<void>((resolve) => (hold.release = resolve));
    };
    const s = setup(runner);
    try {
      expect((await s.client.listTiers({})).tiers.map((t) => [t.name, t.cpus, t.memoryMb, t.costPerHour])).toEqual([
        ['cloud', 2, 4096, 0.4],
        ['fog', 1, 1024, 0.1],
        ['edge', 0.5, 256, 0.02],
      ]);
      expect(await codeOf(s.client.profileModel({ model: 'nope' }))).toEqual([Code.NotFound, 'model "nope" not found']);
      expect(await codeOf(s.client.profileModel({ model: 'mlp', tiers: ['edg'] }))).toEqual([
        Code.InvalidArgument,
        'unknown tier "edg" (did you mean "edge"?); tiers: cloud, fog, edge',
      ]);
      expect(await codeOf(s.client.profileModel({ model: 'mlp', settings: { tolerance: 2 } }))).toEqual([
        Code.InvalidArgument,
        'tolerance must be in (0, 1), got 2',
      ]);
      expect(await codeOf(s.client.profileModel({ model: 'mlp', sampleRecordsJson: '{"a": 1}' }))).toEqual([
        Code.InvalidArgument,
        'sample_records_json must be a JSON array of records (objects)',
      ]);
      expect(await codeOf(s.client.profileModel({ model: 'tfjs-only' }))).toEqual([
        Code.FailedPrecondition,
        'model tfjs-only:1 is stored as tfjs, not ONNX, so it cannot be profiled',
      ]);
      expect(await codeOf(s.client.getProfile({ model: 'mlp' }))).toEqual([
        Code.NotFound,
        'model mlp:1 has no profile yet: run `stratum profile mlp`',
      ]);
      const first = s.client.profileModel({ model: 'mlp' })[Symbol.asyncIterator]();
      expect((await first.next()).value).toMatchObject({ kind: 'tier-start', tier: 'cloud', message: 'cloud: 2 cpu' });
      const pending = first.next();
      expect(await codeOf(s.client.profileModel({ model: 'mlp' }))).toEqual([
        Code.ResourceExhausted,
        'a profile of mlp:1 is running; profiles run one at a time so they do not measure each other',
      ]);
      hold.release();
      expect(await codeOf(pending)).toEqual([
        Code.Internal,
        'profiling mlp:1 failed: the profiler ended without a profile',
      ]);
    } finally {
      s.close();
    }
  });
});

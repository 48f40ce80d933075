/**
 * The profiler against real replica processes under real limits: numbers present and
 * ordered as the limits imply (only where the difference is large), a model over a tier's
 * memory reported as not fitting, and an impossible QoS explained per tier.
 */
import { statSync } from 'node:fs';

import { DEFAULT_TIERS, type Tier } from '../../config/tiers';
import { analyzeCapacity, NO_QOS, qosCheck } from '../capacity';
import { emulationPlan, thisMachine } from '../emulation';
import { profileModel, sweepSettings } from '../profiler';
import type { ModelProfile, ProfileEvent } from '../types';
import { writeModel } from './model';

const [cloud, , defaultEdge] = DEFAULT_TIERS as [Tier, Tier, Tier];
/**
 * A tenth of a core: far below the share a busy two-core machine leaves any one process (other
 * test files run beside this one), so its CPU share, not the contention, is what binds it.
 */
const edge: Tier = { ...defaultEdge, cpus: 0.1 };
const pico: Tier = { ...defaultEdge, name: 'pico', memoryMb: 32 };
const TINY = {
  batchSizes: [1],
  concurrency: [1, 4],
  warmupMs: 100,
  windowMs: 150,
  stableWindows: 3,
  maxPointMs: 900,
};

describe('profileModel on real replicas', () => {
  const modelPath = writeModel();
  const events: ProfileEvent[] = [];
  let profile: ModelProfile;

  beforeAll(async () => {
    profile = await profileModel({
      modelPath,
      model: { name: 'mlp', version: 3 },
      tiers: [cloud, edge, pico],
      settings: TINY,
      onEvent: (e) => events.push(e),
    });
  });

  it('measures load time, size, memory and every point on the tiers the model fits', () => {
    expect(profile.model).toMatchObject({ name: 'mlp', version: 3, sizeBytes: statSync(modelPath).size });
    expect(profile.model.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(profile.inputs).toBe('synthetic: x FP32 [1,16] (floats random normal, integers 0-9)');
    for (const t of profile.tiers.slice(0, 2)) {
      expect(t).toMatchObject({ fits: true, reason: '' });
      expect(t.loadMs).toBeGreaterThan(0);
      expect(t.loadMemoryMb).toBeGreaterThan(10);
      expect(t.peakMemoryMb).toBeGreaterThanOrEqual(t.loadMemoryMb);
      expect(t.points.map((p) => [p.batchSize, p.concurrency])).toEqual([
        [1, 1],
        [1, 4],
      ]);
      for (const p of t.points) {
        expect(p.errors).toBe(0);
        expect(p.requests).toBeGreaterThan(0);
        expect(p.throughput).toBeGreaterThan(0);
        expect(p.p50Ms).toBeGreaterThan(0);
        expect(p.p50Ms).toBeLessThanOrEqual(p.p95Ms);
        expect(p.p95Ms).toBeLessThanOrEqual(p.p99Ms);
        expect(p.p99Ms).toBeLessThanOrEqual(p.maxMs);
      }
    }
    // Open-loop points on the best (only) batch setting, at the default fractions of its throughput.
    for (const t of profile.tiers.slice(0, 2)) {
      const best = Math.max(...t.points.map((p) => p.throughput));
      expect(t.openLoop!.map((p) => p.offeredRps)).toEqual(
        [0.3, 0.5, 0.7, 0.85].map((f) => Number((f * best).toPrecision(3))),
      );
      for (const p of t.openLoop!) {
        expect(p).toMatchObject({ batchSize: 1, errors: 0 });
        expect(p.requests).toBeGreaterThan(0);
        expect(p.p50Ms).toBeLessThanOrEqual(p.p95Ms);
        expect(p.p95Ms).toBeLessThanOrEqual(p.p99Ms);
      }
      console.log(
        `${t.tier.name} open loop: ${t.openLoop!.map((p) => `${p.offeredRps}/s → ${p.throughput.toFixed(0)}/s p99 ${p.p99Ms.toFixed(2)} ms`).join(', ')}`,
      );
    }
    // The share is held as this machine can (a CFS quota, or the duty cycle), and the profile says which.
    expect(profile.tiers[1]!.emulation).toContainEqual(
      expect.stringMatching(
        /^(CFS quota: 1 ms of CPU time per 10 ms \(cgroup v[12]\)|duty-cycled: runs 1 ms of every 10 ms \(SIGCONT\/SIGSTOP; no writable cgroup for a CPU quota\)), 10% of its core$/,
      ),
    );
    expect(profile.tiers[1]!.emulation).toEqual(emulationPlan(edge, thisMachine()).notes);
  });

  it('orders the tiers as their limits imply: cloud serves well over 1.5 × what edge serves', () => {
    const at4 = (i: number) => profile.tiers[i]!.points.find((p) => p.concurrency === 4)!.throughput;
    expect(at4(0)).toBeGreaterThanOrEqual(1.5 * at4(1));
  });

  it('reports a model over the tier memory as not fitting, without a crash', () => {
    const t = profile.tiers[2]!;
    expect(t.fits).toBe(false);
    expect(t.reason).toMatch(
      /^does not fit: (reached \d+ MiB while loading|needs \d+ MiB once loaded), over the tier's 32 MiB memory$/,
    );
    expect(t.points).toEqual([]);
    expect(analyzeCapacity(profile, NO_QOS).tiers.find((v) => v.tier === 'pico')!.reason).toBe(`pico: ${t.reason}`);
  });

  it('streams progress: each tier, its load, each point, then the profile', () => {
    expect(events.map((e) => `${e.kind}${'tier' in e ? ` ${e.tier}` : ''}`)).toEqual([
      'tier-start cloud',
      'loaded cloud',
      'point cloud',
      'point cloud',
      ...Array<string>(4).fill('open-loop cloud'),
      'tier-done cloud',
      'tier-start edge',
      'loaded edge',
      'point edge',
      'point edge',
      ...Array<string>(4).fill('open-loop edge'),
      'tier-done edge',
      'tier-start pico',
      'tier-done pico',
      'done',
    ]);
    expect(events.filter((e) => e.kind === 'point').map((e) => e.kind === 'point' && `${e.done}/${e.total}`)).toEqual([
      '1/6',
      '2/6',
      '3/6',
      '4/6',
    ]);
  });

  it('explains an impossible QoS on every tier with the measured numbers', () => {
    const report = analyzeCapacity(profile, { ...NO_QOS, p99Ms: 0.001, rps: 100 });
    expect(report.feasible).toBe(false);
    // With a rate, judged on the open-loop points: even the lowest measured rate misses.
    expect(report.tiers.map((v) => v.reason)).toEqual([
      expect.stringMatching(
        /^cloud: p(50|95|99) at [\d.]+ req\/s is \d+(\.\d+)? ms > 0\.001 ms even at the lowest measured rate \(open loop, batch 1, measured [\d.]+ req\/s to [\d.]+ req\/s\)$/,
      ),
      expect.stringMatching(
        /^edge: p(50|95|99) at [\d.]+ req\/s is \d+(\.\d+)? ms > 0\.001 ms even at the lowest measured rate \(open loop, batch 1, measured [\d.]+ req\/s to [\d.]+ req\/s\)$/,
      ),
      `pico: ${profile.tiers[2]!.reason}`,
    ]);
    const easy = qosCheck(profile, 'cloud', { ...NO_QOS, p99Ms: 60000, rps: 1 });
    expect(easy.ok).toBe(true);
    expect(easy.message).toMatch(/^cloud: 1 replica at \$0\.40\/h = \$0\.40\/h; .* \(profile of mlp:3\)$/);
  });
});

describe('sweepSettings', () => {
  it('fills defaults and names a bad setting', () => {
    expect(sweepSettings({ concurrency: [2] })).toMatchObject({ batchSizes: [1, 2, 4, 8, 16], concurrency: [2] });
    expect(() => sweepSettings({ batchSizes: [0] })).toThrow(
      'batchSizes must be whole numbers from 1 to 1024, got [0]',
    );
    expect(() => sweepSettings({ tolerance: 1 })).toThrow('tolerance must be in (0, 1), got 1');
    expect(() => sweepSettings({ stableWindows: 1 })).toThrow('stableWindows must be a whole number ≥ 2, got 1');
  });
});

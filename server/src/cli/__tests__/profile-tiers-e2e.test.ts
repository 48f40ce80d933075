/**
 * Acceptance of the profiler on the three emulated tiers: the penguins model (trained by a real
 * run) and a heavier one (a small CNN on 64×64 image-like input, imported) are profiled with
 * `stratum profile --tiers edge,fog,cloud --qos ...`. The numbers must order the tiers as their
 * limits imply, and the recommendation must be what those numbers give.
 *
 * The tiers are the defaults scaled down to a fifth (cloud 0.4, fog 0.2, edge 0.1 cpu: still
 * 4 : 2 : 1) through $STRATUM_HOME/tiers.yaml: on this two-core machine, shared with other
 * test files, a process gets a fraction of a core anyway, so full-core limits would not bind
 * and the order would be the scheduler's noise. Each step is nominally 2×; the test asks 1.4×.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { openLoopCurve } from '../../profiler/capacity';
import { cnnModel, writeModel } from '../../profiler/__tests__/model';
import type { CapacityReport, ModelProfile, TierProfile } from '../../profiler/types';
import { cli, cliJson, freePort, REPO, serve, stop, tempHome, waitFor, type Proc } from './harness';

const TIERS_YAML = `tiers:
  - { name: cloud, cpus: 0.4, threads: 2, memory: 4Gi, costPerHour: 0.4 }
  - { name: fog, cpus: 0.2, threads: 1, memory: 1Gi, costPerHour: 0.1 }
  - { name: edge, cpus: 0.1, threads: 1, memory: 256Mi, costPerHour: 0.02 }
`;
const QUICK = ['--batch-sizes', '1,4', '--concurrency', '1,4', '--window-ms', '200', '--max-point-ms', '1200'];
/** A budget most tiers meet at some point and a rate that needs more than one slow replica. */
const QOS = { p99Ms: 250, rps: 60 };

const best = (t: TierProfile): number => Math.max(...t.points.map((p) => p.throughput));

/**
 * p99 at `rate` on a tier's open-loop points (served ones, latency made non-decreasing in the
 * rate: openLoopCurve): linear between measured rates; none above the highest.
 */
function openP99(t: TierProfile, rate: number): number | undefined {
  const curve = openLoopCurve(t.openLoop);
  if (curve.length === 0 || rate > curve[curve.length - 1]!.offeredRps) return undefined;
  if (rate <= curve[0]!.offeredRps) return curve[0]!.p99Ms;
  const i = curve.findIndex((p) => p.offeredRps >= rate);
  const [a, b] = [curve[i - 1]!, curve[i]!];
  return a.p99Ms + ((rate - a.offeredRps) / (b.offeredRps - a.offeredRps)) * (b.p99Ms - a.p99Ms);
}

/**
 * The recommendation recomputed from the measured points: the cheapest tier that meets QOS.
 * With open-loop points, the fewest replicas whose per-replica rate is measured with a p99
 * within budget; without, the closed-loop rule (highest throughput within budget).
 */
function expectedRecommendation(profile: ModelProfile): { tier: string; replicas: number } | undefined {
  const options = profile.tiers.flatMap((t) => {
    if (!t.fits) return [];
    if (t.openLoop?.length) {
      for (let n = 1; n <= 1000; n++) {
        const p99 = openP99(t, QOS.rps / n);
        if (p99 !== undefined && p99 <= QOS.p99Ms)
          return [{ tier: t.tier.name, replicas: n, cost: n * t.tier.costPerHour }];
      }
      return [];
    }
    const ok = t.points.filter((p) => p.errors === 0 && p.requests > 0 && p.p99Ms <= QOS.p99Ms);
    if (ok.length === 0) return [];
    const replicas = Math.ceil(QOS.rps / Math.max(...ok.map((p) => p.throughput)) - 1e-9);
    return [{ tier: t.tier.name, replicas, cost: replicas * t.tier.costPerHour }];
  });
  return options.sort((a, b) => a.cost - b.cost)[0];
}

function checkProfile(name: string, out: { profile: ModelProfile; report: CapacityReport }): void {
  const { profile, report } = out;
  const [edge, fog, cloud] = ['edge', 'fog', 'cloud'].map((n) => profile.tiers.find((t) => t.tier.name === n)!);
  for (const t of [edge!, fog!, cloud!]) {
    expect(t.fits).toBe(true);
    expect(t.points).toHaveLength(4);
    // The open-loop points: one per default fraction of the best batch setting's throughput, each served.
    expect(t.openLoop?.length).toBe(4);
    console.log(
      `${name} ${t.tier.name} open loop: ` +
        t
          .openLoop!.map((p) => `${p.offeredRps}/s → ${p.throughput.toFixed(0)}/s p99 ${p.p99Ms.toFixed(1)} ms`)
          .join(', '),
    );
    console.log(
      `${name} ${t.tier.name} (${t.tier.cpus} cpu): best ${best(t).toFixed(0)} req/s; ` +
        t.points
          .map((p) => `b${p.batchSize}c${p.concurrency} ${p.throughput.toFixed(0)}/s p99 ${p.p99Ms.toFixed(1)} ms`)
          .join(', '),
    );
  }
  expect(best(fog!)).toBeGreaterThan(1.4 * best(edge!));
  expect(best(cloud!)).toBeGreaterThan(1.4 * best(fog!));
  const expected = expectedRecommendation(profile);
  console.log(
    `${name} recommendation: ${report.best?.reason ?? 'none'}; every tier: ${report.tiers.map((v) => v.reason).join(' | ')}`,
  );
  expect(report.best?.tier).toBe(expected?.tier);
  if (expected) expect(report.best?.replicas).toBe(expected.replicas);
  // Every tier set aside says so with a measured number.
  for (const v of report.tiers.filter((x) => !x.ok)) expect(v.reason).toMatch(/\d+(\.\d+)? (ms|req\/s)|\$/);
}

describe('stratum profile on edge, fog and cloud (scaled tiers)', () => {
  let home: string;
  let url: string;
  let server: Proc;

  beforeAll(async () => {
    home = tempHome();
    writeFileSync(join(home, 'tiers.yaml'), TIERS_YAML);
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = await serve(home, port, ['--tiers', 'cloud,fog,edge']);
    await waitFor('3 tier workers', () =>
      cliJson<{ workers?: unknown[] }>(['workers'], home, url).workers?.length === 3 ? true : undefined,
    );
  });
  afterAll(() => stop(server));

  const profile = (model: string) =>
    cliJson<{ profile: ModelProfile; report: CapacityReport }>(
      ['profile', model, '--tiers', 'edge,fog,cloud', '--qos', `p99=${QOS.p99Ms}ms,rps=${QOS.rps}`, ...QUICK],
      home,
      url,
    );

  it('the penguins model: edge < fog < cloud, and the recommendation the numbers give', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stratum-tiers-'));
    const spec = join(dir, 'penguins.yaml');
    writeFileSync(
      spec,
      `apiVersion: stratum/v1
kind: Pipeline
metadata: { name: penguins }
data: { source: ${join(REPO, 'node_modules', 'vega-datasets', 'data', 'penguins.json')} }
target: Species
features: [Island, Beak Length (mm), Beak Depth (mm), Flipper Length (mm), Body Mass (g)]
transforms:
  - dropMissing: { columns: [Beak Length (mm), Beak Depth (mm), Flipper Length (mm), Body Mass (g)] }
  - oneHot: { columns: [Island] }
  - standardize: { columns: [Beak Length (mm), Beak Depth (mm), Flipper Length (mm), Body Mass (g)] }
task: classification
models:
  - { name: logistic, trainer: logistic-regression, params: { numSteps: 300 } }
selection: { metric: accuracy }
resources: { cpus: 0.1, memory: 128Mi }
`,
    );
    const run = cli(['run', spec, '--json'], home, url);
    expect(run.code).toBe(0);
    checkProfile('penguins', profile('penguins'));
  });

  it('a small CNN on image-like input: edge < fog < cloud, and the recommendation the numbers give', () => {
    const imported = cli(['import', writeModel(cnnModel()), '--name', 'cnn'], home, url);
    expect(imported.code).toBe(0);
    checkProfile('cnn', profile('cnn'));
  });
});

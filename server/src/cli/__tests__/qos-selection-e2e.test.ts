/**
 * Latency-aware selection end to end: a real control plane with tier workers, real trials,
 * real ONNX candidates profiled on the edge tier (a replica process under edge's limits). An
 * impossible budget sets every candidate aside with the measured number; a generous one keeps
 * the metric's best. Structure only: what was measured is printed, never asserted.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { cli, cliJson, freePort, REPO, serve, stop, tempHome, waitFor, type Proc } from './harness';

interface TrialJson {
  id: string;
  state: string;
  metrics: Record<string, number>;
  excludedReason?: string;
}
interface RunJson {
  id: string;
  state: string;
  stateReason?: string;
  trials: TrialJson[];
  best?: { trialId: string; modelName: string; modelVersion: number };
}

function spec(dir: string, name: string, p99: string): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(
    path,
    `apiVersion: stratum/v1
kind: Pipeline
metadata: { name: ${name} }
data: { source: ${join(REPO, 'node_modules', 'vega-datasets', 'data', 'penguins.json')} }
target: Species
features: [Beak Length (mm), Beak Depth (mm), Flipper Length (mm)]
transforms:
  - dropMissing: {}
split: { holdout: { test: 0.25, seed: 7, stratify: true } }
task: classification
models:
  - name: tree
    trainer: decision-tree
    params: { maxDepth: [2, 6] }
  - name: logistic
    trainer: logistic-regression
    params: { numSteps: 300 }
selection:
  metric: accuracy
  qos: { tier: edge, p99: ${p99} }
resources: { cpus: 0.5, memory: 256Mi }
`,
  );
  return path;
}

describe('selection.qos on a real cluster (serve --tiers cloud,edge)', () => {
  let home: string;
  let url: string;
  let server: Proc;
  const dir = mkdtempSync(join(tmpdir(), 'stratum-qos-e2e-'));

  beforeAll(async () => {
    home = tempHome();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = await serve(home, port, ['--tiers', 'cloud,edge']);
    await waitFor('2 tier workers', () =>
      cliJson<{ workers?: unknown[] }>(['workers'], home, url).workers?.length === 2 ? true : undefined,
    );
  });
  afterAll(() => stop(server));

  it('an impossible p99 (1us) sets every candidate aside with its measured p99, and registers nothing', () => {
    const r = cli(['run', spec(dir, 'qos-impossible', '1us'), '--json'], home, url);
    const run = JSON.parse(r.stdout) as RunJson;
    expect(run.state).toBe('STATE_FAILED');
    expect(run.stateReason).toBe('no candidate meets p99 ≤ 0.001 ms on edge: 3 set aside, each trial says why');
    expect(run.best).toBeUndefined();
    expect(run.trials).toHaveLength(3);
    for (const t of run.trials) {
      expect(t.state).toBe('STATE_SUCCEEDED');
      expect(t.excludedReason).toMatch(/^p99 on edge [\d.]+ ms > 0\.001 ms \(batch 1, concurrency 1\)$/);
      console.log(`impossible QoS: trial ${t.id.slice(0, 8)} accuracy ${t.metrics.accuracy}: ${t.excludedReason}`);
    }
    // The leaderboard says why, with the number.
    const board = cli(['run-status', run.id.slice(0, 8)], home, url);
    expect(board.stdout).toMatch(/set aside: p99 on edge [\d.]+ ms > 0\.001 ms/);
    expect(cliJson<{ name: string }[]>(['models'], home, url).map((m) => m.name)).not.toContain('qos-impossible');
  });

  it('a generous p99 (10s) keeps the best by the metric and registers it', () => {
    const r = cli(['run', spec(dir, 'qos-generous', '10s'), '--json'], home, url);
    expect(r.code).toBe(0);
    const run = JSON.parse(r.stdout) as RunJson;
    expect(run.state).toBe('STATE_SUCCEEDED');
    const top = Math.max(...run.trials.map((t) => t.metrics.accuracy!));
    const best = run.trials.find((t) => t.id === run.best?.trialId)!;
    expect(best.metrics.accuracy).toBe(top);
    expect(run.trials.every((t) => !t.excludedReason)).toBe(true);
    expect(run.best?.modelName).toBe('qos-generous');
  });
});

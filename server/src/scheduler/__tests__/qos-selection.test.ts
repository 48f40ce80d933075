/**
 * Latency-aware selection through the real scheduler and SQLite: the profiler is the one
 * injected part (hand-built profiles keyed by the candidate's metric), so the verdicts are known.
 */
import { State } from '@stratum/proto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { ProfileCandidate } from '../../profiler/candidates';
import { modelProfile, point, tier, tierProfile } from '../../profiler/__tests__/hand-built';
import type { ModelProfile } from '../../profiler/types';
import { openDb } from '../../store/db';
import { ModelRepo } from '../../store/models';
import { RunRepo } from '../../store/runs';
import { WorkerRepo } from '../../store/workers';
import { silentLogger } from '../../util/log';
import { Scheduler } from '../controller';
import { EventHub } from '../events';

/** Edge p99 by the trial's accuracy: the most accurate model is the slowest. */
const EDGE_P99: Record<number, number> = { 0.95: 31, 0.9: 6, 0.8: 2 };

function setup(profile: ProfileCandidate, maxCandidates?: number) {
  const db = openDb(join(mkdtempSync(join(tmpdir(), 'stratum-qos-')), 'db.sqlite'));
  const runs = new RunRepo(db);
  const models = new ModelRepo(db);
  const saved: ModelProfile[] = [];
  const s = new Scheduler({
    runs,
    workers: new WorkerRepo(db),
    models,
    events: new EventHub(),
    clock: { now: () => 1_000_000 },
    log: silentLogger(),
    options: { leaseTtlMs: 5000, heartbeatIntervalMs: 1000, maxAttempts: 3 },
    qos: { profile, saveProfile: (p) => saved.push(p), ...(maxCandidates ? { maxCandidates } : {}) },
  });
  return { runs, models, s, saved };
}

/** Runs three trials (accuracy 0.95, 0.9, 0.8) under `qos`; resolves once the run is terminal. */
async function runWith(env: ReturnType<typeof setup>, qos: Record<string, unknown>) {
  const { s, runs } = env;
  const w = s.join({
    name: 'w',
    tier: 'cloud',
    total: { cpus: 1, memoryMb: 4096, gpus: 0 },
    labels: {},
    versions: {},
    trainers: [],
  });
  const run = s.submit({
    name: 'demo',
    specYaml: 'apiVersion: stratum/v1',
    specFile: 'demo.yaml',
    specHash: 'h',
    specJson: JSON.stringify({ selection: { metric: 'accuracy', qos } }),
    task: 'classification',
    metric: 'accuracy',
    goal: 'maximize',
    data: [],
    dataHash: 'd',
    plans: [0, 1, 2].map((i) => ({ index: i, candidate: 'c', trainer: 'synthetic', params: { i }, seed: i })),
    resources: { cpus: 1, memoryMb: 256, gpus: 0 },
  });
  const accuracyOf = new Map<string, number>();
  for (const accuracy of [0.8, 0.95, 0.9]) {
    const a = (await s.lease(w, 0)).assignment!;
    accuracyOf.set(a.trialId, accuracy);
    s.complete({
      workerId: w,
      trialId: a.trialId,
      leaseId: a.leaseId,
      ok: true,
      error: '',
      metrics: { accuracy },
      modelDigest: `sha256:${String(accuracy * 100).padStart(64, '0')}`,
      modelFormat: 'onnx',
      modelSize: 10,
      backend: 'test',
      note: '',
    });
  }
  const idOf = (acc: number) => [...accuracyOf].find(([, a]) => a === acc)![0];
  for (let i = 0; i < 200 && ![3, 4, 5].includes(runs.getRun(run.id)!.state); i++)
    await new Promise((r) => setTimeout(r, 5));
  return { run: runs.getRun(run.id)!, idOf, accuracyOf };
}

const edgeProfiler =
  (calls: string[]): ProfileCandidate =>
  async (c, rule) => {
    calls.push(c.digest);
    const acc = Number(c.digest.slice('sha256:'.length)) / 100;
    expect(rule.tier).toBe('edge');
    return modelProfile([tierProfile(tier('edge'), [point(1, 1, 1000 / EDGE_P99[acc]!, EDGE_P99[acc]!)])]);
  };

describe('selection.qos', () => {
  it('profiles in ranked order, sets aside the best f1 that misses with its number, registers the next', async () => {
    const calls: string[] = [];
    const env = setup(edgeProfiler(calls));
    const { run, idOf } = await runWith(env, { tier: 'edge', p99: '10ms' });
    expect(run.state).toBe(State.SUCCEEDED);
    expect(run.best?.trialId).toBe(idOf(0.9));
    const trial = (acc: number) => run.trials.find((t) => t.id === idOf(acc))!;
    expect(trial(0.95).excludedReason).toBe('p99 on edge 31 ms > 10 ms (batch 1, concurrency 1)');
    expect(trial(0.8).excludedReason).toBe(''); // ranks below the winner: never profiled
    expect(calls).toHaveLength(2);
    expect(env.models.get('demo')?.lineage?.trialId).toBe(idOf(0.9));
    // The winner's profile is kept with the registered version, for the deployment plan.
    expect(env.saved.map((p) => [p.model.name, p.model.version])).toEqual([['demo', 1]]);
  });

  it('ends without a model when no candidate meets the QoS, saying why for each', async () => {
    const env = setup(edgeProfiler([]));
    const { run } = await runWith(env, { tier: 'edge', p99: '1us' });
    expect(run.state).toBe(State.FAILED);
    expect(run.stateReason).toBe('no candidate meets p99 ≤ 0.001 ms on edge: 3 set aside, each trial says why');
    for (const t of run.trials)
      expect(t.excludedReason).toMatch(/^p99 on edge \d+ ms > 0\.001 ms \(batch 1, concurrency 1\)$/);
    expect(env.models.get('demo')).toBeUndefined();
  });

  it('profiles at most maxCandidates, and says so for the rest', async () => {
    const calls: string[] = [];
    const { run, idOf } = await runWith(setup(edgeProfiler(calls), 1), { tier: 'edge', p99: '1us' });
    expect(calls).toHaveLength(1);
    expect(run.state).toBe(State.FAILED);
    expect(run.trials.find((t) => t.id === idOf(0.8))!.excludedReason).toMatch(
      /^not profiled: only the best 1 candidates are profiled for p99 ≤ 0\.001 ms on edge/,
    );
  });

  it('sets aside a candidate the profiler cannot measure, with the error', async () => {
    const failing: ProfileCandidate = (c) =>
      c.digest.endsWith('95')
        ? Promise.reject(new Error('unknown tier "edge"'))
        : edgeProfiler([])(c, { tier: 'edge' }, new AbortController().signal);
    const { run, idOf } = await runWith(setup(failing), { tier: 'edge', p99: '10ms' });
    expect(run.trials.find((t) => t.id === idOf(0.95))!.excludedReason).toBe(
      'could not be profiled on edge: unknown tier "edge"',
    );
    expect(run.best?.trialId).toBe(idOf(0.9));
  });

  it('a run cancelled while its candidates are profiled stays cancelled', async () => {
    let release: () => void = () => {};
    const slow: ProfileCandidate = (_c, _r, signal) =>
      new Promise((_resolve, reject) => {
        release = () => reject(new Error('aborted'));
        signal.addEventListener('abort', () => release());
      });
    const env = setup(slow);
    const done = runWith(env, { tier: 'edge', p99: '10ms' });
    for (let i = 0; i < 100 && env.runs.listRuns(1)[0]?.stateReason.startsWith('profiling') !== true; i++)
      await new Promise((r) => setTimeout(r, 5));
    const runId = env.runs.listRuns(1)[0]!.id;
    expect(env.runs.getRun(runId)!.stateReason).toBe('profiling candidates on edge for selection.qos (up to 3)');
    env.s.cancel(runId);
    const { run } = await done;
    expect(run.state).toBe(State.CANCELLED);
    expect(env.models.get('demo')).toBeUndefined();
  });
});

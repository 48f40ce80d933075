import { State } from '@stratum/proto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { openDb, type Db } from '../../store/db';
import { ModelRepo } from '../../store/models';
import { RunRepo } from '../../store/runs';
import { WorkerRepo } from '../../store/workers';
import { silentLogger } from '../../util/log';
import { Scheduler, type SubmitInput } from '../controller';
import { EventHub } from '../events';

class ManualClock {
  t = 1_000_000;
  now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

function setup(dbPath = join(mkdtempSync(join(tmpdir(), 'stratum-sched-')), 'db.sqlite'), clock = new ManualClock()) {
  const db: Db = openDb(dbPath);
  const runs = new RunRepo(db);
  const models = new ModelRepo(db);
  const s = new Scheduler({
    runs,
    workers: new WorkerRepo(db),
    models,
    events: new EventHub(),
    clock,
    log: silentLogger(),
    options: { leaseTtlMs: 5000, heartbeatIntervalMs: 1000, maxAttempts: 3 },
  });
  return { db, dbPath, runs, models, s, clock };
}

function submitInput(n: number, over: Partial<SubmitInput> = {}): SubmitInput {
  return {
    name: 'demo',
    specYaml: 'apiVersion: stratum/v1',
    specFile: 'demo.yaml',
    specHash: 'h',
    specJson: JSON.stringify({ selection: { metric: 'accuracy' } }),
    task: 'classification',
    metric: 'accuracy',
    goal: 'maximize',
    data: [],
    dataHash: 'd',
    plans: Array.from({ length: n }, (_, i) => ({
      index: i,
      candidate: 'c',
      trainer: 'synthetic',
      params: { i },
      seed: i,
    })),
    resources: { cpus: 1, memoryMb: 256, gpus: 0 },
    ...over,
  };
}

const joinWorker = (s: Scheduler, name: string, cpus = 1) =>
  s.join({ name, tier: 'cloud', total: { cpus, memoryMb: 4096, gpus: 0 }, labels: {}, versions: {}, trainers: [] });

function succeed(s: Scheduler, workerId: string, a: { trialId: string; leaseId: string }, accuracy: number) {
  return s.complete({
    workerId,
    trialId: a.trialId,
    leaseId: a.leaseId,
    ok: true,
    error: '',
    metrics: { accuracy, baseline_accuracy: 0.4 },
    modelDigest: 'sha256:' + 'a'.repeat(64),
    modelFormat: 'stratum-model/v1',
    modelSize: 10,
    backend: 'test',
    note: '',
  });
}

describe('Scheduler', () => {
  it('runs as many trials in parallel as the workers fit, and answers a waiting poll when a slot frees', async () => {
    const { s, runs, models } = setup();
    const w1 = joinWorker(s, 'a');
    const w2 = joinWorker(s, 'b');
    const run = s.submit(submitInput(3));
    const a1 = (await s.lease(w1, 0)).assignment!;
    const a2 = (await s.lease(w2, 0)).assignment!;
    expect(a1.trialId).not.toBe(a2.trialId);
    expect((await s.lease(w1, 0)).assignment).toBeUndefined();
    const waiting = s.lease(w1, 60_000);
    expect(succeed(s, w1, a1, 0.8).accepted).toBe(true);
    const a3 = (await waiting).assignment!;
    expect(a3.trialId).toBeDefined();
    succeed(s, w2, a2, 0.95);
    succeed(s, w1, a3, 0.9);
    const done = runs.getRun(run.id)!;
    expect(done.state).toBe(State.SUCCEEDED);
    expect(done.best?.trialId).toBe(a2.trialId);
    expect(done.baseline.accuracy).toBeCloseTo(0.4);
    expect(models.get('demo')?.version).toBe(1);
    expect(models.get('demo')?.lineage?.trialId).toBe(a2.trialId);
  });

  it('re-queues the trial of a worker that stops heartbeating, and it runs elsewhere', async () => {
    const { s, runs, clock } = setup();
    const dead = joinWorker(s, 'dead');
    const run = s.submit(submitInput(1));
    const a = (await s.lease(dead, 0)).assignment!;
    const alive = joinWorker(s, 'alive');
    for (let i = 0; i < 6; i++) {
      clock.advance(1000);
      s.heartbeat(alive, []);
      s.tick();
    }
    const t = runs.getRun(run.id)!.trials[0]!;
    expect(t.state).toBe(State.PENDING);
    expect(t.stateReason).toMatch(/re-queued: worker .* lost/);
    const b = (await s.lease(alive, 0)).assignment!;
    expect(b.trialId).toBe(a.trialId);
    expect(b.attempt).toBe(2);
    // The dead worker's late result is refused: its lease is gone.
    expect(succeed(s, dead, a, 0.99).accepted).toBe(false);
    expect(succeed(s, alive, b, 0.9).accepted).toBe(true);
    expect(runs.getRun(run.id)!.state).toBe(State.SUCCEEDED);
  });

  it('cancelling a run cancels pending and running trials and tells the worker to abort', async () => {
    const { s, runs } = setup();
    const w = joinWorker(s, 'a');
    const run = s.submit(submitInput(2));
    const a = (await s.lease(w, 0)).assignment!;
    s.cancel(run.id);
    const after = runs.getRun(run.id)!;
    expect(after.state).toBe(State.CANCELLED);
    expect(after.trials.every((t) => t.state === State.CANCELLED)).toBe(true);
    expect(s.heartbeat(w, [{ trialId: a.trialId, leaseId: a.leaseId }])).toEqual([a.trialId]);
    expect(succeed(s, w, a, 1).accepted).toBe(false);
  });

  it('retries a failing trial, then fails it with the reason, and the run fails when none succeeded', async () => {
    const { s, runs } = setup();
    const w = joinWorker(s, 'a');
    const run = s.submit(submitInput(1));
    for (let i = 0; i < 3; i++) {
      const a = (await s.lease(w, 0)).assignment!;
      s.complete({
        ...{ workerId: w, trialId: a.trialId, leaseId: a.leaseId },
        ok: false,
        error: 'boom',
        metrics: {},
        modelDigest: '',
        modelFormat: '',
        modelSize: 0,
        backend: '',
        note: '',
      });
    }
    const after = runs.getRun(run.id)!;
    expect(after.trials[0]!.state).toBe(State.FAILED);
    expect(after.trials[0]!.stateReason).toMatch(/boom \(attempt 3 of 3\)/);
    expect(after.state).toBe(State.FAILED);
    expect(after.stateReason).toMatch(/all 1 trials failed/);
  });

  it('after a restart, running trials keep their lease if the worker comes back, else they are re-queued', async () => {
    const first = setup();
    const w1 = joinWorker(first.s, 'stays');
    const w2 = joinWorker(first.s, 'gone');
    const run = first.s.submit(submitInput(2));
    const a1 = (await first.s.lease(w1, 0)).assignment!;
    await first.s.lease(w2, 0);
    first.db.close();

    const second = setup(first.dbPath, first.clock);
    second.s.recover();
    for (let i = 0; i < 6; i++) {
      second.clock.advance(1000);
      expect(second.s.heartbeat(w1, [{ trialId: a1.trialId, leaseId: a1.leaseId }])).toEqual([]);
      second.s.tick();
    }
    const trials = second.runs.getRun(run.id)!.trials;
    expect(trials.find((t) => t.id === a1.trialId)!.state).toBe(State.RUNNING);
    expect(trials.find((t) => t.id !== a1.trialId)!.state).toBe(State.PENDING);
    expect(succeed(second.s, w1, a1, 0.9).accepted).toBe(true);
  });

  it('early stopping asks the worst trial to stop', async () => {
    const { s, runs } = setup();
    const ws = [joinWorker(s, 'a', 4)];
    const run = s.submit(
      submitInput(4, {
        earlyStopping: { rule: 'median', metric: 'val_loss', goal: 'minimize', graceEpochs: 1, reductionFactor: 3 },
      }),
    );
    const leases = [];
    for (let i = 0; i < 4; i++) leases.push((await s.lease(ws[0]!, 0)).assignment!);
    const report = (i: number, epoch: number, v: number) =>
      s.progress({
        workerId: ws[0]!,
        trialId: leases[i]!.trialId,
        leaseId: leases[i]!.leaseId,
        epoch,
        progress: 0.1,
        metrics: { val_loss: v },
      });
    for (let i = 0; i < 3; i++) report(i, 1, 0.5 + i * 0.01);
    const d = report(3, 1, 5);
    expect(d.stop).toBe(true);
    expect(runs.getRun(run.id)!.trials.find((t) => t.id === leases[3]!.trialId)!.stateReason).toMatch(
      /stopped early: median rule/,
    );
  });
});

describe('Scheduler.wake', () => {
  it('answers a waiting lease poll with replicasChanged, or the next poll when none waits', async () => {
    const { s } = setup();
    const w = joinWorker(s, 'a');
    const waiting = s.lease(w, 60_000);
    s.wake(w);
    expect(await waiting).toEqual({ replicasChanged: true });
    s.wake(w);
    expect(await s.lease(w, 60_000)).toEqual({ replicasChanged: true });
  });
});

/**
 * bench/fanout: N fixed-length trials on W workers (real worker processes joined over gRPC,
 * executor children, the real scheduler). Compares the makespan with the ideal schedule
 * ⌈N/W⌉·t and reports the scheduling overhead per trial and the parallel efficiency.
 *
 *   node bench/dist/fanout.js [--quick]
 */
import { State } from '@stratum/proto';
import { startControlPlane } from '@stratum/server/dist/api/server';
import { createStratumClient } from '@stratum/server/dist/client';
import { silentLogger } from '@stratum/server/dist/util/log';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { printTable, writeResult } from './report';

const REPO = join(__dirname, '..', '..');
const CLI = join(REPO, 'server', 'dist', 'cli', 'main.js');
const DATA = join(REPO, 'node_modules', 'vega-datasets', 'data', 'penguins.json');

interface Case {
  readonly trials: number;
  readonly workers: number;
  readonly trialMs: number;
}

interface Outcome extends Case {
  makespanMs: number;
  idealMs: number;
  efficiency: number;
  /** End-to-end: (makespan − ideal)·W/N, so it counts data preparation, evaluation and upload too. */
  overheadPerTrialMs: number;
  /** What the scheduler adds: slot time not covered by a leased trial, per trial: (makespan·W − Σ lease→result)/N. */
  schedulingOverheadPerTrialMs: number;
  /** Mean time a freed slot waited for its next trial (from the trials' own timestamps). */
  meanGapMs: number;
  /** Mean lease-to-result time of a trial as the control plane saw it (includes the trial's t). */
  meanTrialMs: number;
}

function spec(c: Case, name: string): string {
  return `apiVersion: stratum/v1
kind: Pipeline
metadata: { name: ${name} }
data: { source: ${DATA} }
target: Species
features: [Beak Length (mm)]
transforms: [ { dropMissing: {} } ]
task: classification
models:
  - name: wait
    trainer: synthetic
    params: { durationMs: { range: [${c.trialMs}, ${c.trialMs}] } }
search: { strategy: random, samples: ${c.trials}, seed: 1 }
selection: { metric: accuracy }
`;
}

async function runCase(c: Case, index: number): Promise<Outcome> {
  const home = mkdtempSync(join(tmpdir(), 'stratum-bench-fanout-'));
  const cp = await startControlPlane({ home, port: 0, log: silentLogger() });
  const workers: ChildProcess[] = [];
  try {
    for (let i = 0; i < c.workers; i++) {
      workers.push(
        spawn(
          process.execPath,
          [CLI, 'worker', '--join', cp.url, '--cpus', '1', '--memory', '1Gi', '--name', `bench-${i}`],
          {
            env: {
              ...process.env,
              STRATUM_HOME: home,
              STRATUM_JOIN_TOKEN: cp.secrets.joinToken,
              STRATUM_LOG_LEVEL: 'warn',
            },
            stdio: 'ignore',
          },
        ),
      );
    }
    const client = createStratumClient({ url: cp.url, token: cp.secrets.apiToken });
    for (;;) {
      const cl = await client.cluster.getCluster({});
      if (cl.workers.length === c.workers) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const bytes = readFileSync(DATA);
    async function* upload() {
      yield { data: bytes, name: DATA };
    }
    const { digest } = await client.cluster.uploadArtifact(upload());
    const data = [{ source: DATA, digest }];
    // Warm-up: one trial per worker, so executor processes exist as they would in steady state.
    const warm = spec({ ...c, trials: c.workers, trialMs: 10 }, `warm-${index}`);
    await follow(client, (await client.runs.submitRun({ specYaml: warm, specFile: 'warm.yaml', data })).run!.id);

    const t0 = Date.now();
    const { run } = await client.runs.submitRun({
      specYaml: spec(c, `fanout-${index}`),
      specFile: 'fanout.yaml',
      data,
    });
    const done = await follow(client, run!.id);
    const makespanMs = Date.now() - t0;
    const idealMs = Math.ceil(c.trials / c.workers) * c.trialMs;
    const byWorker = new Map<string, { start: number; end: number }[]>();
    for (const t of done.trials) {
      const list = byWorker.get(t.workerId) ?? [];
      list.push({ start: Number(t.startedAtMs), end: Number(t.finishedAtMs) });
      byWorker.set(t.workerId, list);
    }
    const durations = done.trials.map((t) => Number(t.finishedAtMs) - Number(t.startedAtMs));
    const gaps: number[] = [];
    for (const list of byWorker.values()) {
      list.sort((a, b) => a.start - b.start);
      for (let i = 1; i < list.length; i++) gaps.push(list[i]!.start - list[i - 1]!.end);
    }
    return {
      ...c,
      makespanMs,
      idealMs,
      efficiency: idealMs / makespanMs,
      overheadPerTrialMs: ((makespanMs - idealMs) * c.workers) / c.trials,
      schedulingOverheadPerTrialMs: (makespanMs * c.workers - durations.reduce((a, b) => a + b, 0)) / c.trials,
      meanGapMs: gaps.reduce((a, b) => a + b, 0) / Math.max(1, gaps.length),
      meanTrialMs: durations.reduce((a, b) => a + b, 0) / durations.length,
    };
  } finally {
    for (const w of workers) w.kill('SIGTERM');
    await cp.close();
  }
}

async function follow(client: ReturnType<typeof createStratumClient>, runId: string) {
  for await (const e of client.runs.watchRun({ runId })) {
    if (e.run && [State.SUCCEEDED, State.FAILED, State.CANCELLED].includes(e.run.state)) {
      if (e.run.state !== State.SUCCEEDED)
        throw new Error(`run ${runId} ended ${State[e.run.state]}: ${e.run.stateReason}`);
      return e.run;
    }
  }
  throw new Error('watch ended before the run');
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const cases: Case[] = quick
    ? [
        { trials: 8, workers: 2, trialMs: 1000 },
        { trials: 40, workers: 2, trialMs: 20 },
      ]
    : [
        { trials: 20, workers: 2, trialMs: 1000 },
        { trials: 10, workers: 1, trialMs: 1000 },
        { trials: 200, workers: 2, trialMs: 20 },
      ];
  const results: Outcome[] = [];
  for (const [i, c] of cases.entries()) results.push(await runCase(c, i));
  printTable(
    'fan-out: makespan against the ideal schedule ⌈N/W⌉·t',
    [
      'trials',
      'workers',
      'trial ms',
      'makespan ms',
      'ideal ms',
      'efficiency',
      'sched. overhead ms/trial',
      'e2e overhead ms/trial',
      'slot gap ms',
      'lease→result ms',
    ],
    results.map((r) => [
      r.trials,
      r.workers,
      r.trialMs,
      r.makespanMs,
      r.idealMs,
      r.efficiency.toFixed(3),
      r.schedulingOverheadPerTrialMs.toFixed(1),
      r.overheadPerTrialMs.toFixed(1),
      r.meanGapMs.toFixed(1),
      r.meanTrialMs.toFixed(1),
    ]),
  );
  const path = writeResult('fanout', {
    targets: { overheadPerTrialMs: 10, efficiencyTwoWorkersLongTrials: 0.9 },
    results,
  });
  console.log(`\nwrote ${path}`);
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});

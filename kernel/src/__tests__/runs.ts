/** Runs and trials as the control plane sends them, for tests of renderers and live views. */
import { State, type Run, type Trial } from '@stratum/proto';

export function trial(index: number, o: Partial<Trial> = {}): Trial {
  return {
    $typeName: 'stratum.v1.Trial',
    id: `t${index}-0000000000`,
    runId: 'r1',
    index,
    candidate: 'tree',
    trainer: 'decision-tree',
    paramsJson: JSON.stringify({ maxDepth: index + 2 }),
    state: State.PENDING,
    stateReason: '',
    workerId: '',
    attempt: 0,
    metrics: {},
    progress: 0,
    startedAtMs: 0n,
    finishedAtMs: 0n,
    history: [],
    backend: '',
    modelSizeBytes: 0n,
    excludedReason: '',
    ...o,
  };
}

export function run(trials: Trial[], o: Partial<Run> = {}): Run {
  return {
    $typeName: 'stratum.v1.Run',
    id: 'r1aaaaaa-bbbb',
    name: 'penguins',
    state: State.RUNNING,
    stateReason: '',
    specYaml: '',
    specFile: '',
    specHash: '',
    dataHash: '',
    task: 'classification',
    metric: 'accuracy',
    goal: 'maximize',
    createdAtMs: 1_700_000_000_000n,
    startedAtMs: 0n,
    finishedAtMs: 0n,
    trials,
    baseline: { accuracy: 0.44 },
    ...o,
  };
}

export function epochs(n: number, metric: (e: number) => Record<string, number>): Trial['history'] {
  return Array.from({ length: n }, (_, i) => ({
    $typeName: 'stratum.v1.EpochMetrics' as const,
    epoch: i + 1,
    metrics: metric(i + 1),
  }));
}

import { create } from '@bufbuild/protobuf';
import {
  RunEvent_Kind,
  RunEventSchema,
  RunSchema,
  State,
  TrialSchema,
  type Deployment,
  type Run,
} from '@stratum/proto';

import { runIdFromHref } from '../links';
import { Health } from '../model/health';
import { applyRunEvent, isTerminal, runFraction, trialCounts } from '../model/run-events';
import { pipelineCell } from '../magic/template';
import { layoutGraph, pipelineGraph } from '../pipeline';

function run(states: State[], extra: Partial<Run> = {}): Run {
  return create(RunSchema, {
    id: 'run-1',
    name: 'penguins',
    state: State.RUNNING,
    metric: 'accuracy',
    goal: 'maximize',
    specYaml: pipelineCell('penguins').split('\n').slice(1).join('\n'),
    trials: states.map((state, i) =>
      create(TrialSchema, { id: `t${i}`, index: i, candidate: i < 2 ? 'forest' : 'logistic', state, progress: 0.5 }),
    ),
    ...extra,
  });
}

describe('WatchRun events', () => {
  it('a snapshot replaces the run, a trial event updates one trial', () => {
    const snap = run([State.PENDING, State.PENDING]);
    let r = applyRunEvent(undefined, create(RunEventSchema, { kind: RunEvent_Kind.SNAPSHOT, run: snap }));
    expect(r).toBe(snap);
    const trial = create(TrialSchema, { id: 't1', index: 1, state: State.SUCCEEDED, metrics: { accuracy: 0.9 } });
    r = applyRunEvent(r, create(RunEventSchema, { kind: RunEvent_Kind.TRIAL, trial }));
    expect(r!.trials.map((t) => t.state)).toEqual([State.PENDING, State.SUCCEEDED]);
    expect(snap.trials[1]!.state).toBe(State.PENDING);
  });

  it('counts trial states and the fraction done', () => {
    const r = run([State.SUCCEEDED, State.RUNNING, State.FAILED, State.PENDING]);
    expect(trialCounts(r)).toEqual({ pending: 1, running: 1, succeeded: 1, failed: 1, cancelled: 0 });
    expect(runFraction(r)).toBeCloseTo(2.5 / 4);
    expect(isTerminal(State.CANCELLED)).toBe(true);
  });
});

describe('the pipeline graph', () => {
  it('draws data, each transform, the candidates, evaluation, selection and deployment', () => {
    const g = pipelineGraph(run([State.SUCCEEDED, State.RUNNING, State.PENDING]));
    expect(g.rows.map((row) => row[0]!.stage)).toEqual([
      'data',
      'transform',
      'transform',
      'transform',
      'transform',
      'candidate',
      'evaluation',
      'selection',
      'deployment',
    ]);
    const candidates = g.rows[5]!;
    expect(candidates.map((n) => [n.label, n.state])).toEqual([
      ['forest', 'active'],
      ['logistic', 'pending'],
    ]);
    expect(g.rows[0]![0]!.detail).toBe('penguins.json');
    expect(g.rows[8]![0]!.state).toBe('unavailable');
  });

  it('marks selection done once the run has a best model', () => {
    const r = run([State.SUCCEEDED, State.SUCCEEDED, State.SUCCEEDED], {
      state: State.SUCCEEDED,
      best: {
        $typeName: 'stratum.v1.BestModel',
        trialId: 't0',
        candidate: 'forest',
        modelName: 'penguins',
        modelVersion: 2,
        metrics: {},
        paramsJson: '{}',
      },
    });
    const g = pipelineGraph(r);
    const selection = g.rows.find((row) => row[0]!.stage === 'selection')![0]!;
    expect(selection.state).toBe('done');
    expect(selection.detail).toContain('penguins:2');
    expect(g.rows.find((row) => row[0]!.stage === 'evaluation')![0]!.state).toBe('done');
  });

  it('survives a spec that does not parse', () => {
    const g = pipelineGraph(run([State.PENDING], { specYaml: 'models: [' }));
    expect(g.rows[0]![0]!.stage).toBe('data');
    expect(g.rows.some((row) => row[0]!.stage === 'candidate')).toBe(true);
  });

  it('lays rows out top to bottom with edges between consecutive rows', () => {
    const layout = layoutGraph(pipelineGraph(run([State.PENDING, State.PENDING, State.PENDING])), 300);
    const ys = [...new Set(layout.nodes.map((n) => n.y))];
    expect(ys).toEqual([...ys].sort((a, b) => a - b));
    expect(layout.nodes.every((n) => n.x >= 0 && n.x + n.w <= 300)).toBe(true);
    // data→t1→t2→t3→t4 (4), t4→2 candidates (2), 2 candidates→evaluation (2), then 2 more.
    expect(layout.edges).toHaveLength(10);
    expect(layout.height).toBeGreaterThan(Math.max(...layout.nodes.map((n) => n.y + n.h)));
  });
});

describe('run links and failure counting', () => {
  it('reads run ids from #stratum-run= links only', () => {
    expect(runIdFromHref('#stratum-run=083474c1')).toBe('083474c1');
    expect(runIdFromHref('#stratum-run=a b')).toBeUndefined();
    expect(runIdFromHref('https://example.org/#stratum-run=x')).toBeUndefined();
    expect(runIdFromHref(null)).toBeUndefined();
  });

  it('reports unreachable once after the threshold, again only after a success', () => {
    const h = new Health(3);
    const seen: string[] = [];
    h.unreachable.connect((_, m) => void seen.push(m));
    for (let i = 0; i < 5; i++) h.failed(`down ${i}`);
    expect(seen).toEqual(['down 2']);
    h.succeeded();
    for (let i = 0; i < 3; i++) h.failed('again');
    expect(seen).toEqual(['down 2', 'again']);
  });
});

describe('the deployment node', () => {
  const best = {
    $typeName: 'stratum.v1.BestModel' as const,
    trialId: 't0',
    candidate: 'forest',
    modelName: 'penguins',
    modelVersion: 2,
    metrics: {},
    paramsJson: '{}',
  };
  const node = (r: Run, info: Parameters<typeof pipelineGraph>[1]) =>
    pipelineGraph(r, info).rows.find((row) => row[0]!.stage === 'deployment')![0]!;

  it('says what the control plane offers and whether the best model is deployed', () => {
    const r = run([State.SUCCEEDED], { state: State.SUCCEEDED, best });
    expect(node(r, { available: false }).state).toBe('unavailable');
    expect(node(r, { available: true, deployments: [] }).state).toBe('pending');
    const plan = { modelName: 'penguins', modelVersion: 2 } as NonNullable<Deployment['plan']>;
    const deployed = node(r, { available: true, deployments: [{ name: 'penguins-prod', plan }] });
    expect([deployed.state, deployed.detail]).toEqual(['done', 'penguins-prod']);
  });
});

import { shouldStop, type EarlyStoppingPolicy, type History } from '../early-stopping';
import { canEverRun, fits, pickTrial, type PlacementTrial, type PlacementWorker } from '../placement';
import { rankTrials, selectBest } from '../selection';

const worker = (over: Partial<PlacementWorker> = {}): PlacementWorker => ({
  id: 'w1',
  tier: 'cloud',
  total: { cpus: 2, memoryMb: 2048, gpus: 0 },
  used: { cpus: 0, memoryMb: 0, gpus: 0 },
  trainers: [],
  ...over,
});
const trial = (id: string, cpus: number, gpus = 0, trainer = 'tfjs'): PlacementTrial => ({
  id,
  trainer,
  resources: { cpus, memoryMb: 256, gpus },
});

describe('placement', () => {
  it('takes the first trial in queue order that fits the free resources', () => {
    const w = worker({ used: { cpus: 1.5, memoryMb: 0, gpus: 0 } });
    expect(pickTrial([trial('a', 1), trial('b', 0.5), trial('c', 0.25)], w)?.id).toBe('b');
  });

  it('never places a GPU trial on a worker without a free GPU', () => {
    expect(pickTrial([trial('g', 1, 1)], worker())).toBeUndefined();
    expect(pickTrial([trial('g', 1, 1)], worker({ total: { cpus: 2, memoryMb: 2048, gpus: 1 } }))?.id).toBe('g');
  });

  it('skips trainers the worker does not have', () => {
    const w = worker({ trainers: ['random-forest'] });
    expect(canEverRun(trial('t', 1, 0, 'tfjs'), w)).toBe(false);
    expect(pickTrial([trial('t', 1, 0, 'tfjs'), trial('f', 1, 0, 'random-forest')], w)?.id).toBe('f');
  });

  it('treats fractional cpus that add up exactly as fitting', () => {
    expect(fits({ cpus: 0.3, memoryMb: 0, gpus: 0 }, { cpus: 0.1 + 0.2, memoryMb: 0, gpus: 0 })).toBe(true);
  });

  it('respects a tier constraint', () => {
    expect(canEverRun({ ...trial('e', 1), tier: 'edge' }, worker())).toBe(false);
  });
});

describe('selection', () => {
  const c = (id: string, acc: number, size = 100) => ({
    id,
    metrics: { accuracy: acc, f1: acc - 0.01 },
    modelSizeBytes: size,
  });

  it('picks the maximum, ties to the earlier trial', () => {
    expect(selectBest([c('a', 0.9), c('b', 0.95), c('c', 0.95)], { metric: 'accuracy', goal: 'maximize' }).bestId).toBe(
      'b',
    );
  });

  it('picks the minimum for minimize goals', () => {
    const r = selectBest(
      [
        { id: 'a', metrics: { rmse: 3 }, modelSizeBytes: 1 },
        { id: 'b', metrics: { rmse: 2 }, modelSizeBytes: 1 },
      ],
      { metric: 'rmse', goal: 'minimize' },
    );
    expect(r.bestId).toBe('b');
  });

  it('sets aside trials that break a constraint, with the reason', () => {
    const r = selectBest([c('a', 0.99, 5000), c('b', 0.9, 100)], {
      metric: 'accuracy',
      goal: 'maximize',
      maxModelSizeBytes: 1000,
    });
    expect(r.bestId).toBe('b');
    expect(r.excluded.get('a')).toMatch(/model size 5000 B > maxModelSize 1000 B/);
  });

  it('reports no best when every trial is set aside', () => {
    const r = selectBest([c('a', 0.5)], { metric: 'accuracy', goal: 'maximize', minMetric: { accuracy: 0.8 } });
    expect(r.bestId).toBeUndefined();
    expect(r.excluded.get('a')).toMatch(/accuracy 0.5000 < 0.8/);
  });

  it('ranks eligible trials first by metric', () => {
    const ranked = rankTrials([c('a', 0.7), { id: 'x', metrics: {}, modelSizeBytes: 0 }, c('b', 0.9)], {
      metric: 'accuracy',
      goal: 'maximize',
    });
    expect(ranked.map((t) => t.id)).toEqual(['b', 'a', 'x']);
  });
});

describe('early stopping', () => {
  const curve = (values: number[]): History => values.map((v, i) => ({ epoch: i + 1, metrics: { val_loss: v } }));
  const median: EarlyStoppingPolicy = {
    rule: 'median',
    metric: 'val_loss',
    goal: 'minimize',
    graceEpochs: 2,
    reductionFactor: 3,
  };

  it('median rule stops a trial worse than the median of its peers', () => {
    const others = [curve([1, 0.5, 0.4]), curve([1, 0.6, 0.45]), curve([1, 0.55, 0.5])];
    expect(shouldStop(median, curve([2, 1.8, 1.7]), others, 3).stop).toBe(true);
    expect(shouldStop(median, curve([1, 0.5, 0.3]), others, 3).stop).toBe(false);
  });

  it('median rule waits for the grace period and for enough peers', () => {
    const others = [curve([1, 0.5]), curve([1, 0.6])];
    expect(shouldStop(median, curve([9]), others, 1).stop).toBe(false);
    expect(shouldStop(median, curve([9, 9]), [curve([1, 0.5])], 2).stop).toBe(false);
  });

  it('ASHA keeps only the top 1/eta at a rung', () => {
    const asha: EarlyStoppingPolicy = { ...median, rule: 'asha', graceEpochs: 1, reductionFactor: 3 };
    const others = [curve([0.2, 0.2, 0.2]), curve([0.5, 0.5, 0.5]), curve([0.6, 0.6, 0.6])];
    const worst = shouldStop(asha, curve([0.9, 0.9, 0.9]), others, 3);
    expect(worst.stop).toBe(true);
    expect(worst.reason).toMatch(/ASHA rung 3/);
    expect(shouldStop(asha, curve([0.1, 0.1, 0.1]), others, 3).stop).toBe(false);
    // Epoch 2 is not a rung for grace 1, eta 3 (rungs 1, 3, 9, ...).
    expect(shouldStop(asha, curve([0.9, 0.9]), others, 2).stop).toBe(false);
  });
});

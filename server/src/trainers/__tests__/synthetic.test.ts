import { syntheticTrainer, syntheticCurve } from '../synthetic';
import type { TrainInput } from '../types';

const x = [1, 2, 3, 4, 5].map((v) => Float64Array.of(v));

function input(overrides: Partial<TrainInput> = {}): TrainInput {
  return {
    task: 'classification',
    x,
    y: Float64Array.of(0, 1, 1, 2, 1),
    featureNames: ['v'],
    classes: ['a', 'b', 'c'],
    params: { durationMs: 60, epochs: 3 },
    seed: 9,
    ...overrides,
  };
}

describe('synthetic trainer', () => {
  it('holds for durationMs, reports each epoch and predicts the majority class', async () => {
    const epochs: number[] = [];
    const started = Date.now();
    const model = await syntheticTrainer.train(input({ onEpoch: async (e) => (epochs.push(e), 'continue') }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    expect(epochs).toEqual([1, 2, 3]);
    expect(model.predict(x)).toEqual(new Float64Array(5).fill(1));
    expect(Array.from(model.predictProba!([x[0]!])[0]!)).toEqual([0.2, 0.6, 0.2]);
    const loaded = await syntheticTrainer.load(JSON.parse(JSON.stringify(model.toJSON())));
    expect(loaded.predict(x)).toEqual(model.predict(x));
  });

  it('predicts the training mean for regression', async () => {
    const model = await syntheticTrainer.train(
      input({ task: 'regression', y: Float64Array.of(1, 2, 3, 4, 5), params: { durationMs: 0 } }),
    );
    expect(model.predict(x.slice(0, 2))).toEqual(Float64Array.of(3, 3));
    expect(model.predictProba).toBeUndefined();
  });

  it('reports a seeded decreasing loss curve that differs between seeds', async () => {
    const a = syntheticCurve(1);
    expect(a(2).val_loss).toBeLessThan(a(1).val_loss);
    expect(syntheticCurve(1)(3)).toEqual(a(3));
    expect(syntheticCurve(2)(3)).not.toEqual(a(3));
    const seen: number[] = [];
    await syntheticTrainer.train(
      input({ params: { durationMs: 0, epochs: 2 }, onEpoch: async (_e, m) => (seen.push(m.val_loss!), 'continue') }),
    );
    expect(seen).toEqual([syntheticCurve(9)(1).val_loss, syntheticCurve(9)(2).val_loss]);
  });

  it('stops at the epoch onEpoch says', async () => {
    const epochs: number[] = [];
    await syntheticTrainer.train(
      input({
        params: { durationMs: 0, epochs: 10 },
        onEpoch: async (e) => (epochs.push(e), e === 4 ? 'stop' : 'continue'),
      }),
    );
    expect(epochs).toEqual([1, 2, 3, 4]);
  });

  it('fails its first failAttempts attempts (counted from 1) and then succeeds', async () => {
    const params = { durationMs: 0, failAttempts: 2 };
    await expect(syntheticTrainer.train(input({ params, attempt: 1 }))).rejects.toMatchObject({
      name: 'TrainerError',
      code: 'TRAINING_FAILED',
      message: 'synthetic: synthetic failure (attempt 1)',
    });
    await expect(syntheticTrainer.train(input({ params, attempt: 2 }))).rejects.toThrow(
      'synthetic failure (attempt 2)',
    );
    await expect(syntheticTrainer.train(input({ params, attempt: 3 }))).resolves.toBeDefined();
    await expect(syntheticTrainer.train(input({ params }))).resolves.toBeDefined();
  });

  it('rejects with an AbortError promptly when aborted mid-wait', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const run = syntheticTrainer.train(input({ params: { durationMs: 10_000 }, signal: controller.signal }));
    setTimeout(() => controller.abort(), 20);
    await expect(run).rejects.toMatchObject({ name: 'AbortError', trainer: 'synthetic' });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('rejects bad params with the param named', async () => {
    await expect(syntheticTrainer.train(input({ params: { durationMs: -1 } }))).rejects.toMatchObject({
      code: 'INVALID_PARAM',
      param: 'durationMs',
    });
  });
});

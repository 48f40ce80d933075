import { TrainerError } from '../errors';
import { resolveParams } from '../params';
import { builtinTrainers, createTrainerRegistry } from '../registry';
import { TRAINERS } from '../catalog';

describe('resolveParams', () => {
  it('applies catalog defaults without touching the input', () => {
    const raw = { epochs: 5 };
    expect(resolveParams('tfjs', raw)).toEqual({
      epochs: 5,
      batchSize: 32,
      learningRate: 0.01,
      optimizer: 'adam',
      validationSplit: 0.1,
    });
    expect(raw).toEqual({ epochs: 5 });
    expect(resolveParams('random-forest', {})).toMatchObject({ nEstimators: 50, maxFeatures: 1, replacement: true });
  });

  it('keeps extra tfjs params that layer stacks refer to', () => {
    expect(resolveParams('tfjs', { units: 16 })).toMatchObject({ units: 16, epochs: 50 });
  });

  it('names the trainer and the param when a type is wrong', () => {
    const err = catchError(() => resolveParams('tfjs', { epochs: 2.5 }));
    expect(err).toBeInstanceOf(TrainerError);
    expect(err).toMatchObject({ trainer: 'tfjs', param: 'epochs', code: 'INVALID_PARAM' });
    expect(err.message).toMatch(/^tfjs: param "epochs": expected integer, got 2.5/);
  });

  it('lists the choices for a bad enum value and every offending param', () => {
    const err = catchError(() => resolveParams('tfjs', { optimizer: 'adagrad', batchSize: 0 }));
    expect(err.message).toContain('param "optimizer": expected one of "adam", "sgd", "rmsprop", got "adagrad"');
    expect(err.message).toContain('param "batchSize"');
  });

  it('rejects unknown params of strict trainers and unknown trainers', () => {
    const err = catchError(() => resolveParams('random-forest', { nEstimatorz: 3 }));
    expect(err).toMatchObject({ param: 'nEstimatorz', code: 'INVALID_PARAM' });
    expect(err.message).toContain('unknown param "nEstimatorz" (known: nEstimators,');
    expect(catchError(() => resolveParams('xgboost', {}))).toMatchObject({ code: 'UNKNOWN_TRAINER' });
  });
});

describe('createTrainerRegistry', () => {
  it('has a built-in plugin for every catalog trainer', () => {
    expect(createTrainerRegistry().names()).toEqual(TRAINERS.map((t) => t.name).sort());
  });

  it('names the known trainers when asked for an unknown one', () => {
    const registry = createTrainerRegistry(builtinTrainers());
    expect(registry.get('tfjs').name).toBe('tfjs');
    expect(registry.has('nope')).toBe(false);
    const err = catchError(() => registry.get('nope'));
    expect(err).toMatchObject({ code: 'UNKNOWN_TRAINER' });
    expect(err.message).toContain('known: decision-tree, external, linear-regression,');
  });

  it('takes injected plugins and refuses duplicate names', () => {
    const fake = { name: 'fake', train: jest.fn(), load: jest.fn() };
    expect(createTrainerRegistry([fake]).names()).toEqual(['fake']);
    expect(() => createTrainerRegistry([fake, fake])).toThrow(/registered twice/);
  });
});

function catchError(fn: () => unknown): Error & Record<string, unknown> {
  try {
    fn();
  } catch (err) {
    return err as Error & Record<string, unknown>;
  }
  throw new Error('expected an error');
}

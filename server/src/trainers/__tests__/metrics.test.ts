import { baselineMetrics, evaluate, evaluateClassification, evaluateRegression } from '../metrics';

describe('evaluateClassification', () => {
  // Per class (tp / predicted / actual): 0 → 1/2/2, 1 → 2/3/2, 2 → 1/1/2.
  const yTrue = [0, 0, 1, 1, 2, 2];
  const yPred = [0, 1, 1, 1, 2, 0];

  it('computes accuracy and macro precision, recall and F1 by hand', () => {
    const m = evaluateClassification(yTrue, yPred, undefined, 3);
    expect(m.accuracy).toBeCloseTo(4 / 6, 12);
    expect(m.precision).toBeCloseTo((1 / 2 + 2 / 3 + 1) / 3, 12);
    expect(m.recall).toBeCloseTo((1 / 2 + 1 + 1 / 2) / 3, 12);
    expect(m.f1).toBeCloseTo((1 / 2 + 0.8 + 2 / 3) / 3, 12);
    expect(m.logloss).toBeUndefined();
  });

  it('computes logloss from probabilities and clips zeros to a finite value', () => {
    const m = evaluateClassification(
      [0, 1],
      [0, 1],
      [
        [0.8, 0.2],
        [0.4, 0.6],
      ],
      2,
    );
    expect(m.logloss).toBeCloseTo(-(Math.log(0.8) + Math.log(0.6)) / 2, 12);
    const confidentMiss = evaluateClassification([0], [1], [[0, 1]], 2);
    expect(confidentMiss.logloss).toBeCloseTo(-Math.log(1e-15), 6);
  });

  it('averages only over classes that occur, as scikit-learn does', () => {
    // Class 2 of 3 never occurs: macro scores are over classes 0 and 1 only.
    const m = evaluateClassification([0, 1], [0, 1], undefined, 3);
    expect(m).toEqual({ accuracy: 1, f1: 1, precision: 1, recall: 1 });
  });

  it('rejects misaligned or out-of-range labels', () => {
    expect(() => evaluateClassification([0, 1], [0], undefined, 2)).toThrow(RangeError);
    expect(() => evaluateClassification([0, 3], [0, 1], undefined, 2)).toThrow(/out of \[0, 2\)/);
  });
});

describe('evaluateRegression', () => {
  it('computes rmse, mae and r2 by hand', () => {
    // Errors 0, 0, -1, 2: SS_res = 5; mean 2.5 gives SS_tot = 5, so r2 = 0.
    const m = evaluateRegression([1, 2, 3, 4], [1, 2, 4, 2]);
    expect(m.rmse).toBeCloseTo(Math.sqrt(5 / 4), 12);
    expect(m.mae).toBeCloseTo(0.75, 12);
    expect(m.r2).toBeCloseTo(0, 12);
  });

  it('gives r2 = 1 for a perfect fit and never NaN for a constant target', () => {
    expect(evaluateRegression([1, 2], [1, 2]).r2).toBe(1);
    expect(evaluateRegression([3, 3], [3, 3]).r2).toBe(1);
    expect(evaluateRegression([3, 3], [3, 4]).r2).toBe(0);
  });
});

describe('evaluate', () => {
  it('dispatches on task and infers the class count when not given', () => {
    expect(evaluate('regression', [1, 2], [1, 2])).toEqual({ rmse: 0, mae: 0, r2: 1 });
    expect(evaluate('classification', [0, 2], [0, 2]).accuracy).toBe(1);
    expect(evaluate('classification', [0, 2], [0, 2], undefined, 0).accuracy).toBe(1);
  });
});

describe('baselineMetrics', () => {
  it('scores the majority class with the training prior as probabilities', () => {
    // Train [0, 0, 1] → predict 0 with p = [2/3, 1/3]; test [0, 1].
    const m = baselineMetrics('classification', [0, 0, 1], [0, 1], 2);
    expect(m.accuracy).toBe(0.5);
    expect(m.precision).toBeCloseTo(0.25, 12);
    expect(m.recall).toBeCloseTo(0.5, 12);
    expect(m.f1).toBeCloseTo(1 / 3, 12);
    expect(m.logloss).toBeCloseTo(-(Math.log(2 / 3) + Math.log(1 / 3)) / 2, 12);
  });

  it('scores the training mean for regression', () => {
    // Mean 2 on test [2, 4]: errors 0 and 2; test mean 3 gives SS_tot 2, SS_res 4.
    const m = baselineMetrics('regression', [1, 3], [2, 4]);
    expect(m.rmse).toBeCloseTo(Math.SQRT2, 12);
    expect(m.mae).toBe(1);
    expect(m.r2).toBeCloseTo(-1, 12);
  });
});

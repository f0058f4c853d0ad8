import { describe, expect, it } from 'vitest';
import { compareProportions, newcombeDifference, twoProportionZTest } from '../../../src/domain/stats/index.js';
import { expectInterval } from './helpers.js';

describe('compareProportions: the contract difference for analysisUnit "run"', () => {
  it('is candidate − control with the Newcombe ci, pooled z p-value and the sequence', () => {
    const r = compareProportions({ x: 56, n: 70 }, { x: 48, n: 80 });
    expect(r.estimate).toBeCloseTo(0.2, 14);
    expectInterval(r.ci, [0.0524, 0.3339], 5e-5); // Newcombe 1998 Table II, method 10
    expect(r.pValue).toBeCloseTo(twoProportionZTest(56, 70, 48, 80).pValue, 15);
    expect(r.alwaysValidCI[0]).toBeLessThan(r.ci[0]);
    expect(r.alwaysValidCI[1]).toBeGreaterThan(r.ci[1]);
    expect(r.alwaysValidPValue).toBeGreaterThan(r.pValue);
    expect(r.method).toBe('newcombe-hybrid-score+pooled-z+asymptotic-cs-normal-mixture(N*=5000)');
  });

  it('passes confidence, alpha and tuning through', () => {
    const r = compareProportions({ x: 120, n: 1000 }, { x: 100, n: 1000 }, { confidence: 0.9, alpha: 0.1, tuning: 2000 });
    expectInterval(r.ci, newcombeDifference(120, 1000, 100, 1000, 0.9), 0);
    expect(r.method).toContain('N*=2000');
    const strict = compareProportions({ x: 120, n: 1000 }, { x: 100, n: 1000 }, { alpha: 0.01 });
    expect(strict.alwaysValidCI[1] - strict.alwaysValidCI[0]).toBeGreaterThan(r.alwaysValidCI[1] - r.alwaysValidCI[0]);
  });

  it('degenerate arms', () => {
    const empty = compareProportions({ x: 0, n: 0 }, { x: 10, n: 100 });
    expect(empty).toMatchObject({ estimate: 0, ci: [-1, 1], pValue: 1, alwaysValidCI: [-1, 1], alwaysValidPValue: 1 });
    const none = compareProportions({ x: 0, n: 300 }, { x: 0, n: 300 });
    expect(none.pValue).toBe(1);
    expect(none.alwaysValidPValue).toBe(1);
    expect(none.ci[1]).toBeGreaterThan(0);
  });
});

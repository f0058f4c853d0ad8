import { describe, expect, it } from 'vitest';
import {
  alwaysValidDifference,
  alwaysValidDifferenceBound,
  alwaysValidMultiplier,
  alwaysValidProportionBound,
  alwaysValidProportionInterval,
  newcombeBoundsAtZ,
  newcombeDifference,
  wilsonInterval,
} from '../../../src/domain/stats/index.js';
import { REF } from './fixtures/reference-values.js';
import { expectInterval } from './helpers.js';

describe('score-form always-valid difference (Newcombe 10 with the mixture multiplier)', () => {
  it.each(REF.alwaysValidDifference.map((c) => [c.x1, c.n1, c.x2, c.n2, c] as const))(
    '%s/%s − %s/%s matches Python',
    (x1, n1, x2, n2, c) => {
      expectInterval(alwaysValidDifference(x1, n1, x2, n2).ci, c.ci, 1e-12);
      expect(alwaysValidDifferenceBound(x1, n1, x2, n2, 'lower').bound).toBeCloseTo(c.lower, 12);
      expect(alwaysValidDifferenceBound(x1, n1, x2, n2, 'upper').bound).toBeCloseTo(c.upper, 12);
    },
  );

  it('p-value is where the interval touches 0: exact consistency at several alphas', () => {
    for (const alpha of [0.01, 0.05, 0.2]) {
      for (const [x1, n1, x2, n2] of [
        [56, 70, 48, 80],
        [30, 200, 10, 200],
        [12, 1500, 40, 1600],
        [400, 2000, 300, 2000],
      ] as const) {
        const two = alwaysValidDifference(x1, n1, x2, n2, { alpha });
        expect(two.pValue < alpha).toBe(two.ci[0] > 0 || two.ci[1] < 0);
        for (const side of ['lower', 'upper'] as const) {
          const one = alwaysValidDifferenceBound(x1, n1, x2, n2, side, { alpha });
          expect(one.pValue < alpha).toBe(side === 'lower' ? one.bound > 0 : one.bound < 0);
        }
      }
    }
  });

  it('at the p-value the bound is 0: the crossing found by bisection is exact', () => {
    const r = alwaysValidDifferenceBound(400, 2000, 300, 2000, 'lower');
    expect(r.pValue).toBeGreaterThan(0);
    expect(r.pValue).toBeLessThan(0.05);
    // Re-derive the crossing multiplier from p (ρ fixed at alpha = 0.05, one-sided, n = 4000).
    const k = alwaysValidMultiplier(4000, 1);
    expect(newcombeBoundsAtZ(400, 2000, 300, 2000, k).interval[0]).toBeCloseTo(r.bound, 14);
  });

  it('is wider than the fixed-horizon Newcombe interval', () => {
    const fixed = newcombeDifference(56, 70, 48, 80);
    const av = alwaysValidDifference(56, 70, 48, 80).ci;
    expect(av[0]).toBeLessThan(fixed[0]);
    expect(av[1]).toBeGreaterThan(fixed[1]);
  });

  it('edge cases: zero events, all events, an empty arm, n = 1', () => {
    const zero = alwaysValidDifference(0, 100, 0, 100);
    expect(zero.estimate).toBe(0);
    expect(zero.pValue).toBe(1);
    expect(zero.ci[0]).toBeLessThan(0);
    expect(zero.ci[1]).toBeGreaterThan(0);
    const all = alwaysValidDifference(100, 100, 100, 100);
    expect(all.pValue).toBe(1);
    expect(all.ci[0]).toBeLessThan(0);
    expect(alwaysValidDifference(0, 0, 3, 10)).toEqual({ estimate: 0, ci: [-1, 1], pValue: 1 });
    expect(alwaysValidDifferenceBound(3, 10, 0, 0, 'lower')).toEqual({ estimate: 0, bound: -1, pValue: 1 });
    expect(alwaysValidDifferenceBound(3, 10, 0, 0, 'upper').bound).toBe(1);
    const tiny = alwaysValidDifference(1, 1, 0, 1);
    expect(tiny.ci[0]).toBeGreaterThanOrEqual(-1);
    expect(tiny.ci[1]).toBe(1);
    expect(tiny.pValue).toBeGreaterThan(0.9); // one run per arm is no evidence
    // Overwhelming evidence: p underflows gracefully.
    expect(alwaysValidDifference(90_000, 100_000, 10_000, 100_000).pValue).toBe(0);
  });
});

describe('score-form always-valid single proportion (guardrail `max`)', () => {
  it.each(REF.alwaysValidProportion.map((c) => [c.x, c.n, c] as const))('%s/%s matches Python', (x, n, c) => {
    expect(alwaysValidProportionBound(x, n, 'lower')).toBeCloseTo(c.lower, 12);
    expect(alwaysValidProportionBound(x, n, 'upper')).toBeCloseTo(c.upper, 12);
    expectInterval(alwaysValidProportionInterval(x, n), c.ci, 1e-12);
  });

  it('never collapses at zero events, unlike the Wald form', () => {
    expect(alwaysValidProportionBound(0, 50, 'upper')).toBeGreaterThan(0.05);
    expect(alwaysValidProportionBound(0, 50, 'lower')).toBe(0);
    expect(alwaysValidProportionBound(50, 50, 'upper')).toBe(1);
  });

  it('contains the fixed-horizon Wilson interval; n = 0 is [0, 1]', () => {
    const [l, u] = alwaysValidProportionInterval(25, 400);
    const [wl, wu] = wilsonInterval(25, 400);
    expect(l).toBeLessThan(wl);
    expect(u).toBeGreaterThan(wu);
    expect(alwaysValidProportionInterval(0, 0)).toEqual([0, 1]);
    expect(alwaysValidProportionBound(0, 0, 'lower')).toBe(0);
    expect(alwaysValidProportionBound(0, 0, 'upper')).toBe(1);
  });
});

import { describe, expect, it } from 'vitest';
import { chiSquareSf, logGamma, regularizedGammaP, regularizedGammaQ } from '../../../src/domain/stats/index.js';
import { REF } from './fixtures/reference-values.js';
import { expectClose } from './helpers.js';

describe('chi-square survival function', () => {
  it.each(REF.chiSquareSf.map(([x, k, v]) => [x, k, v]))('P(χ² ≥ %s; df=%s) matches the closed form to 1e-12 relative', (x, k, v) => {
    expectClose(chiSquareSf(x, k), v, 1e-12);
  });
  // Upper critical values from standard chi-square tables (e.g. NIST/SEMATECH e-Handbook 1.3.6.7.4).
  it.each([
    [3.841, 1, 0.05],
    [6.635, 1, 0.01],
    [10.828, 1, 0.001],
    [5.991, 2, 0.05],
    [13.816, 2, 0.001],
    [7.815, 3, 0.05],
    [18.307, 10, 0.05],
    [29.588, 10, 0.001],
  ])('table: χ² = %s on %s df has p ≈ %s', (x, k, p) => {
    expect(chiSquareSf(x, k)).toBeCloseTo(p, 4);
  });
  it('edges', () => {
    expect(chiSquareSf(0, 1)).toBe(1);
    expect(chiSquareSf(-1, 3)).toBe(1);
    expect(chiSquareSf(Number.POSITIVE_INFINITY, 3)).toBe(0);
    expect(() => chiSquareSf(1, 0)).toThrow(RangeError);
  });
});

describe('gamma functions', () => {
  it('ln Γ at known points', () => {
    expect(logGamma(1)).toBeCloseTo(0, 14);
    expect(logGamma(2)).toBeCloseTo(0, 14);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 14);
    expect(logGamma(11)).toBeCloseTo(Math.log(3628800), 12);
    expectClose(logGamma(171), 706.5730622457874, 1e-14);
    expect(logGamma(0)).toBeNaN();
  });
  it('P + Q = 1 on both sides of the series/continued-fraction switch', () => {
    for (const [a, x] of [
      [0.5, 0.2],
      [3, 3.9],
      [3, 4.1],
      [20, 15],
      [20, 30],
    ] as const) {
      expect(regularizedGammaP(a, x) + regularizedGammaQ(a, x)).toBeCloseTo(1, 14);
    }
    expect(regularizedGammaQ(1, 2)).toBeCloseTo(Math.exp(-2), 15);
  });
});

import { describe, expect, it } from 'vitest';
import { newcombeDifference, twoProportionZTest, wilsonInterval } from '../../../src/domain/stats/index.js';
import { REF } from './fixtures/reference-values.js';
import { expectClose, expectInterval } from './helpers.js';

describe('Wilson score interval (Wilson 1927)', () => {
  // Newcombe (1998) "Two-sided confidence intervals for the single proportion", Stat Med 17:857,
  // Table I, method 3 (score interval without continuity correction), printed to 4 decimals.
  it.each([
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
  ])('%s/%s → [%s, %s] as published', (x, n, lo, hi) => {
    expectInterval(wilsonInterval(x, n), [lo, hi], 5e-5);
  });
  it('edge cases: n = 0, zero events, all events, n = 1', () => {
    expect(wilsonInterval(0, 0)).toEqual([0, 1]);
    expect(wilsonInterval(0, 10)[0]).toBe(0);
    expect(wilsonInterval(10, 10)[1]).toBe(1);
    // n = 1: p̂ = 1, lower = 1/(1 + z²) exactly.
    const z2 = 1.959963984540054 ** 2;
    expect(wilsonInterval(1, 1)[0]).toBeCloseTo(1 / (1 + z2), 12);
    expect(wilsonInterval(0, 1)[1]).toBeCloseTo(z2 / (1 + z2), 12);
  });
  it('other confidence levels widen or narrow it', () => {
    const [l90, u90] = wilsonInterval(30, 100, 0.9);
    const [l99, u99] = wilsonInterval(30, 100, 0.99);
    expect(l99).toBeLessThan(l90);
    expect(u99).toBeGreaterThan(u90);
  });
  it('rejects impossible counts', () => {
    expect(() => wilsonInterval(5, 3)).toThrow(RangeError);
    expect(() => wilsonInterval(-1, 3)).toThrow(RangeError);
  });
});

describe('Newcombe hybrid score difference (Newcombe 1998, method 10)', () => {
  // Newcombe (1998) "Interval estimation for the difference between independent proportions:
  // comparison of eleven methods", Stat Med 17:873, Table II, method 10. Sign: arm 1 − arm 2.
  it.each([
    [56, 70, 48, 80, 0.0524, 0.3339],
    [9, 10, 3, 10, 0.1705, 0.809],
    [6, 7, 2, 7, 0.0582, 0.8062],
    [5, 56, 0, 29, -0.0381, 0.1926],
    [0, 10, 0, 20, -0.1611, 0.2775],
    [0, 10, 0, 10, -0.2775, 0.2775],
    [10, 10, 0, 20, 0.6791, 1],
    [10, 10, 0, 10, 0.6075, 1],
  ])('%s/%s − %s/%s → [%s, %s] as published', (x1, n1, x2, n2, lo, hi) => {
    expectInterval(newcombeDifference(x1, n1, x2, n2), [lo, hi], 5e-5);
  });
  it('sign convention: swapping arms negates and swaps the interval', () => {
    const [a, b] = newcombeDifference(56, 70, 48, 80);
    const [c, d] = newcombeDifference(48, 80, 56, 70);
    expect(c).toBeCloseTo(-b, 14);
    expect(d).toBeCloseTo(-a, 14);
  });
  it('an empty arm gives no information: [−1, 1]', () => {
    expect(newcombeDifference(0, 0, 3, 10)).toEqual([-1, 1]);
    expect(newcombeDifference(3, 10, 0, 0)).toEqual([-1, 1]);
  });
  it('n = 1 in both arms stays inside [−1, 1]', () => {
    const [lo, hi] = newcombeDifference(1, 1, 0, 1);
    expect(lo).toBeGreaterThan(-1);
    expect(hi).toBe(1);
  });
});

describe('pooled two-proportion z-test', () => {
  it.each(REF.twoProportionZTest.map((r) => [...r]))('%s/%s vs %s/%s: z=%s, p=%s (Python reference)', (x1, n1, x2, n2, z, p) => {
    const r = twoProportionZTest(x1, n1, x2, n2);
    expectClose(r.z, z, 1e-12, 1e-12);
    expectClose(r.pValue, p, 1e-12, 1e-15);
  });
  it('equals the Pearson chi-square test of the 2×2 table: z² = χ²', () => {
    // 56/70 vs 48/80: Pearson χ² = N(ad − bc)²/(r1 r2 c1 c2) = 150·(56·32 − 14·48)²/(70·80·104·46).
    const chi2 = (150 * (56 * 32 - 14 * 48) ** 2) / (70 * 80 * 104 * 46);
    expect(twoProportionZTest(56, 70, 48, 80).z ** 2).toBeCloseTo(chi2, 12);
  });
  it('degenerate cases give p = 1', () => {
    expect(twoProportionZTest(0, 100, 0, 100).pValue).toBe(1);
    expect(twoProportionZTest(100, 100, 50, 50).pValue).toBe(1);
    expect(twoProportionZTest(0, 0, 5, 10).pValue).toBe(1);
    expect(twoProportionZTest(5, 10, 0, 0).pValue).toBe(1);
    expect(twoProportionZTest(0, 0, 0, 0).pValue).toBe(1);
  });
});

import { describe, expect, it } from 'vitest';
import { erf, erfc, normalCdf, normalQuantile, normalSf, twoSidedCriticalValue } from '../../../src/domain/stats/index.js';
import { REF } from './fixtures/reference-values.js';
import { expectClose } from './helpers.js';

describe('erfc', () => {
  it.each(REF.erfc.map(([x, v]) => [x, v]))('erfc(%s) matches math.erfc to 1e-13 relative', (x, v) => {
    expectClose(erfc(x), v, 1e-13);
  });
  it('is consistent with erf and handles the far tail and NaN', () => {
    expect(erf(0.3) + erfc(0.3)).toBeCloseTo(1, 15);
    expect(erf(-0.3)).toBeCloseTo(-erf(0.3), 15);
    expect(erf(4)).toBeCloseTo(1 - 1.541725790028002e-8, 15);
    expect(erfc(30)).toBe(0);
    expect(erfc(-30)).toBe(2);
    expect(erfc(Number.NaN)).toBeNaN();
  });
});

describe('normal CDF and upper tail', () => {
  it.each(REF.normalCdf.map(([z, v]) => [z, v]))('Φ(%s) to 1e-13 relative', (z, v) => {
    expectClose(normalCdf(z), v, 1e-13);
  });
  it.each(REF.normalSf.map(([z, v]) => [z, v]))('1 − Φ(%s) to 1e-13 relative, without cancellation', (z, v) => {
    expectClose(normalSf(z), v, 1e-13);
  });
  it('textbook values', () => {
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 14);
    expect(normalSf(1.6448536269514722)).toBeCloseTo(0.05, 14);
    expect(normalCdf(0)).toBe(0.5);
  });
});

describe('normal quantile (Acklam + one Halley step)', () => {
  it.each(REF.normalQuantile.map(([p, v]) => [p, v]))('Φ⁻¹(%s) matches NormalDist.inv_cdf to 1e-13', (p, v) => {
    expectClose(normalQuantile(p), v, 1e-13, 1e-3);
  });
  it('edges', () => {
    expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(normalQuantile(1)).toBe(Number.POSITIVE_INFINITY);
    expect(normalQuantile(-0.1)).toBeNaN();
    expect(normalQuantile(1.1)).toBeNaN();
    expect(normalQuantile(0.5)).toBe(0);
  });
  it('round-trips through the CDF', () => {
    for (const p of [1e-12, 1e-6, 0.0123, 0.2, 0.5, 0.77, 0.999]) expectClose(normalCdf(normalQuantile(p)), p, 1e-13);
  });
  it('critical values', () => {
    expect(twoSidedCriticalValue(0.95)).toBeCloseTo(1.959963984540054, 14);
    expect(twoSidedCriticalValue(0.99)).toBeCloseTo(2.5758293035489004, 12);
    expect(() => twoSidedCriticalValue(1)).toThrow(RangeError);
  });
});

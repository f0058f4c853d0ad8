import { describe, expect, it } from 'vitest';
import {
  binomialCdf,
  binomialLogPmf,
  binomialTestTwoSided,
  createRandom,
  regularizedBeta,
  studentTQuantileUpper,
  studentTSf,
} from '../../../src/domain/stats/index.js';
import { expectClose } from './helpers.js';

/** Brute-force exact test: sum of the probabilities no larger than the observed one (R's rule). */
function bruteBinomTest(x: number, n: number, p: number): number {
  const d = Math.exp(binomialLogPmf(x, n, p)) * (1 + 1e-7);
  let s = 0;
  for (let k = 0; k <= n; k++) {
    const q = Math.exp(binomialLogPmf(k, n, p));
    if (q <= d) s += q;
  }
  return Math.min(1, s);
}

describe('incomplete beta, Student t and exact binomial tails', () => {
  it('matches closed forms of the regularized incomplete beta', () => {
    // I_x(1, b) = 1 − (1 − x)^b;  I_x(a, 1) = x^a;  I_x(1/2, 1/2) = (2/π) asin(√x).
    for (const x of [0.01, 0.3, 0.77, 0.999]) {
      expectClose(regularizedBeta(x, 1, 7), 1 - Math.pow(1 - x, 7), 1e-12);
      expectClose(regularizedBeta(x, 4.5, 1), Math.pow(x, 4.5), 1e-12);
      expectClose(regularizedBeta(x, 0.5, 0.5), (2 / Math.PI) * Math.asin(Math.sqrt(x)), 1e-12);
    }
  });

  it('gives textbook t quantiles (t₀.₉₇₅ with 10 df = 2.228139, t₀.₉₅ with 30 df = 1.697261; 1 df is Cauchy)', () => {
    expect(studentTQuantileUpper(0.025, 10)).toBeCloseTo(2.228138851986, 9);
    expect(studentTQuantileUpper(0.05, 30)).toBeCloseTo(1.697260886582, 9);
    expect(studentTQuantileUpper(0.1, 1)).toBeCloseTo(Math.tan(Math.PI * 0.4), 9);
    expectClose(studentTSf(2.5, 1e7), 0.00620966532577613, 1e-5); // ≈ normal tail
    expect(studentTSf(-1, 5)).toBeCloseTo(1 - studentTSf(1, 5), 14);
  });

  it('binomial CDF equals the summed pmf, and the two-sided exact test equals brute force', () => {
    let s = 0;
    for (let k = 0; k <= 12; k++) {
      s += Math.exp(binomialLogPmf(k, 40, 0.3));
      expectClose(binomialCdf(k, 40, 0.3), s, 1e-11);
    }
    for (const [x, n, p] of [
      [7, 20, 0.5],
      [3, 100, 0.1],
      [18, 100, 0.1],
      [0, 25, 0.05],
      [12, 25, 0.05],
      [500, 1000, 0.48],
      [1, 1, 0.3],
    ] as const) {
      expectClose(binomialTestTwoSided(x, n, p), bruteBinomTest(x, n, p), 1e-9, 1e-300);
    }
    expect(binomialTestTwoSided(7, 20, 0.5)).toBeCloseTo(0.263176, 6); // R: binom.test(7, 20)
  });
});

describe('seeded random numbers', () => {
  it('is reproducible by seed and stream', () => {
    const a = createRandom(7, 3);
    const b = createRandom(7, 3);
    const c = createRandom(7, 4);
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(xs);
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
  });

  it('draws exact binomials: the splitting path has the right law (chi-square against the pmf)', () => {
    const r = createRandom(11);
    const n = 400;
    const p = 0.3;
    const draws = 20000;
    const hist = new Map<number, number>();
    for (let i = 0; i < draws; i++) {
      const k = r.binomial(n, p);
      hist.set(k, (hist.get(k) ?? 0) + 1);
    }
    // Bins of the central range with expected count ≥ 20, tails pooled.
    let chi = 0;
    let df = -1;
    let lowExp = 0;
    let lowObs = 0;
    for (let k = 0; k <= n; k++) {
      const e = draws * Math.exp(binomialLogPmf(k, n, p));
      const o = hist.get(k) ?? 0;
      if (e < 20) {
        lowExp += e;
        lowObs += o;
        continue;
      }
      chi += (o - e) ** 2 / e;
      df++;
    }
    chi += (lowObs - lowExp) ** 2 / lowExp;
    df++;
    // 99.9% quantile of χ² with ~60 df is about 99.6.
    expect(df).toBeGreaterThan(40);
    expect(chi).toBeLessThan(df + 4.5 * Math.sqrt(2 * df));
    const big = Array.from({ length: 2000 }, () => r.binomial(1_000_000, 0.001));
    const mean = big.reduce((a, b) => a + b, 0) / big.length;
    expect(Math.abs(mean - 1000)).toBeLessThan(5 * Math.sqrt(1000 / 2000));
    expect(r.binomial(0, 0.5)).toBe(0);
    expect(r.binomial(10, 1)).toBe(10);
  });
});

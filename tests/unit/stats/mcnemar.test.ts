/**
 * McNemar's exact test and Newcombe's paired interval: golden values (exact fractions computed
 * here with BigInt, which is what R's binom.test(b, b + c) and exact2x2::mcnemar.exact report;
 * the published interval of Fagerland, Lydersen & Laake 2017, Table 8.x, as pinned by the R package
 * contingencytables), then a seeded Monte Carlo check of size and coverage.
 */
import { describe, expect, it } from 'vitest';
import {
  binomialHalfCdf,
  mcnemarExactPValue,
  pairedDifference,
  pairedDifferenceAtZ,
  pairedDifferenceBounds,
} from '../../../src/domain/stats/mcnemar.js';
import { expectClose, expectInterval } from './helpers.js';

/** 2·Σ_{i ≤ min(b,c)} C(b+c, i) / 2^(b+c), capped at 1, as an exact fraction turned into a double at the end. */
function exactMcNemar(b: number, c: number): number {
  const n = b + c;
  if (n === 0 || b === c) return 1;
  let sum = 0n;
  let term = 1n; // C(n, 0), then C(n, i) = C(n, i − 1)·(n − i + 1)/i, exact in integers
  for (let i = 0; i <= Math.min(b, c); i++) {
    if (i > 0) term = (term * BigInt(n - i + 1)) / BigInt(i);
    sum += term;
  }
  // 2·sum / 2^n: keep the top 60 bits of the numerator, then scale by a power of two.
  const num = 2n * sum;
  const drop = Math.max(0, num.toString(2).length - 60);
  return Math.min(1, Number(num >> BigInt(drop)) * 2 ** (drop - n));
}

describe('McNemar exact test', () => {
  it('matches the exact binomial fractions', () => {
    // Cavo et al. 2012 (6 vs 16 discordant): 2·110056/2^22 = 0.0524787…, the book's exact conditional P = 0.0525.
    expect(mcnemarExactPValue(6, 16)).toBeCloseTo(220112 / 4194304, 14);
    // Bentur et al. 2009 (1 vs 7): 2·(1 + 8)/256.
    expect(mcnemarExactPValue(1, 7)).toBe(18 / 256);
    expect(mcnemarExactPValue(7, 1)).toBe(18 / 256);
    // 2 vs 10: 2·(1 + 12 + 66)/4096.
    expect(mcnemarExactPValue(2, 10)).toBeCloseTo(158 / 4096, 15);
    for (const [b, c] of [
      [0, 5],
      [3, 4],
      [20, 40],
      [0, 1],
      [950, 1050],
      [10, 400],
    ] as const) {
      expectClose(mcnemarExactPValue(b, c), exactMcNemar(b, c), 1e-11);
    }
  });
  it('is 1 without discordant pairs or when they balance, and symmetric', () => {
    expect(mcnemarExactPValue(0, 0)).toBe(1);
    expect(mcnemarExactPValue(9, 9)).toBe(1);
    expect(mcnemarExactPValue(4, 5)).toBe(1);
    expect(mcnemarExactPValue(30, 50)).toBe(mcnemarExactPValue(50, 30));
  });
  it('stays finite far past the range where 2^-n underflows', () => {
    const p = mcnemarExactPValue(4000, 4400);
    expectClose(p, exactMcNemar(4000, 4400), 1e-9);
    expect(p).toBeGreaterThan(0);
    expect(binomialHalfCdf(2500, 5000)).toBeGreaterThan(0.5);
    expect(binomialHalfCdf(-1, 10)).toBe(0);
    expect(binomialHalfCdf(10, 10)).toBe(1);
  });
  it('refuses impossible counts', () => {
    expect(() => mcnemarExactPValue(-1, 3)).toThrow(RangeError);
    expect(() => mcnemarExactPValue(1.5, 3)).toThrow(RangeError);
  });
});

describe('Newcombe paired square-and-add interval', () => {
  it('reproduces the published Cavo et al. interval', () => {
    // Table [[59, 6], [16, 80]]: rows the first-named test (our "second"), columns the other.
    const r = pairedDifference({ both: 59, onlySecond: 6, onlyFirst: 16, neither: 80 });
    expect(r.estimate).toBeCloseTo(-0.0621, 4);
    expectInterval(r.interval, [-0.1186, -0.0046], 5e-5);
    expect(r.pairs).toBe(161);
  });
  it('Bentur et al. by hand: φ = 0 there (the cross product is below n/2), so it is plain square-and-add', () => {
    // both 1, onlySecond 1, onlyFirst 7, neither 12; n = 21. Cross product 1·12 − 1·7 = 5 ≤ 10.5 → φ = 0.
    const z = 1.959963984540054;
    const wilson = (x: number, n: number) => {
      const p = x / n;
      const c = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
      const h = (z / (1 + (z * z) / n)) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
      return [c - h, c + h] as const;
    };
    const [l1, u1] = wilson(2, 21);
    const [l2, u2] = wilson(8, 21);
    const d = 2 / 21 - 8 / 21;
    const lower = d - Math.hypot(2 / 21 - l1, u2 - 8 / 21);
    const upper = d + Math.hypot(8 / 21 - l2, u1 - 2 / 21);
    const r = pairedDifference({ both: 1, onlySecond: 1, onlyFirst: 7, neither: 12 });
    expect(r.estimate).toBeCloseTo(-6 / 21, 14);
    expectInterval(r.interval, [lower, upper], 1e-12);
  });
  it('reads second − first, and swapping the versions mirrors it', () => {
    const t = { both: 10, onlyFirst: 3, onlySecond: 12, neither: 75 };
    const r = pairedDifference(t);
    const m = pairedDifference({ both: 10, onlyFirst: 12, onlySecond: 3, neither: 75 });
    expect(r.estimate).toBeCloseTo(0.09, 14);
    expect(m.estimate).toBeCloseTo(-0.09, 14);
    expectInterval(m.interval, [-r.interval[1], -r.interval[0]], 1e-12);
  });
  it('edge tables: no pairs, no discordance, every pair discordant', () => {
    expect(pairedDifference({ both: 0, onlyFirst: 0, onlySecond: 0, neither: 0 })).toEqual({ pairs: 0, estimate: 0, interval: [-1, 1] });
    const same = pairedDifference({ both: 0, onlyFirst: 0, onlySecond: 0, neither: 40 });
    expect(same.estimate).toBe(0);
    expect(same.interval[0]).toBeLessThan(0);
    expect(same.interval[1]).toBeGreaterThan(0);
    const all = pairedDifference({ both: 0, onlyFirst: 0, onlySecond: 30, neither: 0 });
    expect(all.estimate).toBe(1);
    expect(all.interval[1]).toBe(1);
    expect(all.interval[0]).toBeGreaterThan(0.8);
  });
  it('one-sided bounds at alpha are the two-sided interval at 1 − 2·alpha', () => {
    const t = { both: 5, onlyFirst: 4, onlySecond: 9, neither: 82 };
    expectInterval(pairedDifferenceBounds(t, 0.05).interval, pairedDifference(t, 0.9).interval, 1e-9);
    expect(() => pairedDifferenceBounds(t, 0.5)).toThrow(RangeError);
    expect(pairedDifferenceAtZ(t, 0).interval[0]).toBeCloseTo(0.05, 12);
  });
});

/** mulberry32 (Tommy Ettinger, public domain): a small seedable PRNG. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A dataset of n cases scored by two versions: the first overrides with pFirst, the second flips some. */
function simulateTable(rand: () => number, n: number, pFirst: number, pFix: number, pBreak: number) {
  const t = { both: 0, onlyFirst: 0, onlySecond: 0, neither: 0 };
  for (let i = 0; i < n; i++) {
    const first = rand() < pFirst;
    const second = first ? rand() >= pFix : rand() < pBreak;
    if (first && second) t.both++;
    else if (first) t.onlyFirst++;
    else if (second) t.onlySecond++;
    else t.neither++;
  }
  return t;
}

describe('seeded simulation (4,000 datasets each)', () => {
  const DATASETS = 4000;
  it('McNemar exact keeps its size under no difference (it is conservative)', () => {
    const rand = mulberry32(16);
    let rejections = 0;
    for (let s = 0; s < DATASETS; s++) {
      // The same marginal rate: fixes and breaks balance (0.15·0.2 = 0.85·x → x ≈ 0.0353).
      const t = simulateTable(rand, 100, 0.15, 0.2, (0.15 * 0.2) / 0.85);
      if (mcnemarExactPValue(t.onlyFirst, t.onlySecond) < 0.05) rejections++;
    }
    // Exact conditional test: at most alpha, plus 2 SE of Monte Carlo error (SE ≈ 0.0034).
    expect(rejections / DATASETS).toBeLessThanOrEqual(0.05 + 0.007);
  });
  it('the 95% interval covers the true paired difference about 95% of the time', () => {
    const rand = mulberry32(1600);
    const cases: [number, number, number, number][] = [
      [100, 0.1, 0.3, 0.05], // true second − first = 0.9·0.05 − 0.1·0.3 = 0.015
      [100, 0.3, 0.1, 0.02],
      [50, 0.1, 0.5, 0.1],
      [300, 0.05, 0.2, 0.03],
    ];
    for (const [n, pFirst, pFix, pBreak] of cases) {
      const truth = (1 - pFirst) * pBreak - pFirst * pFix;
      let covered = 0;
      for (let s = 0; s < DATASETS; s++) {
        const [lo, hi] = pairedDifference(simulateTable(rand, n, pFirst, pFix, pBreak)).interval;
        if (lo <= truth && truth <= hi) covered++;
      }
      // Newcombe's method 10 runs close to nominal (his Table III: mean coverage 0.9546); allow
      // 0.93 for small n and Monte Carlo error (SE ≈ 0.0034).
      expect(covered / DATASETS, `n=${n} pFirst=${pFirst}`).toBeGreaterThanOrEqual(0.93);
    }
  });
});

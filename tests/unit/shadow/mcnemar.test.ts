/**
 * Golden values of the paired statistics the shadow comparison uses: McNemar's exact p-value
 * (src/domain/stats/mcnemar.ts, also past 1,000 discordant pairs, where it changes method)
 * against sums of binomial coefficients done here in exact integer arithmetic; the sequential
 * McNemar e-value against a numerical integral of its mixture; Newcombe's paired interval, in
 * the shadow's orientation, against a published example.
 */
import { describe, expect, it } from 'vitest';
import { mcnemarExactPValue } from '../../../src/domain/stats/mcnemar.js';
import { newcombePairedDifference } from '../../../src/domain/shadow/paired-interval.js';
import {
  betaMixtureShape,
  logMcNemarEValue,
  pairedDifferenceSequence,
  sequentialMcNemar,
} from '../../../src/domain/stats/mcnemar-sequential.js';
import { expectClose } from '../stats/helpers.js';

/** C(n, i) for i = 0..n, exactly. */
function binomialRow(n: number): bigint[] {
  const row = [1n];
  for (let i = 1; i <= n; i++) row.push((row[i - 1]! * BigInt(n - i + 1)) / BigInt(i));
  return row;
}

/** 2·P(X ≤ min(b, c)), X ~ Bin(b + c, ½), capped at 1: the exact test by hand. */
function referenceMcNemar(b: number, c: number): number {
  const n = b + c;
  if (n === 0) return 1;
  const row = binomialRow(n);
  let tail = 0n;
  for (let i = 0; i <= Math.min(b, c); i++) tail += row[i]!;
  // tail / 2^n as a double, keeping 60 significant bits of the ratio.
  const scale = 60n;
  const ratio = Number((tail << scale) >> BigInt(n)) / 2 ** 60;
  return Math.min(1, 2 * ratio);
}

describe("McNemar's exact test", () => {
  it('matches hand-computed binomial tails', () => {
    expect(mcnemarExactPValue(2, 8)).toBeCloseTo(112 / 1024, 15);
    expect(mcnemarExactPValue(8, 2)).toBeCloseTo(112 / 1024, 15);
    expect(mcnemarExactPValue(0, 5)).toBeCloseTo(2 / 32, 15);
    expect(mcnemarExactPValue(1, 9)).toBeCloseTo((2 * (1 + 10)) / 1024, 15);
    expect(mcnemarExactPValue(5, 5)).toBe(1);
    expect(mcnemarExactPValue(1, 0)).toBe(1);
    expect(mcnemarExactPValue(0, 0)).toBe(1);
  });

  it.each([
    [3, 12],
    [13, 30],
    [40, 61],
    [150, 210],
    [400, 480],
    [0, 60],
    [1000, 1100],
  ])('b=%i, c=%i equals the exact integer sum', (b, c) => {
    expectClose(mcnemarExactPValue(b, c), referenceMcNemar(b, c), 1e-10);
  });

  it('keeps tiny tails without underflowing to a wrong value', () => {
    // 2·2^-2000 underflows a double to 0, which is the right double.
    expect(mcnemarExactPValue(0, 2000)).toBe(0);
    expectClose(mcnemarExactPValue(0, 1000), 2 * 2 ** -1000, 1e-12);
  });
});

/** ∫₀¹ q^c (1 − q)^b Beta(q; a, a) dq · 2^(b+c), by the midpoint rule on a fine grid. */
function integratedEValue(b: number, c: number, a: number): number {
  const steps = 200_000;
  const h = 1 / steps;
  // B(a, a) by the same rule, so the discretisation error cancels to first order.
  let norm = 0;
  for (let i = 0; i < steps; i++) {
    const q = (i + 0.5) * h;
    norm += Math.exp((a - 1) * Math.log(q) + (a - 1) * Math.log1p(-q));
  }
  const logNorm = Math.log(norm * h);
  let s = 0;
  for (let i = 0; i < steps; i++) {
    const q = (i + 0.5) * h;
    s += Math.exp((a - 1 + c) * Math.log(q) + (a - 1 + b) * Math.log1p(-q) + (b + c) * Math.LN2);
  }
  return Math.log(s * h) - logNorm;
}

describe('the sequential McNemar test', () => {
  it('is the Beta(a, a) mixture Bayes factor against ½', () => {
    for (const [b, c, a] of [
      [3, 9, 5.8],
      [20, 35, 5.8],
      [0, 12, 2],
      [7, 7, 12],
    ] as const) {
      expectClose(logMcNemarEValue(b, c, a), integratedEValue(b, c, a), 1e-6, 1e-6);
    }
  });

  it('is tuned from the normal mixture (a = 5.80 at alpha 0.05, N* = 100) and gives p = 1/E', () => {
    // ρ² = (−2 ln α + ln(1 − 2 ln α))/N* = 7.9361/100; a = (1/ρ² − 1)/2 = 5.8003.
    expect(betaMixtureShape(0.05, 100)).toBeCloseTo(5.8003, 3);
    const r = sequentialMcNemar(10, 40);
    expectClose(r.pValue, 1 / r.eValue, 1e-12);
    expect(r.pValue).toBeLessThan(0.05);
    expect(sequentialMcNemar(0, 0)).toMatchObject({ eValue: 1, pValue: 1 });
    // Always-valid costs power: never below the fixed-horizon test on the same counts here.
    for (const [b, c] of [
      [10, 40],
      [30, 50],
      [100, 140],
    ] as const) {
      expect(sequentialMcNemar(b, c).pValue).toBeGreaterThan(mcnemarExactPValue(b, c));
    }
    // Symmetric in the two kinds of discordance.
    expectClose(sequentialMcNemar(12, 30).pValue, sequentialMcNemar(30, 12).pValue, 1e-12);
  });
});

describe('the paired-difference confidence sequence', () => {
  it('contains the estimate, mirrors when the cells swap, widens as alpha falls and narrows with pairs', () => {
    const r = pairedDifferenceSequence(10, 30, 200);
    expect(r.estimate).toBeCloseTo(0.1, 12);
    expect(r.ci[0]).toBeLessThan(0.1);
    expect(r.ci[1]).toBeGreaterThan(0.1);
    const mirrored = pairedDifferenceSequence(30, 10, 200);
    expect(mirrored.ci[0]).toBeCloseTo(-r.ci[1], 6);
    expect(mirrored.ci[1]).toBeCloseTo(-r.ci[0], 6);
    const strict = pairedDifferenceSequence(10, 30, 200, { alpha: 0.01 });
    expect(strict.ci[0]).toBeLessThan(r.ci[0]);
    expect(strict.ci[1]).toBeGreaterThan(r.ci[1]);
    const more = pairedDifferenceSequence(100, 300, 2000);
    expect(more.ci[1] - more.ci[0]).toBeLessThan(r.ci[1] - r.ci[0]);
    // Wider than the fixed-horizon interval at the same level.
    const fixed = newcombePairedDifference({ bothOk: 150, onlyControlOverridden: 10, onlyCandidateOverridden: 30, bothOverridden: 10 });
    expect(r.ci[0]).toBeLessThan(fixed.ci[0]);
    expect(r.ci[1]).toBeGreaterThan(fixed.ci[1]);
  });

  it('handles the edges', () => {
    expect(pairedDifferenceSequence(0, 0, 0).ci).toEqual([-1, 1]);
    const allWorse = pairedDifferenceSequence(0, 50, 50);
    expect(allWorse.ci[1]).toBe(1);
    expect(allWorse.ci[0]).toBeGreaterThan(0);
    const none = pairedDifferenceSequence(0, 0, 500);
    expect(none.ci[0]).toBeLessThan(0);
    expect(none.ci[1]).toBeGreaterThan(0);
    expect(none.ci[1]).toBeLessThan(0.05);
    expect(() => pairedDifferenceSequence(5, 5, 8)).toThrow(RangeError);
  });
});

describe("Newcombe's paired interval", () => {
  it('matches the published example (Fagerland, Lydersen & Laake 2017, §8.5: Cavo et al. 2012)', () => {
    // Table [[59, 6], [16, 80]]: first classification = rows. Our first is the candidate.
    const r = newcombePairedDifference({ bothOverridden: 59, onlyCandidateOverridden: 6, onlyControlOverridden: 16, bothOk: 80 });
    expect(r.estimate).toBeCloseTo(-0.0621, 4);
    expect(r.ci[0]).toBeCloseTo(-0.1186, 4);
    expect(r.ci[1]).toBeCloseTo(-0.0046, 4);
  });

  it('is [−1, 1] without pairs and stays inside [−1, 1]', () => {
    expect(newcombePairedDifference({ bothOk: 0, onlyControlOverridden: 0, onlyCandidateOverridden: 0, bothOverridden: 0 }).ci).toEqual([
      -1, 1,
    ]);
    const r = newcombePairedDifference({ bothOk: 0, onlyControlOverridden: 0, onlyCandidateOverridden: 5, bothOverridden: 0 });
    expect(r.estimate).toBe(1);
    expect(r.ci[1]).toBe(1);
    expect(r.ci[0]).toBeGreaterThan(0);
  });
});

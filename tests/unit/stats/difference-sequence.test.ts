import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  differenceBound,
  differenceInterval,
  differenceLogE,
  differencePValue,
  differenceRejects,
  differenceTwoSidedPValue,
  logMixtureValue,
  mixtureScale,
  newcombeDifference,
  tiltMixture,
  type DifferenceDesign,
} from '../../../src/domain/stats/index.js';

const design: DifferenceDesign = { share: 0.1, tuning: 500, center: 0.03 };
const counts = fc
  .tuple(
    fc.integer({ min: 1, max: 3000 }),
    fc.double({ min: 0, max: 1, noNaN: true }),
    fc.integer({ min: 1, max: 20000 }),
    fc.double({ min: 0, max: 1, noNaN: true }),
  )
  .map(([nc, fc_, nt, ft]) => ({ c: { x: Math.round(nc * fc_), n: nc }, t: { x: Math.round(nt * ft), n: nt } }));

describe('finite-sample confidence sequence for candidate − control', () => {
  it('E(δ) decreases in δ on the lower side and increases on the upper side', () => {
    fc.assert(
      fc.property(counts, ({ c, t }) => {
        let prev = Number.POSITIVE_INFINITY;
        for (let d = -0.9; d <= 0.9; d += 0.15) {
          const v = differenceLogE(c, t, d, 'lower', design).logE;
          expect(v).toBeLessThanOrEqual(prev + 1e-6);
          prev = v;
        }
        prev = Number.NEGATIVE_INFINITY;
        for (let d = -0.9; d <= 0.9; d += 0.15) {
          const v = differenceLogE(c, t, d, 'upper', design).logE;
          expect(v).toBeGreaterThanOrEqual(prev - 1e-6);
          prev = v;
        }
      }),
      { numRuns: 60 },
    );
  });

  it('its infimum over the nuisance matches a brute-force search with the same bin priors', () => {
    // The module minimises per bin of the control's rate; here a dense grid over q does it blindly.
    const logit = (p: number) => Math.log(p / (1 - p));
    const binRate = (q: number) => {
      const l = Math.floor(logit(q));
      if (l < -8) return 1 / (1 + Math.exp(8));
      if (l >= 8) return 1 / (1 + Math.exp(-8));
      const mid = l + 0.5;
      return 1 / (1 + Math.exp(-mid));
    };
    const brute = (c: { x: number; n: number }, t: { x: number; n: number }, delta: number) => {
      const ratio = design.share / (1 - design.share);
      let best = Number.POSITIVE_INFINITY;
      for (let i = 1; i < 20000; i++) {
        const q = Math.max(0, -delta) + ((Math.min(1, 1 - delta) - Math.max(0, -delta)) * i) / 20000;
        const r = binRate(q);
        const rc = Math.min(Math.max(r + (design.center ?? 0), r / 2), (1 + r) / 2);
        const tuning = Math.max(design.tuning, 30 / Math.min(rc, 1 - rc));
        const mc = tiltMixture(mixtureScale(rc, tuning), 'up');
        const mt = tiltMixture(mixtureScale(r, tuning / Math.pow(ratio, 1.5)), 'down');
        best = Math.min(best, logMixtureValue(mc, c.x, c.n, Math.min(1, q + delta)) + logMixtureValue(mt, t.x, t.n, q));
      }
      return best;
    };
    for (const [c, t, d] of [
      [{ x: 60, n: 300 }, { x: 270, n: 2700 }, 0.03],
      [{ x: 66, n: 4424 }, { x: 199, n: 39816 }, 0.005],
      [{ x: 9, n: 120 }, { x: 3, n: 1000 }, 0],
      [{ x: 700, n: 1000 }, { x: 5000, n: 9000 }, 0.1],
    ] as const) {
      const exact = differenceLogE(c, t, d, 'lower', design).logE;
      const b = brute(c, t, d);
      // Never above the grid's minimum (that would overstate evidence), and close to it.
      expect(exact).toBeLessThanOrEqual(b + 1e-9);
      expect(b - exact).toBeLessThan(1e-3);
    }
  });

  it('the bound agrees with the test at the pivot, and p < α exactly when it rejects', () => {
    fc.assert(
      fc.property(counts, fc.double({ min: 0.001, max: 0.2, noNaN: true }), ({ c, t }, alpha) => {
        const m = design.center as number;
        const rejects = differenceRejects(c, t, m, 'lower', alpha, design);
        const bound = differenceBound(c, t, 'lower', alpha, design, m);
        if (rejects) expect(bound).toBeGreaterThanOrEqual(m);
        else expect(bound).toBeLessThanOrEqual(m);
        const p = differencePValue(c, t, m, 'lower', design);
        if (p < alpha * (1 - 1e-6)) expect(rejects).toBe(true);
        if (p > alpha * (1 + 1e-6)) expect(rejects).toBe(false);
      }),
      { numRuns: 80 },
    );
  });

  it('never rejects a null that contains the estimate, and an empty arm says nothing', () => {
    expect(differenceRejects({ x: 10, n: 100 }, { x: 10, n: 100 }, 0, 'lower', 0.2, design)).toBe(false);
    expect(differenceRejects({ x: 10, n: 100 }, { x: 20, n: 100 }, 0, 'lower', 0.2, design)).toBe(false);
    expect(differenceBound({ x: 0, n: 0 }, { x: 5, n: 10 }, 'lower', 0.05, design)).toBe(-1);
    expect(differenceBound({ x: 0, n: 0 }, { x: 5, n: 10 }, 'upper', 0.05, design)).toBe(1);
    expect(differenceTwoSidedPValue({ x: 3, n: 10 }, { x: 0, n: 0 }, design)).toBe(1);
  });

  it('is wider than the fixed-horizon Newcombe interval (it pays for looking at every n)', () => {
    for (const [c, t] of [
      [
        { x: 30, n: 200 },
        { x: 180, n: 1800 },
      ],
      [
        { x: 2, n: 500 },
        { x: 9, n: 5000 },
      ],
      [
        { x: 400, n: 1000 },
        { x: 3900, n: 10000 },
      ],
    ] as const) {
      const [lo, hi] = differenceInterval(c, t, 0.05, { share: 0.1, tuning: 500 });
      const [nlo, nhi] = newcombeDifference(c.x, c.n, t.x, t.n, 0.95);
      expect(lo).toBeLessThan(nlo);
      expect(hi).toBeGreaterThan(nhi);
    }
  });

  it('a clear regression is caught: 20% vs 10% with 300 candidate reviews at a 10% share', () => {
    expect(differenceRejects({ x: 60, n: 300 }, { x: 270, n: 2700 }, 0.03, 'lower', 0.05, design)).toBe(true);
    const [lo] = differenceInterval({ x: 60, n: 300 }, { x: 270, n: 2700 }, 0.05, { share: 0.1, tuning: 500 });
    expect(lo).toBeGreaterThan(0);
  });

  it('rejects bad input', () => {
    expect(() => differenceRejects({ x: 3, n: 2 }, { x: 0, n: 1 }, 0, 'lower', 0.05, design)).toThrow(RangeError);
    expect(() => differenceRejects({ x: 1, n: 2 }, { x: 0, n: 1 }, 0, 'lower', 1.5, design)).toThrow(RangeError);
    expect(() => differenceRejects({ x: 1, n: 2 }, { x: 0, n: 1 }, 0, 'lower', 0.05, { share: 1, tuning: 10 })).toThrow(RangeError);
  });
});

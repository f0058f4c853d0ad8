import { describe, expect, it } from 'vitest';
import {
  compareRatios,
  DEFAULT_CLUSTER_SEQUENTIAL_TUNING,
  ratioMoments,
  ratioOfSums,
  type RatioUnit,
} from '../../../src/domain/stats/index.js';
import { REF } from './fixtures/reference-values.js';
import { expectClose, expectInterval } from './helpers.js';

const units = (rows: readonly (readonly number[])[]): RatioUnit[] => rows.map(([num, den]) => ({ num: num as number, den: den as number }));

describe('ratio of sums with delta-method variance (tenant as the unit)', () => {
  it.each(REF.cluster.map((c, i) => [i, c] as const))('data set %s matches the Python two-pass computation', (_, c) => {
    const cand = ratioOfSums(units(c.candidate));
    const ctrl = ratioOfSums(units(c.control));
    expectClose(cand.ratio, c.ratioCandidate, 1e-13);
    expectClose(cand.variance, c.varianceCandidate, 1e-9);
    expectClose(ctrl.ratio, c.ratioControl, 1e-13);
    expectClose(ctrl.variance, c.varianceControl, 1e-9);
    const r = compareRatios(units(c.candidate), units(c.control));
    expectClose(r.estimate, c.estimate, 1e-12, 1e-12);
    expectInterval(r.ci, c.ci, 1e-9);
    expectClose(r.pValue, c.pValue, 1e-8, 1e-12);
    expectInterval(r.alwaysValidCI, c.alwaysValidCI, 1e-9);
    expectClose(r.alwaysValidPValue, c.alwaysValidPValue, 1e-8, 1e-12);
    expect(r.method).toBe(`tenant-cluster-delta-method+wald-z+asymptotic-cs-normal-mixture(N*=${DEFAULT_CLUSTER_SEQUENTIAL_TUNING})`);
  });

  it('reduces to p̂(1 − p̂)/(n − 1) when every cluster is a single run', () => {
    // den ≡ 1 ⇒ s²_d = s_md = 0 and Var(R) = s²_m/n with s²_m = n p̂(1 − p̂)/(n − 1).
    const rows = [1, 0, 0, 1, 1, 0, 0, 0, 1, 0].map((num) => ({ num, den: 1 }));
    const r = ratioOfSums(rows);
    expect(r.ratio).toBeCloseTo(0.4, 15);
    expect(r.variance).toBeCloseTo((0.4 * 0.6) / 9, 15);
  });

  it('worked example by hand', () => {
    // Tenants (m, d): (1, 10), (3, 10), (2, 20). μ_m = 2, μ_d = 40/3, R = 6/40 = 0.15.
    // s²_m = 1, s²_d = 100/3, s_md = (10 + 30 + 40 − 6·40/3)/2 = 0.
    // Var = (1/3)(s²_m/μ_d² + μ_m²s²_d/μ_d⁴) = (1/3)(9/1600 + 4·(100/3)·81/2560000)
    //     = (1/3)(0.005625 + 0.00421875) = 0.00328125.
    const r = ratioOfSums([
      { num: 1, den: 10 },
      { num: 3, den: 10 },
      { num: 2, den: 20 },
    ]);
    expect(r.ratio).toBeCloseTo(0.15, 15);
    expect(r.variance).toBeCloseTo(0.00328125, 14);
  });

  it('accepts SQL-style sufficient statistics as well as rows', () => {
    const c = units(REF.cluster[0].candidate);
    const t = units(REF.cluster[0].control);
    const fromRows = compareRatios(c, t);
    const fromMoments = compareRatios(ratioMoments(c), ratioMoments(t));
    expect(fromMoments.estimate).toBe(fromRows.estimate);
    expect(fromMoments.standardError).toBeCloseTo(fromRows.standardError, 15);
  });

  it('is wider than a per-run analysis would claim when tenants differ', () => {
    // Tenants alternate between 5% and 40% override rates: strong between-tenant heterogeneity.
    const c = Array.from({ length: 12 }, (_, i) => ({ num: i % 2 === 0 ? 5 : 40, den: 100 }));
    const t = Array.from({ length: 12 }, (_, i) => ({ num: i % 2 === 0 ? 4 : 38, den: 100 }));
    const r = compareRatios(c, t);
    const m1 = ratioMoments(c);
    const m2 = ratioMoments(t);
    const p1 = m1.sumNum / m1.sumDen;
    const p2 = m2.sumNum / m2.sumDen;
    const perRunSe = Math.sqrt((p1 * (1 - p1)) / m1.sumDen + (p2 * (1 - p2)) / m2.sumDen);
    expect(r.standardError).toBeGreaterThan(perRunSe);
  });

  it('edge cases: one tenant, no denominator, zero spread', () => {
    const one = compareRatios(
      [{ num: 3, den: 10 }],
      [
        { num: 1, den: 10 },
        { num: 2, den: 10 },
      ],
    );
    expect(one).toMatchObject({ ci: [-1, 1], pValue: 1, alwaysValidCI: [-1, 1], alwaysValidPValue: 1 });
    expect(one.estimate).toBeCloseTo(0.15, 15);
    const noDen = compareRatios(
      [
        { num: 0, den: 0 },
        { num: 0, den: 0 },
      ],
      [
        { num: 1, den: 10 },
        { num: 2, den: 10 },
      ],
    );
    expect(noDen).toMatchObject({ estimate: 0, ci: [-1, 1], pValue: 1 });
    expect(ratioOfSums([]).variance).toBeNaN();
    // All tenants at 0 overrides: the tenant variance is 0 → per-run score fallback, never a point.
    const zeros = Array.from({ length: 12 }, () => ({ num: 0, den: 20 }));
    const flat = compareRatios(zeros, zeros);
    expect(flat.method.startsWith('zero-tenant-variance-fallback:newcombe')).toBe(true);
    expect(flat.ci[1]).toBeGreaterThan(0);
    expect(flat.alwaysValidCI[1]).toBeGreaterThan(flat.ci[1]);
    expect(flat.pValue).toBe(1);
    // Same rate everywhere but not 0 (rounding leaves a ~1e-18 variance), and via SQL moments.
    const third = Array.from({ length: 12 }, () => ({ num: 1, den: 3 }));
    const same = compareRatios(ratioMoments(third), ratioMoments(third));
    expect(same.method.startsWith('zero-tenant-variance-fallback:')).toBe(true);
    expect(same.ci[1] - same.ci[0]).toBeGreaterThan(0.1);
    // Not a proportion (num > den): nothing to fall back on.
    const rates = Array.from({ length: 5 }, () => ({ num: 30, den: 10 }));
    expect(compareRatios(rates, rates, { range: [-10, 10] })).toMatchObject({ ci: [-10, 10], pValue: 1 });
    expect(() => ratioMoments([{ num: 1, den: -1 }])).toThrow(RangeError);
  });
});

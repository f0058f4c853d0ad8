import { describe, expect, it } from 'vitest';
import {
  createRandom,
  differenceTwoSidedPValue,
  tenantLevelBound,
  tenantLevelEstimate,
  tenantLevelInterval,
  tenantLevelPValue,
  type BinomialCount,
  type TenantCount,
  type TenantStratum,
} from '../../../src/domain/stats/index.js';

const tenants = (prefix: string, rows: readonly (readonly [number, number])[]): TenantCount[] =>
  rows.map(([x, n], i) => ({ tenant: `${prefix}${i}`, x, n }));

describe('tenant-level (cluster) estimate', () => {
  it('worked example by hand: CR2 residuals, Satterthwaite df', () => {
    // Candidate (0/10, 10/10, 5/20): R = 0.375; residuals −3.75, 6.25, −2.5; leverages ¼, ¼, ½.
    // V_c = [(3.75² + 6.25²)/0.75 + 2.5²/0.5] / 40² = 0.0520833…; the control (1/10, 1/10, 2/20)
    // has no spread; the per-run floor 0.2407·0.7593·(1/40 + 1/40) = 0.00914 is below V_c.
    const s: TenantStratum = {
      candidate: tenants('c', [
        [0, 10],
        [10, 10],
        [5, 20],
      ]),
      control: tenants('t', [
        [1, 10],
        [1, 10],
        [2, 20],
      ]),
    };
    const e = tenantLevelEstimate([s]);
    expect(e.usable).toBe(true);
    expect(e.estimate).toBeCloseTo(0.275, 14);
    expect(e.standardError ** 2).toBeCloseTo(0.0520833333333, 12);
    // Kish's effective count of the candidate: 40²/(10² + 10² + 20²) = 8/3 → df = 5/3.
    expect(e.degreesOfFreedom).toBeCloseTo(5 / 3, 12);
    expect(e.tenants).toEqual({ candidate: 3, control: 3 });
  });

  it('never has zero variance: all-zero arms keep the per-run binomial uncertainty', () => {
    const s: TenantStratum = { candidate: tenants('c', Array(12).fill([0, 20])), control: tenants('t', Array(12).fill([0, 20])) };
    const e = tenantLevelEstimate([s]);
    expect(e.standardError).toBeGreaterThan(0);
    expect(tenantLevelPValue(e, 0, 2, 'lower', 0.05)).toBe(1);
  });

  it('issue 15, case 4: 12 tenants at 0/20 against 12 with twelve overrides in all is not called better', () => {
    const control = [0, 1, 2, 1, 0, 2, 1, 1, 2, 0, 1, 1];
    const s: TenantStratum = {
      candidate: tenants('c', Array(12).fill([0, 20])),
      control: tenants(
        't',
        control.map((x) => [x, 20] as const),
      ),
    };
    const e = tenantLevelEstimate([s]);
    const tenantP = tenantLevelPValue(e, 0, 2, 'lower', 0.05);
    const perRunP = differenceTwoSidedPValue({ x: 0, n: 240 }, { x: 12, n: 240 }, { share: 0.5, tuning: 500 });
    // The old tenant-level answer was p = 0.0013 against a per-run 0.148: more certainty from
    // clusters than from runs. Now the tenant level is at least as cautious as the per-run sequence.
    expect(tenantP).toBeGreaterThan(0.05);
    expect(tenantP).toBeGreaterThanOrEqual(perRunP * 0.5);
    const [lo, hi] = tenantLevelInterval(e, 0.05);
    expect(lo).toBeLessThan(0);
    expect(hi).toBeGreaterThan(0);
  });

  it('a tenant is one cluster across stages: its residuals add before squaring', () => {
    const c = [
      [0, 10],
      [10, 10],
      [5, 20],
      [2, 10],
    ] as const;
    const t = [
      [1, 10],
      [6, 10],
      [2, 20],
      [9, 10],
    ] as const;
    const same: TenantStratum = { candidate: tenants('c', c), control: tenants('t', t) };
    const renamed: TenantStratum = { candidate: tenants('x', c), control: tenants('y', t) };
    const one = tenantLevelEstimate([same]);
    const sameTenants = tenantLevelEstimate([same, same]);
    const otherTenants = tenantLevelEstimate([same, renamed]);
    expect(sameTenants.standardError).toBeCloseTo(one.standardError, 12);
    // Independent clusters in the second stage: half the variance.
    expect(otherTenants.standardError).toBeCloseTo(one.standardError / Math.SQRT2, 12);
    expect(sameTenants.tenants).toEqual({ candidate: 4, control: 4 });
  });

  it('CUPED with pre-rollout rates removes most of the between-tenant variance', () => {
    const random = createRandom(3);
    const pre = new Map<string, BinomialCount>();
    const stratum: { candidate: TenantCount[]; control: TenantCount[] } = { candidate: [], control: [] };
    for (let i = 0; i < 60; i++) {
      const rate = random.beta(1.2, 10.8); // mean 0.1, SD ≈ 0.083
      const id = `t${i}`;
      pre.set(id, { x: random.binomial(400, rate), n: 400 });
      const n = 200;
      (i % 2 === 0 ? stratum.candidate : stratum.control).push({ tenant: id, x: random.binomial(n, rate), n });
    }
    const plain = tenantLevelEstimate([stratum]);
    const adjusted = tenantLevelEstimate([stratum], { preRollout: pre });
    expect(adjusted.cuped).toBe(true);
    expect(adjusted.standardError).toBeLessThan(0.7 * plain.standardError);
    // Both estimate the same difference (0 here) within their errors.
    expect(Math.abs(adjusted.estimate)).toBeLessThan(3 * adjusted.standardError);
  });

  it('an arm with a single tenant cannot be estimated: bounds say nothing', () => {
    const e = tenantLevelEstimate([
      {
        candidate: tenants('c', [[3, 10]]),
        control: tenants('t', [
          [1, 10],
          [2, 10],
        ]),
      },
    ]);
    expect(e.usable).toBe(false);
    expect(tenantLevelBound(e, 'lower', 0.05)).toBe(Number.NEGATIVE_INFINITY);
    expect(tenantLevelPValue(e, 0, 2, 'lower', 0.05)).toBe(1);
  });

  it('bound and p-value agree: p < α exactly when the bound passes δ', () => {
    const s: TenantStratum = {
      candidate: tenants(
        'c',
        Array.from({ length: 25 }, (_, i) => [20 + (i % 7), 100] as const),
      ),
      control: tenants(
        't',
        Array.from({ length: 25 }, (_, i) => [10 + (i % 5), 100] as const),
      ),
    };
    const e = tenantLevelEstimate([s]);
    for (const delta of [0, 0.02, 0.05, 0.08]) {
      const p = tenantLevelPValue(e, delta, 1, 'lower', 0.05);
      const bound = tenantLevelBound(e, 'lower', 0.05);
      expect(p < 0.05).toBe(bound > delta);
    }
  });
});

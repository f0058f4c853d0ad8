import { describe, expect, it } from 'vitest';
import { compareProportions, compareStratified, mantelHaenszelRiskDifference, type Stratum } from '../../../src/domain/stats/index.js';
import { expectInterval } from './helpers.js';

const stratum = (a: number, n1: number, c: number, n0: number): Stratum => ({ candidate: { x: a, n: n1 }, control: { x: c, n: n0 } });

// Agresti (2013), Categorical Data Analysis 3rd ed.: 8-centre clinical trial (data p. 226),
// drug vs control successes / totals per centre. Agresti reports RD_MH = 0.130 with SE 0.050
// (p. 231); the cardx R package's test snapshot prints the Sato 95% CI as (0.0313, 0.2284).
const AGRESTI: Stratum[] = [
  stratum(11, 36, 10, 37),
  stratum(16, 20, 22, 32),
  stratum(14, 19, 7, 19),
  stratum(2, 16, 1, 17),
  stratum(6, 17, 0, 12),
  stratum(1, 11, 0, 10),
  stratum(1, 5, 1, 9),
  stratum(4, 6, 6, 7),
];

describe('Mantel–Haenszel risk difference with the Sato variance', () => {
  it('reproduces Agresti’s worked example', () => {
    const mh = mantelHaenszelRiskDifference(AGRESTI);
    expect(mh.estimate).toBeCloseTo(0.13, 3);
    expect(Math.sqrt(mh.variance)).toBeCloseTo(0.05, 3);
    const r = compareStratified(AGRESTI);
    expectInterval(r.ci, [0.0313, 0.2284], 5e-5);
    expect(r.strata).toBe(8);
    expect(r.alwaysValidCI[0]).toBeLessThan(r.ci[0]);
    expect(r.method).toBe('mantel-haenszel-rd+sato-variance+wald-z+asymptotic-cs-normal-mixture(N*=5000)');
  });

  it('one stratum reduces exactly to the plain difference', () => {
    const plain = compareProportions({ x: 56, n: 70 }, { x: 48, n: 80 });
    const strat = compareStratified([stratum(56, 70, 48, 80)]);
    expect(strat).toMatchObject(plain);
    // Strata with an empty arm carry no information and do not change that.
    expect(compareStratified([stratum(56, 70, 48, 80), stratum(5, 10, 0, 0)])).toMatchObject(plain);
    expect(mantelHaenszelRiskDifference([stratum(56, 70, 48, 80)]).estimate).toBeCloseTo(0.2, 14);
  });

  it('with balanced arms the Sato variance of one stratum is the Wald variance', () => {
    const mh = mantelHaenszelRiskDifference([stratum(30, 100, 20, 100)]);
    expect(mh.variance).toBeCloseTo((0.3 * 0.7 + 0.2 * 0.8) / 100, 15);
  });

  it('stratification keeps a large 100%-like stage from swamping a small one (Simpson)', () => {
    // Within each stage the candidate is 5 points worse; pooled, it looks better because the
    // candidate's traffic sits mostly in the low-rate stage.
    const strata = [stratum(150, 1000, 10, 100), stratum(45, 100, 400, 1000)];
    const r = compareStratified(strata);
    expect(r.estimate).toBeCloseTo(0.05, 12);
    const crude = compareProportions({ x: 195, n: 1100 }, { x: 410, n: 1100 });
    expect(crude.estimate).toBeLessThan(0);
  });

  it('edge cases: nothing informative, no events anywhere', () => {
    expect(compareStratified([])).toMatchObject({ estimate: 0, ci: [-1, 1], pValue: 1, strata: 0 });
    expect(compareStratified([stratum(0, 0, 3, 10)])).toMatchObject({ ci: [-1, 1], alwaysValidPValue: 1 });
    const none = compareStratified([stratum(0, 50, 0, 50), stratum(0, 200, 0, 20)]);
    expect(none.method.startsWith('zero-variance-fallback:')).toBe(true);
    expect(none.pValue).toBe(1);
    expect(none.ci[1]).toBeGreaterThan(0);
  });
});

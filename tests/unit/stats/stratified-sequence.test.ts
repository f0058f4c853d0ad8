import { describe, expect, it } from 'vitest';
import {
  createRandom,
  differenceBound,
  differenceLogE,
  stratifiedBound,
  stratifiedInterval,
  stratifiedLowerLogE,
  stratifiedPValue,
  stratifiedRejects,
  type SequenceStratum,
} from '../../../src/domain/stats/index.js';

const design = { tuning: 500, center: 0.05 };

describe('stratified finite-sample sequence (strata = stages with a randomized control)', () => {
  it('with one planned stratum it is the plain two-arm sequence', () => {
    const s: SequenceStratum = { candidate: { x: 60, n: 300 }, control: { x: 270, n: 2700 }, share: 0.1 };
    expect(stratifiedLowerLogE([s], 0.05, design).logE).toBeCloseTo(
      differenceLogE(s.candidate, s.control, 0.05, 'lower', { share: 0.1, tuning: 500, center: 0.05 }).logE,
      12,
    );
    expect(stratifiedBound([s], 'lower', 0.05, design)).toBeCloseTo(
      differenceBound(s.candidate, s.control, 'lower', 0.05, { share: 0.1, tuning: 500, center: 0.05 }),
      6,
    );
  });

  it('strata with different base rates do not add up to a false breach (issue 15, case 2)', () => {
    // 10% stage at a 5% base rate, then 50% stage at 15%, identical arms: pooling read a 0.036 bound.
    const strata: SequenceStratum[] = [
      { candidate: { x: 50, n: 1000 }, control: { x: 450, n: 9000 }, share: 0.1 },
      { candidate: { x: 750, n: 5000 }, control: { x: 750, n: 5000 }, share: 0.5 },
    ];
    expect(stratifiedRejects(strata, 0.03, 'lower', 0.05, { tuning: 500, center: 0.03 })).toBe(false);
    const [lo, hi] = stratifiedInterval(strata, 0.05, { tuning: 500 });
    expect(lo).toBeLessThan(0);
    expect(hi).toBeGreaterThan(0);
  });

  it('a regression in one stage is not hidden by a stage where the candidate is better', () => {
    const strata: SequenceStratum[] = [
      { candidate: { x: 300, n: 3000 }, control: { x: 600, n: 3000 }, share: 0.5 }, // better by 0.10
      { candidate: { x: 120, n: 400 }, control: { x: 360, n: 3600 }, share: 0.1 }, // worse by 0.20
    ];
    expect(stratifiedRejects(strata, 0.05, 'lower', 0.05, design)).toBe(true);
    expect(stratifiedBound(strata, 'lower', 0.05, design)).toBeGreaterThan(0.05);
    // A pooled analysis of the same counts sees the candidate better overall.
    const pooled = { candidate: { x: 420, n: 3400 }, control: { x: 960, n: 6600 } };
    expect(pooled.candidate.x / pooled.candidate.n).toBeLessThan(pooled.control.x / pooled.control.n);
  });

  it('positive evidence (upper side) needs every stratum with data: a worse stage blocks it', () => {
    const good: SequenceStratum = { candidate: { x: 100, n: 2000 }, control: { x: 2000, n: 18000 }, share: 0.1 };
    const bad: SequenceStratum = { candidate: { x: 80, n: 400 }, control: { x: 360, n: 3600 }, share: 0.1 };
    expect(stratifiedRejects([good], 0.05, 'upper', 0.05, design)).toBe(true);
    expect(stratifiedRejects([good, bad], 0.05, 'upper', 0.05, design)).toBe(false);
    expect(stratifiedPValue([good, bad], 0.05, 'upper', design)).toBeGreaterThan(0.05);
    // A planned stage with no data yet neither helps nor blocks.
    const empty: SequenceStratum = { candidate: { x: 0, n: 0 }, control: { x: 0, n: 0 }, share: 0.5 };
    expect(stratifiedRejects([good, empty], 0.05, 'upper', 0.05, design)).toBe(true);
    expect(stratifiedBound([empty], 'lower', 0.05, design)).toBe(-1);
  });

  it('A/A over two strata with different rates and shares, checked every 20 candidate reviews: false breaches ≤ α', () => {
    const random = createRandom(99);
    const sequences = 200;
    let fired = 0;
    for (let s = 0; s < sequences; s++) {
      const a = { candidate: { x: 0, n: 0 }, control: { x: 0, n: 0 }, share: 0.1 };
      const b = { candidate: { x: 0, n: 0 }, control: { x: 0, n: 0 }, share: 0.5 };
      for (let look = 0; look < 100; look++) {
        for (const [st, p, batch] of [
          [a, 0.05, 200],
          [b, 0.3, 40],
        ] as const) {
          const k = random.binomial(batch, st.share);
          st.candidate = { x: st.candidate.x + random.binomial(k, p), n: st.candidate.n + k };
          st.control = { x: st.control.x + random.binomial(batch - k, p), n: st.control.n + batch - k };
        }
        if (look >= 5 && stratifiedRejects([a, b], 0, 'lower', 0.05, { tuning: 500, center: 0 })) {
          fired++;
          break;
        }
      }
    }
    expect(fired / sequences).toBeLessThanOrEqual(0.05 + 3 * Math.sqrt((0.05 * 0.95) / sequences));
  });
});

import { describe, expect, it } from 'vitest';
import {
  createRandom,
  reviewRateImbalance,
  sampleRatioMismatch,
  sequentialSrm,
  srmLogE,
  tenantReviewRateImbalance,
} from '../../../src/domain/stats/index.js';

/** Keys arrive one at a time in a stage; the check runs after each one, as often as the job could. */
function srmFalseAlarms(keys: number, share: number, sequences: number, seed: number): { sequential: number; chiSquare: number } {
  const random = createRandom(seed);
  let sequential = 0;
  let chi = 0;
  for (let s = 0; s < sequences; s++) {
    let c = 0;
    let t = 0;
    let seqHit = false;
    let chiHit = false;
    for (let k = 0; k < keys; k++) {
      if (random.next() < share) c++;
      else t++;
      // sequentialSrm's flag for one stage, without its exact test (display only) on every key.
      if (!seqHit && srmLogE(c, t, share) >= Math.log(1000)) seqHit = true;
      if (!chiHit && sampleRatioMismatch([{ expectedCandidateShare: share, candidate: c, control: t }]).mismatch) chiHit = true;
    }
    if (seqHit) sequential++;
    if (chiHit) chi++;
  }
  return { sequential: sequential / sequences, chiSquare: chi / sequences };
}

describe('sample ratio mismatch, sequential', () => {
  it('is the Beta(κπ, κ(1−π)) mixture: E = 1 with no keys, grows with a real mismatch', () => {
    expect(srmLogE(0, 0, 0.1)).toBeCloseTo(0, 12);
    expect(sequentialSrm([{ share: 0.1, candidate: 3, control: 7 }]).pValue).toBeCloseTo(Math.exp(-srmLogE(3, 7, 0.1)), 12);
    const ok = sequentialSrm([{ share: 0.1, candidate: 100, control: 900 }]);
    expect(ok.mismatch).toBe(false);
    expect(ok.stages[0]?.exactPValue).toBe(1);
    const bad = sequentialSrm([{ share: 0.1, candidate: 150, control: 850 }]);
    expect(bad.mismatch).toBe(true);
    expect(bad.stages[0]?.exactPValue).toBeLessThan(1e-5);
    expect(bad.observedCandidateShare).toBeCloseTo(0.15, 12);
  });

  it('skips 0% and 100% stages; stages not yet started count as e = 1 in the average', () => {
    const r = sequentialSrm([
      { share: 1, candidate: 40, control: 0 },
      { share: 0.1, candidate: 0, control: 0 },
    ]);
    expect(r.stages[0]).toBeNull();
    expect(r.pValue).toBe(1);
    const twoPlanned = sequentialSrm([{ share: 0.1, candidate: 150, control: 850 }], { plannedStages: 2 });
    const onePlanned = sequentialSrm([{ share: 0.1, candidate: 150, control: 850 }]);
    expect(twoPlanned.pValue).toBeCloseTo(Math.min(1, 2 * onePlanned.pValue), 6);
  });

  it('checked after every key, false alarms stay under 0.001 where the chi-square does not (issue 15, case 8)', () => {
    // 10 tenants at 5%, 20 at 10%, 50 at 1%: the chi-square at p < 0.001 on each look misfires.
    for (const [keys, share, seed] of [
      [20, 0.1, 1],
      [10, 0.05, 2],
      [50, 0.01, 3],
    ] as const) {
      const r = srmFalseAlarms(keys, share, 10000, seed);
      expect(r.sequential).toBeLessThanOrEqual(0.001 + 3 * Math.sqrt(0.001 / 10000));
      expect(r.chiSquare).toBeGreaterThan(r.sequential);
    }
    const many = srmFalseAlarms(2000, 0.5, 300, 4);
    expect(many.sequential).toBeLessThanOrEqual(0.001 + 3 * Math.sqrt(0.001 / 300));
  });
});

describe('review-rate imbalance per stratum', () => {
  it('flags a stratum whose arms are reviewed at different rates, not a pooled artefact', () => {
    // Each stage reviewed alike in both arms, at very different rates between stages.
    const balanced = reviewRateImbalance([
      { share: 1 / 3, candidate: { x: 900, n: 1000 }, control: { x: 1800, n: 2000 } },
      { share: 0.1, candidate: { x: 100, n: 1000 }, control: { x: 900, n: 9000 } },
    ]);
    expect(balanced.imbalance).toBe(false);
    const skewed = reviewRateImbalance([
      { share: 0.1, candidate: { x: 800, n: 1000 }, control: { x: 4500, n: 9000 } },
      { share: 0.5, candidate: { x: 500, n: 1000 }, control: { x: 500, n: 1000 } },
    ]);
    expect(skewed.imbalance).toBe(true);
    expect(skewed.pValues[0]).toBeLessThan(0.0005);
    expect(skewed.pValues[1]).toBe(1);
  });

  it('per tenant for tenant splits: tenants that review everything or nothing are not an imbalance', () => {
    const arm = (p: string) => Array.from({ length: 30 }, (_, i) => ({ tenant: `${p}${i}`, x: i % 3 === 0 ? 0 : 50, n: 50 }));
    const r = tenantReviewRateImbalance([{ candidate: arm('c'), control: arm('t') }]);
    expect(r.imbalance).toBe(false);
  });
});

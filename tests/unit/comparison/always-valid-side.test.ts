/**
 * alwaysValidSide (what the planner's verdict reads) decides exactly what the comparison's
 * always-valid interval says about 0, without computing the interval: checked on seeded random
 * counts, one and two randomized stages, near and far from a difference.
 */
import { describe, expect, it } from 'vitest';
import { alwaysValidSide, rateDifference, type StageArms } from '../../../src/domain/comparison/differences.js';
import { emptyCounts } from '../../../src/domain/metrics/counts.js';
import { createRandom } from '../../../src/domain/stats/random.js';

const arm = (reviewed: number, overridden: number) => ({ ...emptyCounts(), runs: reviewed, reviewed, overridden });

describe('alwaysValidSide', () => {
  it("agrees with the side of 0 of rateDifference's always-valid interval on 300 seeded cases", () => {
    const rng = createRandom(20261206);
    let sides = { above: 0, below: 0, zero: 0 };
    for (let i = 0; i < 300; i++) {
      const stages = 1 + rng.int(2);
      const strata: StageArms[] = Array.from({ length: stages }, (_, k) => {
        const share = [0.1, 0.5][rng.int(2)]!;
        const base = [0.02, 0.1, 0.3][rng.int(3)]!;
        const lift = [-0.08, 0, 0.05, 0.15][rng.int(4)]!;
        const n = 50 + rng.int(2000);
        const nc = Math.max(1, Math.round(n * share));
        const nt = Math.max(1, n - nc);
        return {
          stage: k,
          share,
          candidate: arm(nc, rng.binomial(nc, Math.min(1, Math.max(0, base + lift)))),
          control: arm(nt, rng.binomial(nt, base)),
        };
      });
      const opts = { alpha: 0.05, unit: 'run' as const, plannedStrata: stages };
      const [lo, hi] = rateDifference('overrideRate', strata, opts).alwaysValidCI;
      const expected = lo > 0 ? 1 : hi < 0 ? -1 : 0;
      expect(alwaysValidSide('overrideRate', strata, opts), JSON.stringify({ i, lo, hi })).toBe(expected);
      sides = {
        above: sides.above + Number(expected === 1),
        below: sides.below + Number(expected === -1),
        zero: sides.zero + Number(expected === 0),
      };
    }
    // The cases cover all three answers, so agreement is not agreement on "0" alone.
    expect(sides.above).toBeGreaterThan(10);
    expect(sides.below).toBeGreaterThan(10);
    expect(sides.zero).toBeGreaterThan(10);
  });
});

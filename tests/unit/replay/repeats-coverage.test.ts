/**
 * Seeded Monte Carlo evidence for the case as the unit of a replay's intervals
 * (src/domain/replay/case-unit.ts): with repeats, the repeats of a case are correlated (a hard
 * case is hard every time), so an interval that counts every result as independent covers the
 * true rate too rarely. The case-level intervals keep their coverage; the per-result ones, shown
 * beside them, do not. The truth is the rate over the population of cases the dataset samples.
 */
import { describe, expect, it } from 'vitest';
import type { ScoredResult } from '../../../src/domain/model/replay.js';
import { comparePaired, pairedBounds } from '../../../src/domain/replay/paired-comparison.js';
import { summarizeReplay } from '../../../src/domain/replay/summarize.js';
import { mcnemarExactPValue, pairedDifference } from '../../../src/domain/stats/mcnemar.js';
import { wilsonInterval } from '../../../src/domain/stats/proportions.js';
import { createRandom, type Random } from '../../../src/domain/stats/random.js';

const SIMULATIONS = 3000;
/** Two standard errors of a Monte Carlo proportion near 0.95 (or 0.05) over SIMULATIONS runs. */
const MC_SLACK = 2 * Math.sqrt((0.05 * 0.95) / SIMULATIONS);

const result = (caseId: string, repeat: number, overridden: boolean): ScoredResult => ({
  caseId,
  repeat,
  overridden,
  fields: overridden ? ['total'] : [],
  latencyMs: 1,
  errored: false,
});

describe('a replay with repeats: override-rate interval over cases (3,000 seeded datasets each)', () => {
  // Each case's own override probability is Beta(a, b): its repeats share it (intra-case correlation 1/(a + b + 1)).
  const scenarios = [
    { cases: 50, repeats: 2, a: 0.1, b: 0.9 }, // mean 0.1, correlation 0.5
    { cases: 50, repeats: 3, a: 0.3, b: 0.7 }, // mean 0.3, correlation 0.5
    { cases: 40, repeats: 3, a: 1.2, b: 2.8 }, // mean 0.3, correlation 0.2
  ];
  it.each(scenarios)('$cases cases × $repeats repeats, Beta($a, $b) per case', ({ cases, repeats, a, b }) => {
    const random = createRandom(606, repeats * 100 + cases);
    const truth = a / (a + b);
    let covered = 0;
    let coveredPerResult = 0;
    for (let s = 0; s < SIMULATIONS; s++) {
      const results: ScoredResult[] = [];
      let overridden = 0;
      for (let i = 0; i < cases; i++) {
        const p = random.beta(a, b);
        for (let r = 0; r < repeats; r++) {
          const o = random.next() < p;
          if (o) overridden++;
          results.push(result(String(i), r, o));
        }
      }
      const [lo, hi] = summarizeReplay(results, ['total'], repeats).overrideRateCI!;
      if (lo <= truth && truth <= hi) covered++;
      const [plo, phi] = wilsonInterval(overridden, cases * repeats);
      if (plo <= truth && truth <= phi) coveredPerResult++;
    }
    expect(covered / SIMULATIONS).toBeGreaterThanOrEqual(0.95 - MC_SLACK);
    // The interval over results, as before: repeats narrowed it without new cases.
    expect(coveredPerResult / SIMULATIONS).toBeLessThan(0.92);
  });
});

/**
 * Paired replays with repeats: cases of four kinds, each version's outcome per repeat drawn from
 * the kind's probability (repeats agree on easy and hard cases, so they are strongly correlated).
 */
function pairedReplays(random: Random, cases: number, repeats: number, kinds: readonly Kind[]): [ScoredResult[], ScoredResult[]] {
  const a: ScoredResult[] = [];
  const b: ScoredResult[] = [];
  for (let i = 0; i < cases; i++) {
    let u = random.next();
    const kind = kinds.find((k) => (u -= k.share) < 0) ?? kinds[kinds.length - 1]!;
    for (let r = 0; r < repeats; r++) {
      a.push(result(String(i), r, random.next() < kind.a));
      b.push(result(String(i), r, random.next() < kind.b));
    }
  }
  return [a, b];
}

interface Kind {
  share: number;
  /** P(overridden) under version a and under version b. */
  a: number;
  b: number;
}

const truthOf = (kinds: readonly Kind[]) => kinds.reduce((sum, k) => sum + k.share * (k.b - k.a), 0);

describe('paired replays with repeats: the case as the unit (3,000 seeded dataset pairs each)', () => {
  // 60 cases × 3 repeats: mostly easy, some hard for both, some the candidate breaks or fixes.
  const worse: Kind[] = [
    { share: 0.7, a: 0.02, b: 0.02 },
    { share: 0.15, a: 0.9, b: 0.9 },
    { share: 0.1, a: 0.1, b: 0.8 },
    { share: 0.05, a: 0.8, b: 0.1 },
  ];
  const same: Kind[] = [
    { share: 0.7, a: 0.02, b: 0.02 },
    { share: 0.1, a: 0.9, b: 0.9 },
    { share: 0.1, a: 0.1, b: 0.8 },
    { share: 0.1, a: 0.8, b: 0.1 },
  ];

  it('the 95% interval and the gate bound at alpha 0.05 keep their coverage', () => {
    const random = createRandom(1998);
    const truth = truthOf(worse);
    let covered = 0;
    let coveredPerPair = 0;
    let upperBelowTruth = 0;
    for (let s = 0; s < SIMULATIONS; s++) {
      const [a, b] = pairedReplays(random, 60, 3, worse);
      const c = comparePaired(a, b);
      if (c.difference.ci[0] <= truth && truth <= c.difference.ci[1]) covered++;
      const perPair = pairedDifference({
        both: c.bothOverridden,
        onlyFirst: c.onlyAOverridden,
        onlySecond: c.onlyBOverridden,
        neither: c.bothOk,
      });
      if (perPair.interval[0] <= truth && truth <= perPair.interval[1]) coveredPerPair++;
      // The gate passes when the upper bound is at most maxIncrease: it must not fall below the truth more than alpha.
      if (pairedBounds(c, 0.05).upper < truth) upperBelowTruth++;
    }
    expect(covered / SIMULATIONS).toBeGreaterThanOrEqual(0.95 - MC_SLACK);
    expect(upperBelowTruth / SIMULATIONS).toBeLessThanOrEqual(0.05 + MC_SLACK);
    expect(coveredPerPair / SIMULATIONS).toBeLessThan(0.9);
  });

  it("McNemar's p on the cases (the sign test) keeps its size when the versions do not differ", () => {
    const random = createRandom(1947);
    expect(truthOf(same)).toBeCloseTo(0, 12);
    let rejections = 0;
    let rejectionsPerPair = 0;
    for (let s = 0; s < SIMULATIONS; s++) {
      const [a, b] = pairedReplays(random, 60, 3, same);
      const c = comparePaired(a, b);
      if (c.mcnemarPValue < 0.05) rejections++;
      if (mcnemarExactPValue(c.onlyAOverridden, c.onlyBOverridden) < 0.05) rejectionsPerPair++;
    }
    expect(rejections / SIMULATIONS).toBeLessThanOrEqual(0.05 + MC_SLACK);
    expect(rejectionsPerPair / SIMULATIONS).toBeGreaterThan(0.1);
  });
});

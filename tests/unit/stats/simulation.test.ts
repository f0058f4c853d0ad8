/**
 * Monte Carlo check of the always-valid guarantee in the way the guardrails use it: a bound is
 * recomputed after every batch of runs, and a breach fires the first time it crosses. Seeded
 * (mulberry32), so the figures below are reproducible; the assertions leave room for Monte Carlo
 * error (±2 SE at 400 sequences is about ±0.02 around 0.05).
 */
import { describe, expect, it } from 'vitest';
import {
  alwaysValidDifferenceBound,
  alwaysValidProportionBound,
  newcombeBoundsAtZ,
  normalQuantile,
} from '../../../src/domain/stats/index.js';

/** mulberry32 (Tommy Ettinger, public domain): a small, fast, seedable 32-bit PRNG. */
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

const SEQUENCES = 400;
const BATCH = 20; // runs per arm between looks at an even split (2·BATCH runs per look)
const HORIZON = 3000; // looks × BATCH (runs per arm when the split is even): 150 looks
const ALPHA = 0.05;
const SLACK = 0.02;

interface Outcome {
  crossedShare: number;
  naiveShare: number;
  /** Runs per arm at the first crossing, for the sequences that crossed. */
  firstCrossing: number[];
}

/** override_rate guardrail with maxIncrease = 0: breach when the lower bound of c − t exceeds 0. */
function differenceSequences(pCandidate: number, pControl: number, seed: number, candidateShare = 0.5): Outcome {
  const rand = mulberry32(seed);
  const zFixed = normalQuantile(1 - ALPHA);
  let crossed = 0;
  let naive = 0;
  const firstCrossing: number[] = [];
  // Each look adds 2·BATCH runs, split between the arms by candidateShare (a 10% stage: 0.1).
  const nc = Math.round(2 * BATCH * candidateShare);
  const nt = 2 * BATCH - nc;
  for (let s = 0; s < SEQUENCES; s++) {
    let xc = 0;
    let xt = 0;
    let n = 0;
    let hit = false;
    let naiveHit = false;
    while (n < HORIZON && !(hit && naiveHit)) {
      for (let i = 0; i < nc; i++) if (rand() < pCandidate) xc++;
      for (let i = 0; i < nt; i++) if (rand() < pControl) xt++;
      n += BATCH;
      const looks = n / BATCH;
      const [n1, n0] = [looks * nc, looks * nt];
      if (!hit && alwaysValidDifferenceBound(xc, n1, xt, n0, 'lower', { alpha: ALPHA }).bound > 0) {
        hit = true;
        firstCrossing.push(n);
      }
      // The mistake the sequence exists to prevent: a fixed-horizon 95% bound checked at every look.
      if (!naiveHit && newcombeBoundsAtZ(xc, n1, xt, n0, zFixed).interval[0] > 0) naiveHit = true;
    }
    if (hit) crossed++;
    if (naiveHit) naive++;
  }
  return { crossedShare: crossed / SEQUENCES, naiveShare: naive / SEQUENCES, firstCrossing: firstCrossing.sort((a, b) => a - b) };
}

/** error_rate guardrail with `max`: breach when the lower bound of the candidate's rate exceeds max. */
function proportionSequences(p: number, max: number, seed: number): Omit<Outcome, 'naiveShare'> {
  const rand = mulberry32(seed);
  let crossed = 0;
  const firstCrossing: number[] = [];
  for (let s = 0; s < SEQUENCES; s++) {
    let x = 0;
    for (let n = BATCH; n <= HORIZON; n += BATCH) {
      for (let i = 0; i < BATCH; i++) if (rand() < p) x++;
      if (alwaysValidProportionBound(x, n, 'lower', { alpha: ALPHA }) > max) {
        crossed++;
        firstCrossing.push(n);
        break;
      }
    }
  }
  return { crossedShare: crossed / SEQUENCES, firstCrossing: firstCrossing.sort((a, b) => a - b) };
}

describe('always-valid bounds under continuous monitoring (simulation)', () => {
  it('A/A on the difference: the one-sided bound crosses 0 in under alpha of the sequences', () => {
    const aa = differenceSequences(0.1, 0.1, 1);
    // Observed with this seed: 0.0275 (always-valid) vs 0.305 (fixed-horizon bound peeked at).
    expect(aa.crossedShare).toBeLessThanOrEqual(ALPHA + SLACK);
    expect(aa.naiveShare).toBeGreaterThan(0.2);
  });

  it('A/A with unequal arms (a 10% stage): still under alpha', () => {
    const aa = differenceSequences(0.1, 0.1, 11, 0.1);
    expect(aa.crossedShare).toBeLessThanOrEqual(ALPHA + SLACK); // observed 0.0275 (fixed-horizon: 0.3675)
    expect(aa.naiveShare).toBeGreaterThan(ALPHA + SLACK);
  });

  it('a real difference (0.20 vs 0.10) is caught in every sequence within 1000 runs per arm', () => {
    const real = differenceSequences(0.2, 0.1, 4);
    expect(real.crossedShare).toBe(1);
    // Observed: median 300, worst 880 runs per arm.
    expect(real.firstCrossing[Math.floor(real.firstCrossing.length / 2)]!).toBeLessThanOrEqual(500);
    expect(real.firstCrossing.at(-1)!).toBeLessThanOrEqual(1000);
  });

  it('single proportion at exactly the limit: the lower bound exceeds `max` in under alpha of the sequences', () => {
    const atLimit = proportionSequences(0.05, 0.05, 5);
    expect(atLimit.crossedShare).toBeLessThanOrEqual(ALPHA + SLACK); // observed 0.0175
    const breach = proportionSequences(0.1, 0.05, 7);
    expect(breach.crossedShare).toBe(1); // observed: median 320, worst 800 runs
    expect(breach.firstCrossing.at(-1)!).toBeLessThanOrEqual(1000);
  });
});

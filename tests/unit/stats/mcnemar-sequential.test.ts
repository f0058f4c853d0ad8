/**
 * Monte Carlo check of the always-valid paired statistics the way the shadow comparison and its
 * gate use them: recomputed after every scored pair, acting the first time they cross. Seeded
 * (mulberry32), so the figures are reproducible; the bounds leave room for Monte Carlo error
 * (±2 SE at 800 sequences is about ±0.015 around 0.05).
 */
import { describe, expect, it } from 'vitest';
import { mcnemarExactPValue } from '../../../src/domain/stats/mcnemar.js';
import {
  betaMixtureShape,
  logMcNemarEValue,
  pairedDifferenceCapital,
  pairedDifferenceSequence,
} from '../../../src/domain/stats/mcnemar-sequential.js';

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

const SEQUENCES = 800;
const HORIZON = 1200; // pairs per sequence, each one a look
const ALPHA = 0.05;
const SLACK = 0.015;

/** Cell probabilities of one pair: only the control overridden, only the candidate. */
type PairModel = (rand: () => number) => { onlyControl: number; onlyCandidate: number };

/** Draws a pair: 0 concordant, −1 only control overridden, +1 only candidate. */
function draw(rand: () => number, p: { onlyControl: number; onlyCandidate: number }): -1 | 0 | 1 {
  const u = rand();
  if (u < p.onlyControl) return -1;
  if (u < p.onlyControl + p.onlyCandidate) return 1;
  return 0;
}

interface Run {
  /** Share of sequences whose always-valid p went below alpha at some look. */
  sequential: number;
  /** The same for the fixed-horizon exact test looked at after every pair. */
  naive: number;
  /** Share whose confidence sequence excluded the true difference at some look. */
  csMiss: number;
}

function simulate(model: PairModel, trueDelta: number, seed: number): Run {
  const rand = mulberry32(seed);
  const shape = betaMixtureShape(ALPHA, 100);
  const logThreshold = Math.log(1 / ALPHA);
  const csThreshold = Math.log(2 / ALPHA);
  let sequential = 0;
  let naive = 0;
  let csMiss = 0;
  for (let s = 0; s < SEQUENCES; s++) {
    let b = 0;
    let c = 0;
    let seqHit = false;
    let naiveHit = false;
    let missed = false;
    for (let n = 1; n <= HORIZON; n++) {
      const d = draw(rand, model(rand));
      if (d === -1) b++;
      else if (d === 1) c++;
      if (d !== 0) {
        // Both p-values change only when a discordant pair arrives.
        if (!seqHit && logMcNemarEValue(b, c, shape) >= logThreshold) seqHit = true;
        if (!naiveHit && mcnemarExactPValue(b, c) <= ALPHA) naiveHit = true;
      }
      if (!missed) {
        const k = pairedDifferenceCapital(b, c, n, trueDelta);
        if (k.up >= csThreshold || k.down >= csThreshold) missed = true;
      }
    }
    if (seqHit) sequential++;
    if (naiveHit) naive++;
    if (missed) csMiss++;
  }
  return { sequential: sequential / SEQUENCES, naive: naive / SEQUENCES, csMiss: csMiss / SEQUENCES };
}

describe('always-valid paired statistics under continual monitoring', () => {
  it('an identical candidate: false alarms stay below alpha, where the exact test looked at each pair does not', () => {
    const r = simulate(() => ({ onlyControl: 0.1, onlyCandidate: 0.1 }), 0, 17);
    // Measured (seed 17): sequential 0.030, naive 0.30, CS misses 0.031.
    expect(r.sequential).toBeLessThanOrEqual(ALPHA + SLACK);
    expect(r.csMiss).toBeLessThanOrEqual(ALPHA + SLACK);
    expect(r.naive).toBeGreaterThan(0.15);
  });

  it('pairs that differ from each other (easy and hard documents) keep the guarantee', () => {
    // Half the calls rarely disagree, half often; within each pair both kinds are equally likely.
    const r = simulate(
      (rand) => (rand() < 0.5 ? { onlyControl: 0.02, onlyCandidate: 0.02 } : { onlyControl: 0.3, onlyCandidate: 0.3 }),
      0,
      23,
    );
    // Measured (seed 23): sequential 0.023, CS misses 0.030.
    expect(r.sequential).toBeLessThanOrEqual(ALPHA + SLACK);
    expect(r.csMiss).toBeLessThanOrEqual(ALPHA + SLACK);
  });

  it('a worse candidate: the sequence keeps covering the true difference, and the test finds it', () => {
    // Candidate − control = 0.12 − 0.06 = 0.06.
    const r = simulate(() => ({ onlyControl: 0.06, onlyCandidate: 0.12 }), 0.06, 29);
    expect(r.csMiss).toBeLessThanOrEqual(ALPHA + SLACK);
    // Power within 1,200 pairs (≈ 215 discordant): measured 0.984 at seed 29; CS misses 0.038.
    expect(r.sequential).toBeGreaterThan(0.75);
  });

  it('the interval excludes a difference exactly when a capital at it crosses 2/alpha', () => {
    const threshold = Math.log(2 / ALPHA);
    for (const [b, c, n] of [
      [10, 30, 200],
      [40, 45, 500],
      [0, 12, 40],
    ] as const) {
      const { ci } = pairedDifferenceSequence(b, c, n);
      for (const delta of [ci[0] - 1e-6, ci[1] + 1e-6]) {
        if (delta <= -1 || delta >= 1) continue;
        const k = pairedDifferenceCapital(b, c, n, delta);
        expect(Math.max(k.up, k.down)).toBeGreaterThanOrEqual(threshold - 1e-6);
      }
      for (const delta of [ci[0] + 1e-4, (ci[0] + ci[1]) / 2, ci[1] - 1e-4]) {
        const k = pairedDifferenceCapital(b, c, n, delta);
        expect(Math.max(k.up, k.down)).toBeLessThan(threshold);
      }
    }
  });
});

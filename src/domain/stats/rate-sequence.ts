/**
 * Finite-sample confidence sequence for ONE Bernoulli rate, one-sided or two-sided: a guardrail's
 * `max` on the candidate's error rate, and the share of candidate runs slower than a latency limit.
 *
 * The e-process for H₀: p ≤ p₀ is the upward one-sided mixture of bernoulli-mixture.ts at p₀
 * (a supermartingale under every p ≤ p₀); for H₀: p ≥ p₀ the downward one. Its mixing scale is
 * fixed by the design (the limit the guardrail compares with, and a tuning), never by the data,
 * so the e-process decreases in p₀ and the bound L = sup{p₀ : E(p₀) ≥ 1/α} comes by bisection;
 * P(∃n: p < L_n) ≤ α by Ville's inequality, exactly, for Bernoulli data (Howard et al. 2021).
 * Why this and not the beta-binomial (conjugate) mixture: the same guarantee, but the tilt
 * mixture is monotone in p₀ by construction and shares its code and tuning with the two-arm
 * sequences, so one `method` name describes every guardrail.
 */
import { logMixtureValue, mixtureScale, tiltMixture } from './bernoulli-mixture.js';
import type { BoundSide, Interval } from './types.js';

export interface RateDesign {
  /** The rate the sequence is designed around: a guardrail's `max` (or 0.05 for the slow share). */
  readonly center: number;
  /** Observations at which it is tightest (raised for rare events, see `rateTuning`). */
  readonly tuning: number;
}

/** Rare events need more trials to say anything: tuning ≥ 30 expected events at the center. */
const MIN_EVENTS = 30;

function scaleOf(design: RateDesign): number {
  const c = Math.min(Math.max(design.center, 1e-6), 1 - 1e-6);
  const tuning = Math.max(design.tuning, MIN_EVENTS / Math.min(c, 1 - c));
  return mixtureScale(c, tuning);
}

export function rateSequenceName(design: RateDesign): string {
  return `finite-sample-cs:one-sided-bernoulli-mixture(tuning=${design.tuning},center=${design.center})`;
}

/** ln E of H₀ (`lower`: p ≤ p₀, evidence for a higher rate; `upper`: p ≥ p₀). x may be fractional. */
export function rateLogE(x: number, n: number, p0: number, side: BoundSide, design: RateDesign): number {
  if (!(x >= 0 && n >= 0 && x <= n) || !Number.isFinite(n)) throw new RangeError(`invalid count: x=${x}, n=${n}`);
  if (!(p0 >= 0 && p0 <= 1)) throw new RangeError(`p0 must be in [0, 1], got ${p0}`);
  if (n === 0) return 0;
  const m = tiltMixture(scaleOf(design), side === 'lower' ? 'up' : 'down');
  return logMixtureValue(m, x, n, p0);
}

/** Does the level-α sequence reject H₀(p₀) on `side`? */
export function rateRejects(x: number, n: number, p0: number, side: BoundSide, alpha: number, design: RateDesign): boolean {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  return rateLogE(x, n, p0, side, design) >= -Math.log(alpha);
}

/** Always-valid p-value of H₀(p₀) on `side`: min(1, 1/E). */
export function ratePValue(x: number, n: number, p0: number, side: BoundSide, design: RateDesign): number {
  return Math.min(1, Math.exp(-rateLogE(x, n, p0, side, design)));
}

/**
 * One-sided bound at level α: `lower` is L with p ≥ L at every look (probability ≥ 1 − α).
 * The design's center is tested exactly first, so "L > center" agrees with `rateRejects` there.
 * n = 0 → 0 (lower) or 1 (upper).
 */
export function rateBound(x: number, n: number, side: BoundSide, alpha: number, design: RateDesign): number {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  if (!(x >= 0 && n >= 0 && x <= n)) throw new RangeError(`invalid count: x=${x}, n=${n}`);
  const none = side === 'lower' ? 0 : 1;
  if (n === 0) return none;
  const threshold = -Math.log(alpha);
  const rejects = (p: number) => rateLogE(x, n, p, side, design) >= threshold;
  const estimate = x / n;
  let rejected = none;
  let inside = estimate;
  if (!rejects(rejected)) return none;
  const pivot = design.center;
  if (side === 'lower' ? pivot < estimate && pivot > 0 : pivot > estimate && pivot < 1) {
    if (rejects(pivot)) rejected = pivot;
    else inside = pivot;
  }
  while (Math.abs(inside - rejected) > 1e-9) {
    const mid = 0.5 * (inside + rejected);
    if (rejects(mid)) rejected = mid;
    else inside = mid;
  }
  return rejected;
}

/** Two-sided sequence at level α (each side at α/2). */
export function rateInterval(x: number, n: number, alpha: number, design: RateDesign): Interval {
  return [rateBound(x, n, 'lower', alpha / 2, design), rateBound(x, n, 'upper', alpha / 2, design)];
}

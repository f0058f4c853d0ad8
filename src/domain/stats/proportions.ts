/**
 * Fixed-horizon inference for binomial proportions: the Wilson score interval for one
 * proportion, Newcombe's hybrid score interval for a difference, and the pooled two-proportion
 * z-test. These are the contract's `overrideRateCI`, `difference.*.ci` and `difference.*.pValue`.
 */
import { normalSf, twoSidedCriticalValue } from './normal.js';
import type { Interval } from './types.js';

/** Throws unless 0 ≤ x ≤ n and both are finite: counts come from our own read models. */
export function assertCount(x: number, n: number): void {
  if (!Number.isFinite(x) || !Number.isFinite(n) || n < 0 || x < 0 || x > n) {
    throw new RangeError(`invalid binomial count: x=${x}, n=${n}`);
  }
}

/**
 * Wilson score bounds at an arbitrary multiplier z: the set of p with
 * |p̂ − p| ≤ z·√(p(1−p)/n), i.e. the inversion of the score test (Wilson 1927, JASA 22:209).
 * Written for any z so that the always-valid bounds can reuse it with their mixture boundary.
 * n = 0 carries no information: [0, 1].
 */
export function wilsonScoreBounds(x: number, n: number, z: number): Interval {
  assertCount(x, n);
  if (n === 0) return [0, 1];
  const p = x / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // At x = 0 (x = n) the lower (upper) bound is exactly 0 (1); rounding can miss by an ulp.
  const lower = x === 0 ? 0 : Math.max(0, center - half);
  const upper = x === n ? 1 : Math.min(1, center + half);
  return [lower, upper];
}

/**
 * Wilson score interval for a single proportion (Wilson 1927), the interval recommended by
 * Newcombe 1998 (Stat Med 17:857, "method 3") and by Brown, Cai & DasGupta 2001.
 * n = 0 → [0, 1].
 */
export function wilsonInterval(x: number, n: number, confidence = 0.95): Interval {
  return wilsonScoreBounds(x, n, twoSidedCriticalValue(confidence));
}

/**
 * Newcombe's hybrid score interval at an arbitrary multiplier z, from the Wilson bounds
 * [l_i, u_i] of each arm (Newcombe 1998, Stat Med 17:873, "method 10"):
 *   lower = d − √((p̂₁ − l₁)² + (u₂ − p̂₂)²),  upper = d + √((u₁ − p̂₁)² + (p̂₂ − l₂)²),
 * with d = p̂₁ − p̂₂. This is the "square-and-add" (MOVER) construction of Zou & Donner 2008.
 * Sign convention: arm 1 minus arm 2; our callers pass candidate as arm 1, control as arm 2.
 * An empty arm leaves the difference unidentified: estimate 0, interval [−1, 1].
 */
export function newcombeBoundsAtZ(x1: number, n1: number, x2: number, n2: number, z: number): { estimate: number; interval: Interval } {
  assertCount(x1, n1);
  assertCount(x2, n2);
  if (n1 === 0 || n2 === 0) return { estimate: 0, interval: [-1, 1] };
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const [l1, u1] = wilsonScoreBounds(x1, n1, z);
  const [l2, u2] = wilsonScoreBounds(x2, n2, z);
  const d = p1 - p2;
  const lower = d - Math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2);
  const upper = d + Math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2);
  return { estimate: d, interval: [Math.max(-1, lower), Math.min(1, upper)] };
}

/**
 * Confidence interval for p₁ − p₂ by Newcombe's hybrid score method (method 10).
 * Sign: arm 1 minus arm 2 — callers pass candidate first, so it reads candidate − control.
 * Either arm empty → [−1, 1].
 */
export function newcombeDifference(x1: number, n1: number, x2: number, n2: number, confidence = 0.95): Interval {
  return newcombeBoundsAtZ(x1, n1, x2, n2, twoSidedCriticalValue(confidence)).interval;
}

/**
 * Two-sided pooled two-proportion z-test of p₁ = p₂:
 *   z = (p̂₁ − p̂₂) / √(p̄(1 − p̄)(1/n₁ + 1/n₂)),  p̄ = (x₁ + x₂)/(n₁ + n₂),
 * equivalent to Pearson's chi-square test on the 2×2 table without continuity correction.
 * Degenerate cases carry no evidence and give p = 1: an empty arm, or p̄ ∈ {0, 1}
 * (no events at all, or only events), where the statistic is 0/0.
 */
export function twoProportionZTest(x1: number, n1: number, x2: number, n2: number): { z: number; pValue: number } {
  assertCount(x1, n1);
  assertCount(x2, n2);
  if (n1 === 0 || n2 === 0) return { z: 0, pValue: 1 };
  const pooled = (x1 + x2) / (n1 + n2);
  const variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2);
  if (!(variance > 0)) return { z: 0, pValue: 1 };
  const z = (x1 / n1 - x2 / n2) / Math.sqrt(variance);
  return { z, pValue: Math.min(1, 2 * normalSf(Math.abs(z))) };
}

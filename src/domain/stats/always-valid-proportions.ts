/**
 * Always-valid intervals and bounds for proportions and differences of proportions.
 *
 * These use the normal-mixture boundary of sequential.ts (Waudby-Smith et al. 2023, the one
 * GrowthBook's sequential engine uses) but apply its multiplier k in score form rather than
 * Wald form: the Wilson interval with z replaced by k for one proportion, and Newcombe's hybrid
 * score (square-and-add) interval with z replaced by k for a difference. Why: the Wald form
 * p̂ ± k·√(p̂(1−p̂)/n) collapses to a point when p̂ is 0 or 1, which is exactly where a canary sits
 * (no errors yet, no overrides yet) — a guardrail would then "prove" a zero error rate after a
 * handful of runs. The score form inverts the test with the variance under each candidate value
 * of p, as Wilson (1927) does for fixed n, so it never degenerates; asymptotically both forms
 * coincide, so the time-uniform guarantee carries over unchanged. Being nested in k, each interval
 * contains the fixed-horizon Wilson/Newcombe interval, since k exceeds z_{1−α/2} (z_{1−α}).
 *
 * The effective sample size of a difference is n₁ + n₂, as in GrowthBook's two-sample test.
 */
import { newcombeBoundsAtZ, wilsonScoreBounds, assertCount } from './proportions.js';
import { alwaysValidMultiplier, alwaysValidPValueAt } from './sequential.js';
import type { BoundSide, Interval, SequentialOptions } from './types.js';

/** Largest multiplier searched; exp(−z²/2) underflows long before z = 80. */
const Z_MAX = 80;

/** Two-sided always-valid Wilson-type interval for one proportion; n = 0 → [0, 1]. */
export function alwaysValidProportionInterval(x: number, n: number, options?: SequentialOptions): Interval {
  assertCount(x, n);
  if (n === 0) return [0, 1];
  return wilsonScoreBounds(x, n, alwaysValidMultiplier(n, 2, options));
}

/**
 * One-sided always-valid bound for one proportion (the guardrail's `max` on the candidate's
 * error rate, or the share of slow runs against 5%): `lower` is L with p ≥ L at every look with
 * probability ≥ 1 − α. n = 0 → 0 (lower) or 1 (upper).
 */
export function alwaysValidProportionBound(x: number, n: number, side: BoundSide, options?: SequentialOptions): number {
  assertCount(x, n);
  if (n === 0) return side === 'lower' ? 0 : 1;
  const [lower, upper] = wilsonScoreBounds(x, n, alwaysValidMultiplier(n, 1, options));
  return side === 'lower' ? lower : upper;
}

/**
 * The multiplier z* at which a monotone bound g(z) (g(0) > 0, decreasing in z) reaches 0,
 * by bisection; Z_MAX if it never does within range (overwhelming evidence).
 */
function crossingMultiplier(g: (z: number) => number): number {
  if (g(Z_MAX) > 0) return Z_MAX;
  let lo = 0;
  let hi = Z_MAX;
  for (let i = 0; i < 200 && hi - lo > 1e-13 * hi; i++) {
    const mid = 0.5 * (lo + hi);
    if (g(mid) > 0) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

/**
 * Two-sided always-valid interval for p₁ − p₂ (arm 1 minus arm 2: pass candidate first) and its
 * p-value: the smallest α at which the interval, with ρ fixed at the value tuned for
 * `options.alpha`, excludes 0; found by bisection on the multiplier and mapped to α in closed form.
 * An empty arm → [−1, 1], p = 1.
 */
export function alwaysValidDifference(
  x1: number,
  n1: number,
  x2: number,
  n2: number,
  options?: SequentialOptions,
): { estimate: number; ci: Interval; pValue: number } {
  assertCount(x1, n1);
  assertCount(x2, n2);
  if (n1 === 0 || n2 === 0) return { estimate: 0, ci: [-1, 1], pValue: 1 };
  const n = n1 + n2;
  const { estimate, interval } = newcombeBoundsAtZ(x1, n1, x2, n2, alwaysValidMultiplier(n, 2, options));
  if (estimate === 0) return { estimate, ci: interval, pValue: 1 };
  const toward = estimate > 0 ? 0 : 1;
  const sign = estimate > 0 ? 1 : -1;
  const zStar = crossingMultiplier((z) => sign * newcombeBoundsAtZ(x1, n1, x2, n2, z).interval[toward]);
  return { estimate, ci: interval, pValue: alwaysValidPValueAt(zStar, n, 2, options) };
}

/**
 * One-sided always-valid bound for p₁ − p₂ (candidate − control when candidate is passed first).
 * `lower` answers "is the candidate worse by more than m?" (breach when bound > m); `upper`
 * answers "is it at most m worse?" (safe to advance when bound < m). The p-value is the smallest
 * α at which the bound passes 0 on its side. An empty arm → −1 (lower) or 1 (upper), p = 1.
 */
export function alwaysValidDifferenceBound(
  x1: number,
  n1: number,
  x2: number,
  n2: number,
  side: BoundSide,
  options?: SequentialOptions,
): { estimate: number; bound: number; pValue: number } {
  assertCount(x1, n1);
  assertCount(x2, n2);
  if (n1 === 0 || n2 === 0) return { estimate: 0, bound: side === 'lower' ? -1 : 1, pValue: 1 };
  const n = n1 + n2;
  const index = side === 'lower' ? 0 : 1;
  const { estimate, interval } = newcombeBoundsAtZ(x1, n1, x2, n2, alwaysValidMultiplier(n, 1, options));
  const bound = interval[index];
  const sign = side === 'lower' ? 1 : -1;
  if (!(sign * estimate > 0)) return { estimate, bound, pValue: 1 };
  const zStar = crossingMultiplier((z) => sign * newcombeBoundsAtZ(x1, n1, x2, n2, z).interval[index]);
  return { estimate, bound, pValue: alwaysValidPValueAt(zStar, n, 1, options) };
}

/**
 * Paired binary outcomes: the same cases scored under two versions (a replay of each on one
 * dataset, or a control call and its shadow). Only the discordant cases carry information about
 * the difference, which is what makes a paired comparison far tighter than two independent arms.
 *
 * - McNemar's exact test (McNemar 1947, Psychometrika 12:153; exact conditional form): given
 *   b + c discordant pairs, b ~ Binomial(b + c, 1/2) under "no difference". The two-sided p-value
 *   is the one R's `binom.test(b, b + c)` and `exact2x2::mcnemar.exact` report:
 *   min(1, 2·P(X ≤ min(b, c))).
 * - The interval for the difference of the paired proportions is Newcombe's square-and-add
 *   (hybrid score) interval for paired data (Newcombe 1998, Stat Med 17:2635, "method 10"), with
 *   the continuity-corrected correlation φ as in Fagerland, Lydersen & Laake, "Statistical Analysis
 *   of Contingency Tables" (2017), §8.5: Wilson bounds of each margin combined with the
 *   correlation between the two estimates, so it never leaves [−1, 1] and behaves at 0 or n
 *   discordant pairs, where the Wald interval collapses.
 */
import { logGamma } from './gamma.js';
import { normalQuantile, twoSidedCriticalValue } from './normal.js';
import { wilsonScoreBounds } from './proportions.js';
import type { Interval } from './types.js';

/**
 * A paired 2×2 table of "events" (here: the human would have overridden) under two versions,
 * named first and second: the difference reads second − first.
 */
export interface PairedTable {
  /** Event under both. */
  readonly both: number;
  /** Event under the first only. */
  readonly onlyFirst: number;
  /** Event under the second only. */
  readonly onlySecond: number;
  /** Event under neither. */
  readonly neither: number;
}

export interface PairedDifference {
  readonly pairs: number;
  /** Rate of events under the second minus under the first: (onlySecond − onlyFirst) / pairs. */
  readonly estimate: number;
  readonly interval: Interval;
}

function assertTable(t: PairedTable): number {
  for (const v of [t.both, t.onlyFirst, t.onlySecond, t.neither]) {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`invalid paired count: ${v}`);
  }
  return t.both + t.onlyFirst + t.onlySecond + t.neither;
}

/**
 * P(X ≤ k) for X ~ Binomial(n, 1/2). Up to n = 1000, summed upwards from pmf(0) = 2⁻ⁿ (exact in
 * binary) with pmf(i+1) = pmf(i)·(n−i)/(i+1); beyond, where 2⁻ⁿ nears underflow, summed downwards
 * from the largest term of the tail (k ≤ n/2, its log from ln Γ) until the terms stop mattering.
 */
export function binomialHalfCdf(k: number, n: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  if (2 * k > n) return 1 - binomialHalfCdf(n - k - 1, n);
  let sum = 0;
  if (n <= 1000) {
    let term = 2 ** -n;
    for (let i = 0; i <= k; i++) {
      sum += term;
      term = (term * (n - i)) / (i + 1);
    }
    return Math.min(1, sum);
  }
  let term = Math.exp(logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1) - n * Math.LN2);
  for (let i = k; i >= 0; i--) {
    sum += term;
    if (term < sum * 1e-17) break;
    term *= i / (n - i + 1);
  }
  return Math.min(1, sum);
}

/**
 * Two-sided exact McNemar p-value from the discordant counts. No discordant pair: no evidence, 1.
 * Golden values in tests/unit/stats/mcnemar.test.ts are exact fractions (R: binom.test).
 */
export function mcnemarExactPValue(onlyFirst: number, onlySecond: number): number {
  if (!Number.isSafeInteger(onlyFirst) || !Number.isSafeInteger(onlySecond) || onlyFirst < 0 || onlySecond < 0) {
    throw new RangeError(`invalid discordant counts: ${onlyFirst}, ${onlySecond}`);
  }
  const n = onlyFirst + onlySecond;
  // Balanced counts (|b − c| ≤ 1): the smaller tail holds at least half the mass.
  if (n === 0 || Math.abs(onlyFirst - onlySecond) <= 1) return 1;
  return Math.min(1, 2 * binomialHalfCdf(Math.min(onlyFirst, onlySecond), n));
}

/**
 * Newcombe's paired square-and-add interval at multiplier z (see the file comment). In the
 * table's orientation p₁ is the second version's event rate and p₂ the first's, so the
 * estimate is second − first. No pairs: estimate 0, interval [−1, 1].
 */
export function pairedDifferenceAtZ(t: PairedTable, z: number): PairedDifference {
  const n = assertTable(t);
  if (n === 0) return { pairs: 0, estimate: 0, interval: [-1, 1] };
  const x1 = t.both + t.onlySecond; // events under the second
  const x2 = t.both + t.onlyFirst; // events under the first
  const p1 = x1 / n;
  const p2 = x2 / n;
  const [l1, u1] = wilsonScoreBounds(x1, n, z);
  const [l2, u2] = wilsonScoreBounds(x2, n, z);
  // φ̂: correlation of the two margins, shrunk by n/2 towards 0 when positive (Newcombe's
  // continuity correction of the cross-product); 0 when a margin is empty.
  let phi = 0;
  if (x1 > 0 && x1 < n && x2 > 0 && x2 < n) {
    const cross = t.both * t.neither - t.onlySecond * t.onlyFirst;
    const norm = Math.sqrt(x1 * (n - x1) * x2 * (n - x2));
    phi = cross > n / 2 ? (cross - n / 2) / norm : cross >= 0 ? 0 : cross / norm;
  }
  const d = p1 - p2;
  const dl1 = p1 - l1;
  const du2 = u2 - p2;
  const dl2 = p2 - l2;
  const du1 = u1 - p1;
  const lower = d - Math.sqrt(Math.max(0, dl1 * dl1 + du2 * du2 - 2 * phi * dl1 * du2));
  const upper = d + Math.sqrt(Math.max(0, dl2 * dl2 + du1 * du1 - 2 * phi * dl2 * du1));
  return { pairs: n, estimate: d, interval: [Math.max(-1, lower), Math.min(1, upper)] };
}

/** Two-sided interval at `confidence` (default 95%). */
export function pairedDifference(t: PairedTable, confidence = 0.95): PairedDifference {
  return pairedDifferenceAtZ(t, twoSidedCriticalValue(confidence));
}

/**
 * One-sided bounds at level alpha each: the lower bound holds with probability ≥ 1 − alpha, and
 * so does the upper. A gate decides with them: pass when the upper bound is at most the allowed
 * increase, fail when the lower bound is above it (the two cannot both happen).
 */
export function pairedDifferenceBounds(t: PairedTable, alpha: number): PairedDifference {
  if (!(alpha > 0 && alpha < 0.5)) throw new RangeError(`alpha must be in (0, 0.5), got ${alpha}`);
  return pairedDifferenceAtZ(t, normalQuantile(1 - alpha));
}

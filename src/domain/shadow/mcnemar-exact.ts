/**
 * McNemar's exact test (McNemar 1947, Psychometrika 12:153) on the discordant pairs of a paired
 * 2×2 table: under "no difference" (marginal homogeneity), a pair that is discordant is equally
 * likely to be either kind, so the count of one kind among n discordant pairs is Binomial(n, ½).
 * The two-sided p-value doubles the smaller tail: p = min(1, 2·P(X ≤ min(b, c))), the form used
 * by R's `mcnemar.exact` (exact2x2, "central") and by statsmodels' `mcnemar(exact=True)`.
 *
 * This is the fixed-horizon test: valid when looked at once. The shadow comparison also reports
 * an always-valid version (src/domain/stats/mcnemar-sequential.ts) for repeated looks.
 */
import { logGamma } from '../stats/gamma.js';

/** Relative size below which the remaining terms of a tail sum cannot change a double. */
const NEGLIGIBLE = 1e-17;

function assertCount(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative integer, got ${v}`);
}

/** ln C(n, k). */
function logChoose(n: number, k: number): number {
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
}

/**
 * ln P(X ≤ k) for X ~ Binomial(n, ½). Summed from k downward in the scale of the term at k (each
 * term is the one above times i/(n − i + 1)), so no term under- or overflows whatever n is.
 */
export function logBinomialHalfCdf(k: number, n: number): number {
  assertCount('n', n);
  if (k < 0) return Number.NEGATIVE_INFINITY;
  if (k >= n) return 0;
  k = Math.floor(k);
  let term = 1;
  let sum = 1;
  for (let i = k; i > 0; i--) {
    term *= i / (n - i + 1);
    sum += term;
    if (term < NEGLIGIBLE * sum) break;
  }
  return logChoose(n, k) - n * Math.LN2 + Math.log(sum);
}

export interface McNemarExact {
  /** Discordant pairs, b + c. */
  discordant: number;
  /** Two-sided exact p-value; 1 without discordant pairs. */
  pValue: number;
}

/**
 * McNemar's exact two-sided test from the two discordant cells (the order does not matter):
 * `onlyControl` pairs where only the control was overridden, `onlyCandidate` where only the
 * candidate would have been.
 */
export function mcnemarExact(onlyControl: number, onlyCandidate: number): McNemarExact {
  assertCount('onlyControl', onlyControl);
  assertCount('onlyCandidate', onlyCandidate);
  const n = onlyControl + onlyCandidate;
  if (n === 0) return { discordant: 0, pValue: 1 };
  const k = Math.min(onlyControl, onlyCandidate);
  const pValue = Math.min(1, 2 * Math.exp(logBinomialHalfCdf(k, n)));
  return { discordant: n, pValue };
}

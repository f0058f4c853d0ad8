/**
 * Confidence sequences for a latency quantile from the stored histogram, and for the difference
 * of two arms' quantiles: the relative latency guardrail (`latency_p95_ms` with `maxIncrease` in
 * ms over the control's p95).
 *
 * Method: Howard & Ramdas (2022), "Sequential estimation of quantiles with applications to
 * A/B-testing and best-arm identification", Bernoulli 28:1704, the fixed-quantile sequence: for a
 * latency x, the indicator "run ≤ x" is Bernoulli(F(x)); the quantile Q(q) exceeds x as soon as
 * F(x) < q, so a one-sided sequence for F at one point gives a bound on Q(q). Here the Bernoulli
 * sequence is this folder's finite-sample mixture (rate-sequence.ts, designed around q), and x
 * runs over the histogram's bucket edges, where the count of runs ≤ x is exact:
 * - lower bound: the largest edge x where "F(x) ≥ q" is rejected (then Q(q) > x);
 * - upper bound: the smallest edge x where "F(x) ≤ q" is rejected (then Q(q) ≤ x); +∞ if none.
 * Coverage needs the event at the single true quantile only: the count at any edge above Q(q) is
 * at least the count at Q(q) and rejection is monotone in the count, so a bound past Q(q) means the
 * sequence for F(Q(q)) ≥ q failed, which happens with probability ≤ α at any time (Ville).
 * Rounding to bucket edges only widens the bounds (2% relative buckets).
 *
 * A difference of quantiles (candidate − control) at level α: the arms' one-sided bounds at α/2,
 * L = L_c − U_t and U = U_c − L_t (a union bound: the arms are independent, their quantiles
 * are not a single-parameter family).
 */
import { LATENCY_BUCKET_UPPER_BOUNDS_MS, histogramCumulative, histogramQuantile } from './percentiles.js';
import { rateRejects, type RateDesign } from './rate-sequence.js';
import type { BoundSide, Interval } from './types.js';

/** Default tuning of quantile sequences: runs at which they are tightest. */
export const DEFAULT_QUANTILE_TUNING = 2000;

export function quantileSequenceName(q: number, tuning = DEFAULT_QUANTILE_TUNING): string {
  return `finite-sample-quantile-cs(q=${q},tuning=${tuning}):howard-ramdas-2022-fixed-quantile`;
}

/** One-sided always-valid bound of the q-quantile (ms) from bucket counts at level α. */
export function histogramQuantileBound(
  counts: readonly number[],
  q: number,
  side: BoundSide,
  alpha: number,
  tuning = DEFAULT_QUANTILE_TUNING,
): number {
  if (!(q > 0 && q < 1)) throw new RangeError(`quantile must be in (0, 1), got ${q}`);
  const cum = histogramCumulative(counts);
  const n = cum.length > 0 ? (cum[cum.length - 1] as number) : 0;
  const edges = LATENCY_BUCKET_UPPER_BOUNDS_MS;
  if (n === 0) return side === 'lower' ? 0 : Number.POSITIVE_INFINITY;
  const design: RateDesign = { center: q, tuning };
  const countAt = (i: number) => cum[Math.min(i, cum.length - 1)] as number;
  if (side === 'lower') {
    // Rejection of "F(e_i) ≥ q" is monotone in i (counts grow): the largest rejected edge.
    let best = -1;
    let lo = 0;
    let hi = edges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (rateRejects(countAt(mid), n, q, 'upper', alpha, design)) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best < 0 ? 0 : (edges[best] as number);
  }
  let best = -1;
  let lo = 0;
  let hi = edges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (rateRejects(countAt(mid), n, q, 'lower', alpha, design)) {
      best = mid;
      hi = mid - 1;
    } else lo = mid + 1;
  }
  return best < 0 ? Number.POSITIVE_INFINITY : (edges[best] as number);
}

export interface QuantileDifference {
  /** Candidate − control of the histogram quantiles (ms); null when an arm is empty. */
  readonly estimate: number | null;
  /** [lower, upper] at level α; ±∞ where an arm says nothing yet. */
  readonly interval: Interval;
}

/** Always-valid bounds of Q_c(q) − Q_t(q) (ms) at level α (each side's arms at α/2). */
export function quantileDifference(
  candidate: readonly number[],
  control: readonly number[],
  q: number,
  alpha: number,
  tuning = DEFAULT_QUANTILE_TUNING,
): QuantileDifference {
  const qc = histogramQuantile(candidate, q);
  const qt = histogramQuantile(control, q);
  const lower =
    histogramQuantileBound(candidate, q, 'lower', alpha / 2, tuning) - histogramQuantileBound(control, q, 'upper', alpha / 2, tuning);
  const upper =
    histogramQuantileBound(candidate, q, 'upper', alpha / 2, tuning) - histogramQuantileBound(control, q, 'lower', alpha / 2, tuning);
  return {
    estimate: qc === undefined || qt === undefined ? null : qc - qt,
    interval: [Number.isNaN(lower) ? Number.NEGATIVE_INFINITY : lower, Number.isNaN(upper) ? Number.POSITIVE_INFINITY : upper],
  };
}

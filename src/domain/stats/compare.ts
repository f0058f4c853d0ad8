/**
 * Per-run comparison of two independent binomial arms: the contract's
 * `difference.overrideRate` / `difference.errorRate` for `analysisUnit: "run"`.
 */
import { alwaysValidDifference } from './always-valid-proportions.js';
import { newcombeDifference, twoProportionZTest } from './proportions.js';
import { DEFAULT_SEQUENTIAL_TUNING, sequentialMethodName } from './sequential.js';
import type { BinomialCount, DifferenceResult, SequentialOptions } from './types.js';

export interface CompareOptions extends SequentialOptions {
  /** Confidence of the fixed-horizon interval `ci`; the contract fixes 95%. */
  readonly confidence?: number;
}

/** The `method` label of a per-run proportion comparison. */
export function proportionMethodName(tuning = DEFAULT_SEQUENTIAL_TUNING): string {
  return `newcombe-hybrid-score+pooled-z+${sequentialMethodName(tuning)}`;
}

/**
 * Compare two binomial arms, candidate − control:
 * - `estimate` = p̂_candidate − p̂_control (0 when an arm is empty: no information);
 * - `ci`: Newcombe hybrid score interval (Newcombe 1998, method 10) at `confidence`;
 * - `pValue`: pooled two-proportion z-test, two-sided;
 * - `alwaysValidCI` / `alwaysValidPValue`: normal-mixture confidence sequence at `alpha` with
 *   tuning N* (default 5000), in score form (see always-valid-proportions.ts), n = n₁ + n₂.
 */
export function compareProportions(candidate: BinomialCount, control: BinomialCount, options?: CompareOptions): DifferenceResult {
  const confidence = options?.confidence ?? 0.95;
  const ci = newcombeDifference(candidate.x, candidate.n, control.x, control.n, confidence);
  const { pValue } = twoProportionZTest(candidate.x, candidate.n, control.x, control.n);
  const av = alwaysValidDifference(candidate.x, candidate.n, control.x, control.n, options);
  return {
    estimate: av.estimate,
    ci,
    pValue,
    alwaysValidCI: av.ci,
    alwaysValidPValue: av.pValue,
    method: proportionMethodName(options?.tuning ?? DEFAULT_SEQUENTIAL_TUNING),
  };
}

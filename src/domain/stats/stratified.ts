/**
 * Stratified (by stage) risk difference with Mantel–Haenszel weights, so that a 100% staging
 * stage with many runs cannot swamp a 10% prod stage: each stratum k contributes its own
 * difference p̂₁ₖ − p̂₀ₖ, weighted by wₖ = n₁ₖn₀ₖ/Nₖ (Nₖ = n₁ₖ + n₀ₖ).
 *
 *   RD_MH = Σₖ (aₖn₀ₖ − cₖn₁ₖ)/Nₖ / Σₖ wₖ      (aₖ, cₖ: events in arm 1 and arm 0)
 *
 * Variance: the estimator of Sato (1989, Biometrics 45:1323, "On the variance estimator for the
 * Mantel–Haenszel risk difference", the letter in reply to Greenland & Robins 1985), consistent
 * both with many sparse strata and with few large ones — our case is few strata, some of them
 * small, so the large-strata-only Greenland–Robins form is not enough:
 *   Var = (RD_MH·ΣPₖ + ΣQₖ) / (Σwₖ)²,
 *   Pₖ = (n₁ₖ²cₖ − n₀ₖ²aₖ + n₁ₖn₀ₖ(n₀ₖ − n₁ₖ)/2) / Nₖ²,
 *   Qₖ = (aₖ(n₀ₖ − cₖ) + cₖ(n₁ₖ − aₖ)) / (2Nₖ).
 * Checked against Agresti (2013, Categorical Data Analysis 3rd ed., data p. 226, result p. 231):
 * RD = 0.130, SE = 0.050 on the 8-centre trial.
 *
 * The confidence sequence uses n = Σₖ Nₖ over the strata that carry information, the number of
 * observations behind the estimate, exactly as n = n₁ + n₀ for the unstratified difference; with a
 * single stratum the two coincide.
 */
import { compareProportions, type CompareOptions } from './compare.js';
import { normalSf, twoSidedCriticalValue } from './normal.js';
import { assertCount } from './proportions.js';
import { alwaysValidNormal, DEFAULT_SEQUENTIAL_TUNING, sequentialMethodName } from './sequential.js';
import type { BinomialCount, DifferenceResult, Interval } from './types.js';

/** One stratum (stage): both arms' counts. Arm 1 is the candidate. */
export interface Stratum {
  readonly candidate: BinomialCount;
  readonly control: BinomialCount;
}

export interface StratifiedResult extends DifferenceResult {
  /** Sato standard error (NaN when the per-run analysis was used instead). */
  readonly standardError: number;
  /** Number of strata with both arms non-empty: the ones that carry information. */
  readonly strata: number;
}

/** Mantel–Haenszel risk difference and its Sato variance, arm 1 (candidate) − arm 0 (control). */
export function mantelHaenszelRiskDifference(strata: readonly Stratum[]): {
  estimate: number;
  variance: number;
  weight: number;
  n: number;
} {
  let num = 0;
  let weight = 0;
  let sumP = 0;
  let sumQ = 0;
  let n = 0;
  for (const { candidate, control } of strata) {
    assertCount(candidate.x, candidate.n);
    assertCount(control.x, control.n);
    const { x: a, n: n1 } = candidate;
    const { x: c, n: n0 } = control;
    if (n1 === 0 || n0 === 0) continue; // weight 0: no within-stratum comparison
    const N = n1 + n0;
    num += (a * n0 - c * n1) / N;
    weight += (n1 * n0) / N;
    sumP += (n1 * n1 * c - n0 * n0 * a + (n1 * n0 * (n0 - n1)) / 2) / (N * N);
    sumQ += (a * (n0 - c) + c * (n1 - a)) / (2 * N);
    n += N;
  }
  if (weight === 0) return { estimate: 0, variance: Number.NaN, weight, n };
  const estimate = num / weight;
  return { estimate, variance: (estimate * sumP + sumQ) / (weight * weight), weight, n };
}

function clip([lo, hi]: Interval): Interval {
  return [Math.max(-1, lo), Math.min(1, hi)];
}

/**
 * The contract's top-level difference when several stages are active.
 * - No stratum with both arms: estimate 0, intervals [−1, 1], p = 1.
 * - One informative stratum: exactly the per-run comparison of that stratum (Newcombe interval,
 *   pooled z-test, score-form sequence), so the stratified figure equals the plain difference.
 * - Several: MH estimate, Wald interval and z-test on the Sato variance, and the normal-mixture
 *   confidence sequence on the same variance. Should that variance be 0 (no stratum shows any
 *   spread, e.g. no events anywhere), it would claim certainty; the per-run analysis of the summed
 *   counts is used instead, and `method` says so.
 */
export function compareStratified(strata: readonly Stratum[], options?: CompareOptions): StratifiedResult {
  const tuning = options?.tuning ?? DEFAULT_SEQUENTIAL_TUNING;
  const informative = strata.filter((s) => s.candidate.n > 0 && s.control.n > 0);
  const mh = mantelHaenszelRiskDifference(informative);
  if (informative.length === 0) {
    const method = `mantel-haenszel-rd+sato-variance+${sequentialMethodName(tuning)}`;
    return {
      estimate: 0,
      ci: [-1, 1],
      pValue: 1,
      alwaysValidCI: [-1, 1],
      alwaysValidPValue: 1,
      method,
      standardError: Number.NaN,
      strata: 0,
    };
  }
  if (informative.length === 1 || !(mh.variance > 0)) {
    const sum = (pick: (s: Stratum) => BinomialCount): BinomialCount =>
      informative.reduce((acc, s) => ({ x: acc.x + pick(s).x, n: acc.n + pick(s).n }), { x: 0, n: 0 });
    const perRun = compareProportions(
      sum((s) => s.candidate),
      sum((s) => s.control),
      options,
    );
    const method = informative.length === 1 ? perRun.method : `zero-variance-fallback:${perRun.method}`;
    return { ...perRun, method, standardError: Number.NaN, strata: informative.length };
  }
  const se = Math.sqrt(mh.variance);
  const z = twoSidedCriticalValue(options?.confidence ?? 0.95);
  const av = alwaysValidNormal({ estimate: mh.estimate, standardError: se, n: mh.n }, options);
  return {
    estimate: mh.estimate,
    ci: clip([mh.estimate - z * se, mh.estimate + z * se]),
    pValue: Math.min(1, 2 * normalSf(Math.abs(mh.estimate) / se)),
    alwaysValidCI: clip(av.ci),
    alwaysValidPValue: av.pValue,
    method: `mantel-haenszel-rd+sato-variance+wald-z+${sequentialMethodName(tuning)}`,
    standardError: se,
    strata: informative.length,
  };
}

/**
 * Data-quality checks that stop auto-advance: sample ratio mismatch (SRM) and review-rate
 * imbalance, both per stratum and both valid under continual checking.
 *
 * SRM. Per stage with a split strictly between 0 and 100%, the distinct assignment keys seen in
 * each arm against the stage's share π:
 * - `exactPValue`: the two-sided exact binomial test (beta.ts) — the fixed-sample figure to show;
 * - `sequentialPValue`: 1/E from the beta-binomial mixture martingale of Lindon & Malek (2022,
 *   "Anytime-valid inference for multinomial count data", NeurIPS), the two-arm case of their
 *   Dirichlet-multinomial test: E_n = B(a + x, b + n − x) / (B(a, b) · π^x (1 − π)^{n−x}) with the
 *   prior Beta(a, b) = Beta(κπ, κ(1 − π)) centred on the designed share. It is a nonnegative
 *   martingale while keys land in the candidate arm with probability π, so the chance that it ever
 *   flags, however often it is looked at, is at most the threshold (Ville). The chi-square and the
 *   exact test checked continually do not have that property (issue 15: 2.4–49× their level).
 *   Stages combine by the average of their e-values over the rollout's planned randomized stages
 *   (an average of e-processes is one, dependent or not: a key may appear in several stages).
 * Review-rate imbalance. reviewed/runs per arm within each stratum, tested with the same
 * finite-sample two-sided sequence as the override rate (difference-sequence.ts; per tenant with
 * tenant-level.ts for tenant splits); the strata share the threshold (Bonferroni).
 */
import { logBeta, binomialTestTwoSided } from './beta.js';
import { differenceTwoSidedPValue, DEFAULT_DIFFERENCE_TUNING } from './difference-sequence.js';
import { tenantLevelEstimate, tenantLevelPValue, type TenantStratum } from './tenant-level.js';
import type { BinomialCount } from './types.js';

/** The contract's threshold for both checks. */
export const DATA_QUALITY_THRESHOLD = 0.001;

/** Prior concentration κ of the SRM mixture: prior SD of the share √(π(1−π)/(κ+1)). */
export const SRM_CONCENTRATION = 100;

export interface SrmStageKeys {
  /** The stage's candidate share (percent / 100). */
  readonly share: number;
  readonly candidate: number;
  readonly control: number;
}

export interface SrmStageResult {
  readonly expectedCandidateShare: number;
  readonly observedCandidateShare: number;
  readonly keys: number;
  readonly exactPValue: number;
  readonly sequentialPValue: number;
}

export interface SequentialSrmResult {
  /** Per input stage, in order; null for a stage at 0% or 100% (nothing to compare). */
  readonly stages: readonly (SrmStageResult | null)[];
  readonly expectedCandidateShare: number;
  readonly observedCandidateShare: number;
  /** Always-valid p-value of "every stage splits as designed": 1/(mean e-value). */
  readonly pValue: number;
  /** Fixed-sample exact p-value of the most extreme stage (display only). */
  readonly exactPValue: number;
  readonly mismatch: boolean;
  readonly method: string;
}

/** ln E of the SRM mixture martingale for one stage. */
export function srmLogE(candidate: number, control: number, share: number, concentration = SRM_CONCENTRATION): number {
  if (!(share > 0 && share < 1)) throw new RangeError(`share must be in (0, 1), got ${share}`);
  if (!(Number.isInteger(candidate) && Number.isInteger(control) && candidate >= 0 && control >= 0)) {
    throw new RangeError(`invalid key counts: candidate=${candidate}, control=${control}`);
  }
  const a = concentration * share;
  const b = concentration * (1 - share);
  return logBeta(a + candidate, b + control) - logBeta(a, b) - candidate * Math.log(share) - control * Math.log1p(-share);
}

/**
 * SRM over a rollout's stages. `plannedStages`: randomized stages in the spec (the average's
 * divisor, fixed in advance); default: the randomized stages given.
 */
export function sequentialSrm(
  stages: readonly SrmStageKeys[],
  options?: { threshold?: number; plannedStages?: number },
): SequentialSrmResult {
  const threshold = options?.threshold ?? DATA_QUALITY_THRESHOLD;
  let sumE = 0;
  let randomized = 0;
  let keys = 0;
  let expected = 0;
  let observed = 0;
  let exact = 1;
  const out = stages.map((s): SrmStageResult | null => {
    if (!(s.share >= 0 && s.share <= 1)) throw new RangeError(`share must be in [0, 1], got ${s.share}`);
    if (s.share <= 0 || s.share >= 1) return null;
    randomized++;
    const n = s.candidate + s.control;
    const logE = srmLogE(s.candidate, s.control, s.share);
    sumE += Math.exp(Math.min(logE, 700));
    keys += n;
    expected += s.share * n;
    observed += s.candidate;
    const exactP = binomialTestTwoSided(s.candidate, n, s.share);
    exact = Math.min(exact, exactP);
    return {
      expectedCandidateShare: s.share,
      observedCandidateShare: n > 0 ? s.candidate / n : 0,
      keys: n,
      exactPValue: exactP,
      sequentialPValue: Math.min(1, Math.exp(-logE)),
    };
  });
  const planned = Math.max(options?.plannedStages ?? randomized, randomized);
  // Stages not started yet contribute e = 1 each.
  const meanE = planned > 0 ? (sumE + (planned - randomized)) / planned : 1;
  const pValue = Math.min(1, 1 / meanE);
  return {
    stages: out,
    expectedCandidateShare: keys > 0 ? expected / keys : (stages.find((s) => s.share > 0 && s.share < 1)?.share ?? 0),
    observedCandidateShare: keys > 0 ? observed / keys : 0,
    pValue,
    exactPValue: exact,
    mismatch: pValue <= threshold,
    method: `beta-binomial-mixture-e-process(kappa=${SRM_CONCENTRATION})+exact-binomial`,
  };
}

/** One stratum's review counts: reviewed of finished runs per arm. */
export interface ReviewStratum {
  readonly share: number;
  readonly candidate: BinomialCount;
  readonly control: BinomialCount;
}

export interface ReviewImbalanceResult {
  /** Per stratum: the always-valid two-sided p-value of equal review rates. */
  readonly pValues: readonly number[];
  /** Flagged when some stratum's p-value is at most threshold / strata. */
  readonly imbalance: boolean;
  readonly method: string;
}

/** Per-run review-rate imbalance (unit splits). */
export function reviewRateImbalance(
  strata: readonly ReviewStratum[],
  options?: { threshold?: number; plannedStrata?: number },
): ReviewImbalanceResult {
  const threshold = options?.threshold ?? DATA_QUALITY_THRESHOLD;
  const k = Math.max(options?.plannedStrata ?? strata.length, strata.length, 1);
  const pValues = strata.map((s) =>
    s.candidate.n > 0 && s.control.n > 0
      ? differenceTwoSidedPValue(s.candidate, s.control, { share: s.share, tuning: DEFAULT_DIFFERENCE_TUNING, center: 0 })
      : 1,
  );
  return { pValues, imbalance: pValues.some((p) => p <= threshold / k), method: 'finite-sample-cs:review-rate-difference-per-stratum' };
}

/** Tenant-level review-rate imbalance (tenant splits): x = reviewed, n = runs per tenant. */
export function tenantReviewRateImbalance(
  strata: readonly TenantStratum[],
  options?: { threshold?: number; plannedStrata?: number },
): ReviewImbalanceResult {
  const threshold = options?.threshold ?? DATA_QUALITY_THRESHOLD;
  const k = Math.max(options?.plannedStrata ?? strata.length, strata.length, 1);
  const alpha = threshold / k;
  const pValues = strata.map((s) => tenantLevelPValue(tenantLevelEstimate([s]), 0, 2, 'lower', alpha));
  return { pValues, imbalance: pValues.some((p) => p <= alpha), method: 'tenant-cluster:review-rate-difference-per-stratum' };
}

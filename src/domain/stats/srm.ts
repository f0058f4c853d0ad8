/**
 * Sample ratio mismatch (SRM): does the observed split of assignment keys match the configured
 * percent? A mismatch means the assignment or the logging is broken and no comparison can be
 * trusted (Fabijan et al. 2019, "Diagnosing sample ratio mismatch in online controlled
 * experiments", KDD; Kohavi, Tang & Xu 2020, "Trustworthy Online Controlled Experiments", ch. 21).
 *
 * Per stage with a split strictly between 0% and 100%, Pearson's chi-square goodness of fit of the
 * distinct keys (tenants or units) per arm against the stage's share, one degree of freedom each;
 * independent stages add their statistics and their degrees of freedom. Flagged at p < 0.001 (the
 * contract's threshold): far stricter than 0.05, as the works above advise, because the check runs
 * continually and a false alarm halts the analysis.
 */
import { chiSquareSf } from './gamma.js';

/** Distinct assignment keys seen per arm in one stage, and the stage's candidate share (percent/100). */
export interface SrmStage {
  readonly expectedCandidateShare: number;
  readonly candidate: number;
  readonly control: number;
}

export interface SrmResult {
  /** Expected candidate share over the tested stages, weighted by their key counts. */
  readonly expectedCandidateShare: number;
  readonly observedCandidateShare: number;
  readonly pValue: number;
  readonly mismatch: boolean;
  readonly chiSquare: number;
  readonly degreesOfFreedom: number;
}

/** Default SRM threshold: p < 0.001. */
export const SRM_THRESHOLD = 0.001;

/**
 * Combined SRM test over stages. Stages at 0% or 100% (nothing to compare against) and stages
 * without keys are left out; with none left, p = 1 and the shares are those of all given stages
 * (the observed share is 0 when no key was seen at all).
 */
export function sampleRatioMismatch(stages: readonly SrmStage[], threshold = SRM_THRESHOLD): SrmResult {
  let chiSquare = 0;
  let df = 0;
  let keys = 0;
  let expectedKeys = 0;
  let candidateKeys = 0;
  let allKeys = 0;
  let allExpected = 0;
  let allCandidate = 0;
  for (const s of stages) {
    const share = s.expectedCandidateShare;
    if (!(share >= 0 && share <= 1) || !(s.candidate >= 0) || !(s.control >= 0)) {
      throw new RangeError(`invalid SRM stage: share=${share}, candidate=${s.candidate}, control=${s.control}`);
    }
    const total = s.candidate + s.control;
    allKeys += total;
    allExpected += share * total;
    allCandidate += s.candidate;
    if (total === 0 || share <= 0 || share >= 1) continue;
    const eCandidate = share * total;
    const eControl = (1 - share) * total;
    chiSquare += (s.candidate - eCandidate) ** 2 / eCandidate + (s.control - eControl) ** 2 / eControl;
    df += 1;
    keys += total;
    expectedKeys += eCandidate;
    candidateKeys += s.candidate;
  }
  if (df === 0) {
    return {
      expectedCandidateShare: allKeys > 0 ? allExpected / allKeys : (stages[stages.length - 1]?.expectedCandidateShare ?? 0),
      observedCandidateShare: allKeys > 0 ? allCandidate / allKeys : 0,
      pValue: 1,
      mismatch: false,
      chiSquare: 0,
      degreesOfFreedom: 0,
    };
  }
  const pValue = chiSquareSf(chiSquare, df);
  return {
    expectedCandidateShare: expectedKeys / keys,
    observedCandidateShare: candidateKeys / keys,
    pValue,
    mismatch: pValue < threshold,
    chiSquare,
    degreesOfFreedom: df,
  };
}

/**
 * The stratified form of the finite-sample difference sequence (difference-sequence.ts): strata
 * are the stages that have a randomized control, each with its own share and base rate.
 *
 * What it bounds: the WORST stratum's difference, max_k Δ_k (Δ_k = candidate − control in stage
 * k). A guardrail asks "is the candidate worse than the control by more than m in some stage?":
 * - lower side (breach): H₀ "Δ_k ≤ δ in every stratum", tested by the product over strata of
 *   (1 + E_k(δ))/2, E_k the stratum's e-process. Each factor is the average of E_k and the
 *   trivial e-process 1, so a stratum that shows no harm costs at most a factor 2 instead of
 *   hiding a regression elsewhere (a bare product would let it); the strata are independent given
 *   the arms and every E_k is bounded by a test martingale, so the product is too (Ville). With a
 *   single planned stratum it is E₁ itself. The number of factors is fixed by the rollout's spec
 *   (`plannedStrata`): a stage not yet started contributes (1 + 1)/2 = 1.
 * - upper side (positive evidence, auto-advance): H₀ "Δ_k ≥ δ in some stratum" is a union, so it
 *   is rejected only when every stratum with data rejects its own at level α (an
 *   intersection–union test, Berger 1982): U = max_k U_k. A stage with no data in an arm says
 *   nothing and is left out.
 * Together they are a confidence sequence for max_k Δ_k; with one stratum, for Δ. Pooling strata
 * is never done: a 100% staging stage with a different base rate cannot move a 10% prod stage.
 */
import { differenceLogE, differenceLogEUpper, differenceRejects, type DifferenceDesign } from './difference-sequence.js';
import type { BinomialCount, BoundSide, Interval } from './types.js';

/** One stratum: both arms' counts and the stage's designed candidate share (percent / 100). */
export interface SequenceStratum {
  readonly candidate: BinomialCount;
  readonly control: BinomialCount;
  readonly share: number;
}

export interface StratifiedDesign {
  /** Candidate observations per stratum at which each sequence is tightest. */
  readonly tuning: number;
  /** The difference the sequences are designed around (a guardrail's maxIncrease; 0 otherwise). */
  readonly center?: number;
  /** Randomized strata in the rollout's spec (fixed in advance); default: strata.length. */
  readonly plannedStrata?: number;
}

function designOf(s: SequenceStratum, d: StratifiedDesign): DifferenceDesign {
  return { share: s.share, tuning: d.tuning, center: d.center ?? 0 };
}

const hasData = (s: SequenceStratum) => s.candidate.n > 0 && s.control.n > 0;

function planned(strata: readonly SequenceStratum[], d: StratifiedDesign): number {
  return Math.max(d.plannedStrata ?? strata.length, strata.length, 1);
}

const LN2 = Math.LN2;

/** ln((1 + e^a)/2), stable for large a. */
function logHalfPlusHalf(a: number): number {
  return a > 0 ? a + Math.log1p(Math.exp(-a)) - LN2 : Math.log1p(Math.exp(a)) - LN2;
}

/**
 * ln E(δ) of the lower side (H₀: every Δ_k ≤ δ) against `logThreshold` (pass +Infinity for the
 * value): certified like differenceLogE.
 */
export function stratifiedLowerLogE(
  strata: readonly SequenceStratum[],
  delta: number,
  design: StratifiedDesign,
  logThreshold = Number.POSITIVE_INFINITY,
): { reject: boolean; logE: number } {
  const active = strata.filter(hasData);
  if (active.length === 0) return { reject: false, logE: 0 };
  if (planned(strata, design) === 1) {
    const s = active[0] as SequenceStratum;
    return differenceLogE(s.candidate, s.control, delta, 'lower', designOf(s, design), logThreshold);
  }
  // Cheap upper bounds first (a value on each null line bounds that stratum's infimum above).
  if (logThreshold !== Number.POSITIVE_INFINITY) {
    let upper = 0;
    for (const s of active) upper += logHalfPlusHalf(differenceLogEUpper(s.candidate, s.control, delta, 'lower', designOf(s, design)));
    if (upper < logThreshold) return { reject: false, logE: upper };
  }
  let total = 0;
  for (const s of active) {
    const e = differenceLogE(s.candidate, s.control, delta, 'lower', designOf(s, design)).logE;
    total += logHalfPlusHalf(e);
  }
  return { reject: total >= logThreshold, logE: total };
}

/** Does the level-α stratified sequence reject H₀(δ) on `side`? */
export function stratifiedRejects(
  strata: readonly SequenceStratum[],
  delta: number,
  side: BoundSide,
  alpha: number,
  design: StratifiedDesign,
): boolean {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  if (side === 'lower') return stratifiedLowerLogE(strata, delta, design, -Math.log(alpha)).reject;
  const active = strata.filter(hasData);
  return active.length > 0 && active.every((s) => differenceRejects(s.candidate, s.control, delta, 'upper', alpha, designOf(s, design)));
}

/** One-sided bound of max_k Δ_k at level α (see the file comment); −1 / 1 with no data. */
export function stratifiedBound(
  strata: readonly SequenceStratum[],
  side: BoundSide,
  alpha: number,
  design: StratifiedDesign,
  pivot?: number,
): number {
  const none = side === 'lower' ? -1 : 1;
  const active = strata.filter(hasData);
  if (active.length === 0) return none;
  const rejects = (d: number) => stratifiedRejects(strata, d, side, alpha, design);
  if (!rejects(none)) return none;
  // Neither side rejects δ = max_k estimate (every E_k ≤ 1 there on the lower side; the worst
  // stratum cannot reject on the upper side).
  const worst = Math.max(...active.map((s) => s.candidate.x / s.candidate.n - s.control.x / s.control.n));
  let rejected = none;
  let inside = worst;
  if (pivot !== undefined && pivot > -1 && pivot < 1 && (side === 'lower' ? pivot < worst : pivot > worst)) {
    if (rejects(pivot)) rejected = pivot;
    else inside = pivot;
  }
  while (Math.abs(inside - rejected) > 1e-7) {
    const mid = 0.5 * (inside + rejected);
    if (rejects(mid)) rejected = mid;
    else inside = mid;
  }
  return rejected;
}

/** Two-sided confidence sequence for max_k Δ_k at level α (each side at α/2). */
export function stratifiedInterval(strata: readonly SequenceStratum[], alpha: number, design: StratifiedDesign): Interval {
  return [stratifiedBound(strata, 'lower', alpha / 2, design), stratifiedBound(strata, 'upper', alpha / 2, design)];
}

/** Always-valid p-value of H₀(δ) on one side: 1/E (lower), the largest stratum p-value (upper). */
export function stratifiedPValue(strata: readonly SequenceStratum[], delta: number, side: BoundSide, design: StratifiedDesign): number {
  const active = strata.filter(hasData);
  if (active.length === 0) return 1;
  if (side === 'lower') return Math.min(1, Math.exp(-stratifiedLowerLogE(strata, delta, design).logE));
  let p = 0;
  for (const s of active) {
    const e = differenceLogE(s.candidate, s.control, delta, 'upper', designOf(s, design)).logE;
    p = Math.max(p, Math.min(1, Math.exp(-e)));
  }
  return p;
}

/** Two-sided always-valid p-value of "no stratum differs" (pairs with stratifiedInterval). */
export function stratifiedTwoSidedPValue(strata: readonly SequenceStratum[], design: StratifiedDesign): number {
  return Math.min(1, 2 * Math.min(stratifiedPValue(strata, 0, 'lower', design), stratifiedPValue(strata, 0, 'upper', design)));
}

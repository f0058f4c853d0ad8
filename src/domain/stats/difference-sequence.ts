/**
 * Finite-sample confidence sequences for the difference of two Bernoulli rates, Δ = p_c − p_t
 * (candidate − control), from counts alone: what the guardrails (`maxIncrease`) and the verdict use.
 *
 * Method: a joint confidence region for (p_c, p_t) from the PRODUCT of the two arms' one-sided
 * mixture martingales (bernoulli-mixture.ts), projected onto p_c − p_t. To test H₀(δ): Δ ≤ δ
 * (a lower bound on Δ), the candidate's mixture tilts up and the control's down, and
 *   E(δ) = inf_q  M_c(q + δ) · M_t(q)
 * over the nuisance q (the control's rate) on the null line. For the true (p_c, p_t) in H₀ the
 * candidate's factor at q = p_t is at most its martingale at p_c (it decreases in its null rate)
 * and the product of the arms' martingales is a martingale under any interleaving of the arms,
 * whatever the share of either (each arm's factor moves only with its own observations). So
 * E(δ) ≤ a test martingale and, by Ville's inequality, P(∃n: E_n(δ) ≥ 1/α) ≤ α: exact for
 * Bernoulli data at every sample size, base rate and candidate share, under any monitoring.
 * The lower bound is L = sup{δ : E(δ) ≥ 1/α}; E decreases in δ, so L comes by bisection.
 *
 * Why this one. The guardrail job sees running totals per stage and arm (rollups), not the order
 * of the observations, so the method must be a function of (x_c, n_c, x_t, n_t): that rules out
 * betting sequences with predictable plug-in bets (Waudby-Smith & Ramdas 2024) and the blocked
 * safe 2×2 tests of Turner, Ly & Grünwald (2024), both of which consume the sequence. A union of
 * two per-arm sequences at α/2 each is count-based but ~1.4× wider (widths add instead of adding
 * in quadrature); a two-dimensional conjugate (beta-binomial) mixture against the profile
 * likelihood pays a log-penalty for learning the nuisance that costs ~1.5× the sample size. The
 * product of one-sided mixtures with the nuisance profiled out (infimum over q) pays only for
 * the two arms' mixtures, and at its tuning it matches the asymptotic normal-mixture sequence
 * this replaces (figures in the README's calibration section).
 *
 * Tuning. Each arm's mixture is a half-normal over tilts with spread set for the arm's share of
 * `tuning` candidate observations (the control gets tuning·(1−π)/π at candidate share π), at the
 * arm's rate. The rate is unknown, so the spread depends on q through fixed bins of q (one
 * prior per bin, chosen before any data): validity holds because the truth lies in one bin and
 * that bin's prior is fixed; within a bin ln E(q) is convex (a sum of log-convex mixtures of
 * convex exponents), so its minimum is found exactly and certified by tangent lines. The
 * candidate's spread is set at q + `center`, the difference the sequence is designed around (a
 * guardrail's maxIncrease; 0 for the verdict). None of this depends on α, so a sequence's
 * always-valid p-value is 1/E and "p < α" is exactly "the α-sequence excludes the value".
 */
import { logMixture, logMixtureValue, mixtureScale, tiltMixture, type TiltMixture } from './bernoulli-mixture.js';
import { assertCount } from './proportions.js';
import type { BinomialCount, BoundSide, Interval } from './types.js';

/** What a sequence is designed for: fixed before any data. */
export interface DifferenceDesign {
  /** The candidate's expected share of the two arms' observations (a stage's percent / 100). */
  readonly share: number;
  /** Candidate observations at which the sequence is tightest. */
  readonly tuning: number;
  /** The difference the sequence is designed around (a guardrail's maxIncrease; 0 otherwise). */
  readonly center?: number;
}

/** Default tuning: tightest near 500 candidate observations (see bench/calibrate.ts). */
export const DEFAULT_DIFFERENCE_TUNING = 500;

/** The `method` label of these sequences. */
export function differenceSequenceName(design: DifferenceDesign): string {
  return `finite-sample-cs:product-of-one-sided-bernoulli-mixtures,profiled-nuisance(tuning=${design.tuning},share=${roundLabel(design.share)})`;
}

function roundLabel(x: number): string {
  return String(Math.round(x * 1e4) / 1e4);
}

// Bins of the nuisance q in log-odds, one unit wide, from −8 to 8 (q ≈ 0.0003 … 0.9997).
const BIN_EDGES: readonly number[] = (() => {
  const out: number[] = [0];
  for (let l = -8; l <= 8; l++) out.push(1 / (1 + Math.exp(-l)));
  out.push(1);
  return out;
})();

function binRate(j: number): number {
  const lo = BIN_EDGES[j] as number;
  const hi = BIN_EDGES[j + 1] as number;
  if (lo === 0) return hi;
  if (hi === 1) return lo;
  return Math.sqrt((lo / (1 - lo)) * (hi / (1 - hi))) / (1 + Math.sqrt((lo / (1 - lo)) * (hi / (1 - hi))));
}

interface ArmPair {
  readonly candidate: TiltMixture;
  readonly control: TiltMixture;
}

const MIN_EVENTS = 30;

function armsForBin(j: number, side: BoundSide, design: DifferenceDesign): ArmPair {
  const r = binRate(j);
  // The control's mixture is narrower than the candidate's when the control is the larger arm:
  // it only has to pin the nuisance, and its variance share of the difference is ρ = π/(1 − π).
  // In the normal approximation the width is smallest with the control's v = nρ² at ~√ρ times
  // the candidate's, i.e. an effective tuning of tuning/ρ^1.5 control observations.
  const ratio = design.share / (1 - design.share);
  // The candidate's rate on the null line near this bin, kept inside (0, 1).
  const rc = Math.min(Math.max(r + (design.center ?? 0), r / 2), (1 + r) / 2);
  const candidateTuning = Math.max(design.tuning, MIN_EVENTS / Math.max(1e-9, Math.min(rc, 1 - rc)));
  const c = mixtureScale(rc, candidateTuning);
  const t = mixtureScale(r, candidateTuning / Math.pow(ratio, 1.5));
  // Lower bound (H₀: Δ ≤ δ): evidence that the candidate is higher and the control lower.
  return side === 'lower'
    ? { candidate: tiltMixture(c, 'up'), control: tiltMixture(t, 'down') }
    : { candidate: tiltMixture(c, 'down'), control: tiltMixture(t, 'up') };
}

function assertDesign(d: DifferenceDesign): void {
  if (!(d.share > 0 && d.share < 1)) throw new RangeError(`design share must be in (0, 1), got ${d.share}`);
  if (!(d.tuning > 0) || !Number.isFinite(d.tuning)) throw new RangeError(`design tuning must be positive, got ${d.tuning}`);
}

/** Result of a test of H₀(δ) against a threshold on ln E. */
export interface InfimumResult {
  /** ln E(δ) ≥ the threshold, certified. */
  readonly reject: boolean;
  /**
   * When rejecting: a certified lower bound on ln E(δ) (≥ the threshold). When not: ln E at some
   * point of the null line (an upper bound on ln E(δ), below the threshold). With an infinite
   * threshold, ln E(δ) itself to ~1e-9.
   */
  readonly logE: number;
}

const CERTIFY_GAP = 1e-9;
const MAX_NEWTON = 60;

/**
 * ln E(δ) for the one-sided null on `side` ('lower': H₀ Δ ≤ δ; 'upper': H₀ Δ ≥ δ), decided
 * against `logThreshold` (pass +Infinity for the value itself).
 */
export function differenceLogE(
  candidate: BinomialCount,
  control: BinomialCount,
  delta: number,
  side: BoundSide,
  design: DifferenceDesign,
  logThreshold = Number.POSITIVE_INFINITY,
): InfimumResult {
  return infimum(candidate, control, delta, side, design, logThreshold, false);
}

/**
 * A cheap upper bound on ln E(δ): its value at one point of the null line (0 when the estimate
 * lies in H₀, where E ≤ 1). What a caller needs to rule a rejection out without the infimum.
 */
export function differenceLogEUpper(
  candidate: BinomialCount,
  control: BinomialCount,
  delta: number,
  side: BoundSide,
  design: DifferenceDesign,
): number {
  return infimum(candidate, control, delta, side, design, Number.POSITIVE_INFINITY, true).logE;
}

function infimum(
  candidate: BinomialCount,
  control: BinomialCount,
  delta: number,
  side: BoundSide,
  design: DifferenceDesign,
  logThreshold: number,
  cheap: boolean,
): InfimumResult {
  assertCount(candidate.x, candidate.n);
  assertCount(control.x, control.n);
  assertDesign(design);
  if (candidate.n === 0 || control.n === 0) return { reject: false, logE: 0 };
  // The one-sided null is a half-plane: on the lower side every control rate q with q + δ ≥ 0
  // is in it (the candidate's null rate min(1, q + δ)); on the upper side every q with q + δ ≤ 1.
  const qLo = side === 'lower' ? Math.max(0, -delta) : 0;
  const qHi = side === 'lower' ? 1 : Math.min(1, 1 - delta);
  if (!(qLo <= qHi)) return { reject: false, logE: 0 };
  const xc = candidate.x;
  const nc = candidate.n;
  const xt = control.x;
  const nt = control.n;
  const pc = xc / nc;
  const pt = xt / nt;
  // No evidence against H₀ when the estimate lies in it: at q = p̂_t both factors are ≤ 1.
  const estimate = pc - pt;
  const inNull = side === 'lower' ? estimate <= delta : estimate >= delta;
  if (inNull && (cheap || (logThreshold >= 0 && logThreshold !== Number.POSITIVE_INFINITY))) return { reject: false, logE: 0 };

  const bins: number[] = [];
  for (let j = 0; j < BIN_EDGES.length - 1; j++) {
    if ((BIN_EDGES[j + 1] as number) >= qLo && (BIN_EDGES[j] as number) <= qHi) bins.push(j);
  }
  // Start near the restricted maximum-likelihood point: inverse-variance weighted on the line.
  const wc = nc / Math.max(pc * (1 - pc), 1 / nc);
  const wt = nt / Math.max(pt * (1 - pt), 1 / nt);
  const q0 = clamp((wc * (pc - delta) + wt * pt) / (wc + wt), qLo, qHi);
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- tsc (noUncheckedIndexedAccess) needs it
  const binOf = (q: number) => bins.find((j) => q <= (BIN_EDGES[j + 1] as number)) ?? (bins[bins.length - 1] as number);
  const j0 = binOf(q0);
  const f0 = valueAt(armsForBin(j0, side, design), q0);
  if (cheap || (f0 < logThreshold && logThreshold !== Number.POSITIVE_INFINITY)) return { reject: false, logE: f0 };
  let best = f0;
  let certified = Number.POSITIVE_INFINITY; // min over bins of certified lower bounds
  // Nearest bins first: the minimum is almost always in q0's bin or a neighbour.
  const order = [...bins].sort((a, b) => Math.abs(a - j0) - Math.abs(b - j0));
  for (const j of order) {
    const arms = armsForBin(j, side, design);
    const a = Math.max(qLo, BIN_EDGES[j] as number);
    const b = Math.min(qHi, BIN_EDGES[j + 1] as number);
    const r = binMinimum(arms, a, b, logThreshold, best);
    best = Math.min(best, r.best);
    if (best < logThreshold && logThreshold !== Number.POSITIVE_INFINITY) return { reject: false, logE: best };
    certified = Math.min(certified, r.lower);
  }
  if (logThreshold === Number.POSITIVE_INFINITY) return { reject: false, logE: best };
  return { reject: certified >= logThreshold, logE: certified };

  function valueAt(arms: ArmPair, q: number): number {
    return logMixtureValue(arms.candidate, xc, nc, clamp01(q + delta)) + logMixtureValue(arms.control, xt, nt, q);
  }

  /**
   * Minimum of the convex f(q) = ln M_c(q + δ) + ln M_t(q) on [a, b]: returns the best value seen
   * and a certified lower bound (tangent lines at the bracket's ends). Stops early once the bin
   * is certified above the threshold, or once a value below it is seen.
   */
  function binMinimum(arms: ArmPair, a: number, b: number, threshold: number, bestSoFar: number): { best: number; lower: number } {
    const at = (q: number) => {
      const p = q + delta;
      const c = logMixture(arms.candidate, xc, nc, clamp01(p));
      const t = logMixture(arms.control, xt, nt, q);
      // Where the candidate's null rate is clamped at 0 or 1 its factor is constant in q.
      const inside = p > 0 && p < 1;
      return { q, f: c.value + t.value, g: (inside ? c.d1 : 0) + t.d1, h: (inside ? c.d2 : 0) + t.d2 };
    };
    let lo = at(a);
    let bestHere = lo.f;
    if (lo.g >= 0 || a === b) return { best: bestHere, lower: lo.f };
    let hi = at(b);
    bestHere = Math.min(bestHere, hi.f);
    if (hi.g <= 0) return { best: bestHere, lower: hi.f };
    let cur = lo.f <= hi.f ? lo : hi;
    for (let i = 0; i < MAX_NEWTON; i++) {
      const lower = tangentLower(lo, hi);
      const decided = Math.min(bestHere, bestSoFar) < threshold && threshold !== Number.POSITIVE_INFINITY;
      if (decided || lower >= threshold || bestHere - lower <= CERTIFY_GAP * Math.max(1, Math.abs(bestHere)) || hi.q - lo.q <= 1e-15) {
        return { best: bestHere, lower };
      }
      // Newton from the current best point, kept inside the bracket (else bisect).
      let q = cur.h > 0 ? cur.q - cur.g / cur.h : Number.NaN;
      if (!(q > lo.q && q < hi.q)) q = 0.5 * (lo.q + hi.q);
      const p = at(q);
      bestHere = Math.min(bestHere, p.f);
      if (p.g < 0) lo = p;
      else hi = p;
      cur = p;
    }
    return { best: bestHere, lower: tangentLower(lo, hi) };
  }
}

interface Point {
  readonly q: number;
  readonly f: number;
  readonly g: number;
}

/** Lower bound of a convex function on [lo.q, hi.q] from its tangents at both ends (g_lo < 0 < g_hi). */
function tangentLower(lo: Point, hi: Point): number {
  const dg = lo.g - hi.g;
  if (!(dg < 0)) return Math.min(lo.f, hi.f);
  const qx = (hi.f - lo.f + lo.g * lo.q - hi.g * hi.q) / dg;
  const x = clamp(qx, lo.q, hi.q);
  return Math.min(lo.f + lo.g * (x - lo.q), Math.min(lo.f, hi.f));
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

function clamp01(x: number): number {
  return clamp(x, 0, 1);
}

/** Does the level-α sequence reject H₀(δ) on `side`? (Certified, no bisection.) */
export function differenceRejects(
  candidate: BinomialCount,
  control: BinomialCount,
  delta: number,
  side: BoundSide,
  alpha: number,
  design: DifferenceDesign,
): boolean {
  assertAlpha(alpha);
  return differenceLogE(candidate, control, delta, side, design, -Math.log(alpha)).reject;
}

function assertAlpha(alpha: number): void {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
}

const BISECTION_TOLERANCE = 1e-7;

/**
 * One-sided bound of Δ at level α: `lower` is L with Δ ≥ L at every look (probability ≥ 1 − α),
 * `upper` is U with Δ ≤ U. `pivot` (e.g. a guardrail's threshold) is tested exactly first, so
 * "bound > pivot" (lower) / "bound < pivot" (upper) agrees with `differenceRejects` at the pivot.
 * An empty arm → −1 (lower) or 1 (upper).
 */
export function differenceBound(
  candidate: BinomialCount,
  control: BinomialCount,
  side: BoundSide,
  alpha: number,
  design: DifferenceDesign,
  pivot?: number,
): number {
  assertAlpha(alpha);
  const none = side === 'lower' ? -1 : 1;
  if (candidate.n === 0 || control.n === 0) return none;
  const threshold = -Math.log(alpha);
  const estimate = candidate.x / candidate.n - control.x / control.n;
  const rejects = (d: number) => differenceLogE(candidate, control, d, side, design, threshold).reject;
  // lower: rejected set is [−1, L); upper: (U, 1]. `inside` is a point not rejected.
  let rejected = none;
  let inside = estimate;
  if (!rejects(rejected)) return none;
  if (pivot !== undefined && pivot > -1 && pivot < 1 && (side === 'lower' ? pivot < estimate : pivot > estimate)) {
    if (rejects(pivot)) rejected = pivot;
    else inside = pivot;
  }
  while (Math.abs(inside - rejected) > BISECTION_TOLERANCE) {
    const mid = 0.5 * (inside + rejected);
    if (rejects(mid)) rejected = mid;
    else inside = mid;
  }
  // Report the rejected end: the bound never claims more than the certified tests show... and
  // never less than the pivot's verdict.
  return rejected;
}

/** Two-sided sequence at level α: the one-sided bounds at α/2. */
export function differenceInterval(candidate: BinomialCount, control: BinomialCount, alpha: number, design: DifferenceDesign): Interval {
  return [differenceBound(candidate, control, 'lower', alpha / 2, design), differenceBound(candidate, control, 'upper', alpha / 2, design)];
}

/**
 * Always-valid p-value of H₀(δ) on one side: 1/E(δ), capped at 1. P(∃n: p_n ≤ a) ≤ a for all a.
 */
export function differencePValue(
  candidate: BinomialCount,
  control: BinomialCount,
  delta: number,
  side: BoundSide,
  design: DifferenceDesign,
): number {
  const { logE } = differenceLogE(candidate, control, delta, side, design);
  return Math.min(1, Math.exp(-logE));
}

/** Two-sided always-valid p-value of Δ = 0 (pairs with `differenceInterval`): 2·min of the sides. */
export function differenceTwoSidedPValue(candidate: BinomialCount, control: BinomialCount, design: DifferenceDesign): number {
  const lower = differencePValue(candidate, control, 0, 'lower', design);
  const upper = differencePValue(candidate, control, 0, 'upper', design);
  return Math.min(1, 2 * Math.min(lower, upper));
}

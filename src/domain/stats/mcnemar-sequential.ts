/**
 * Always-valid inference for paired binary outcomes (the shadow comparison: each reviewed control
 * run paired with the candidate's shadow output on the same call). Two pieces, both with a
 * finite-sample guarantee under continual monitoring (Ville's inequality: a nonnegative
 * martingale with mean 1 exceeds 1/α with probability at most α, ever):
 *
 * 1. A sequential McNemar test. Under "no difference" (each pair's chance of "only the candidate
 *    overridden" equals its chance of "only the control overridden", pairs independent but not
 *    necessarily alike), a discordant pair is of either kind with probability ½, so the kinds of
 *    the discordant pairs in arrival order are fair coin flips whatever the nuisance parameters.
 *    The Bayes factor of a Beta(a, a) mixture of alternatives against ½,
 *      E = B(a + c, a + b) / B(a, a) · 2^(b + c),
 *    is a test martingale over the discordant pairs (Robbins 1970, "Statistical methods related to
 *    the law of the iterated logarithm", Ann. Math. Stat. 41:1397; as an e-process: Ramdas, Grünwald,
 *    Vovk & Shafer 2023, "Game-theoretic statistics and safe anytime-valid inference", Stat. Sci.
 *    38:576, §3). Its always-valid p-value is min(1, 1/E). E depends on the counts only, so any
 *    arrival order gives the same value.
 *
 *    Tuning: a is chosen so the mixture matches the normal mixture that is tightest at N*
 *    discordant pairs (Waudby-Smith et al. 2023, eq. 161, as in sequential.ts): the prior variance
 *    of the discordant share, 1/(4(2a + 1)), equals ρ²·¼ (¼ being a fair coin's variance), so
 *    a = (1/ρ² − 1)/2. Any a > 0 gives a valid test; a badly chosen one only costs power.
 *
 * 2. A confidence sequence for the difference Δ = P(candidate overridden) − P(control overridden)
 *    from every pair, concordant ones included: D = (candidate overridden) − (control overridden)
 *    is in {−1, 0, 1}, so X = (D + 1)/2 is in [0, 1] with mean μ = (Δ + 1)/2, and the capital of
 *    a bettor who stakes a fixed fraction λ on X against μ, ∏(1 + λ(Xᵢ − μ)), is a test
 *    martingale when the mean is μ. Averaging a grid of stakes ("diversified Kelly", Waudby-Smith &
 *    Ramdas 2023, "Estimating means of bounded random variables by betting", JRSS-B 86:1, §5.6)
 *    and hedging both directions at α/2 each gives the interval {μ : K⁺(μ) < 2/α and
 *    K⁻(μ) < 2/α}, which contains the hedged CS of their Thm 3 and so keeps its guarantee. With a
 *    constant stake the capital depends on the counts only. Valid when pairs share the same mean
 *    difference given the past (e.g. independent and alike); it asks nothing of the base rates.
 */
import { logGamma } from './gamma.js';
import { mixtureRho } from './sequential.js';
import type { Interval } from './types.js';

/** N*: discordant pairs at which the sequential McNemar test is tuned to be most powerful. */
export const DEFAULT_MCNEMAR_TUNING = 100;

/**
 * Fractions c of the largest stake in the betting grid: 20 evenly spaced, 1/21 … 20/21, as in
 * Waudby-Smith & Ramdas's diversified Kelly. (A geometric grid reaching far smaller stakes was
 * measured against it: it pays ln 12 for stakes that only matter beyond tens of thousands of pairs,
 * and its lower bound on 20 vs 4 discordant of 120 pairs was −0.001 against 0.028 here.)
 */
const STAKES = Array.from({ length: 20 }, (_, j) => (j + 1) / 21);
const LOG_STAKES = STAKES.length;

export interface SequentialMcNemarOptions {
  /** Error rate over the whole monitored sequence; default 0.05. */
  alpha?: number;
  /** N*, discordant pairs; default DEFAULT_MCNEMAR_TUNING. */
  tuning?: number;
}

function resolve(options: SequentialMcNemarOptions | undefined): { alpha: number; tuning: number } {
  const alpha = options?.alpha ?? 0.05;
  const tuning = options?.tuning ?? DEFAULT_MCNEMAR_TUNING;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  if (!(tuning > 0 && Number.isFinite(tuning))) throw new RangeError(`tuning must be positive, got ${tuning}`);
  return { alpha, tuning };
}

function assertCount(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative integer, got ${v}`);
}

/** The Beta(a, a) shape matched to the normal mixture tuned for N* (see the file comment). */
export function betaMixtureShape(alpha: number, tuning: number): number {
  const rho = mixtureRho(alpha, tuning, 2);
  return Math.max(0.5, (1 / (rho * rho) - 1) / 2);
}

function logBeta(x: number, y: number): number {
  return logGamma(x) + logGamma(y) - logGamma(x + y);
}

/** ln E for b pairs "only control overridden" and c "only candidate", Beta(a, a) mixture. */
export function logMcNemarEValue(onlyControl: number, onlyCandidate: number, shape: number): number {
  assertCount('onlyControl', onlyControl);
  assertCount('onlyCandidate', onlyCandidate);
  if (!(shape > 0)) throw new RangeError(`shape must be positive, got ${shape}`);
  const n = onlyControl + onlyCandidate;
  if (n === 0) return 0;
  return logBeta(shape + onlyCandidate, shape + onlyControl) - logBeta(shape, shape) + n * Math.LN2;
}

export interface SequentialMcNemar {
  /** The e-value E (evidence against "no difference"); 1 without discordant pairs. */
  eValue: number;
  /** min(1, 1/E): valid however often it is looked at. */
  pValue: number;
  /** The Beta(a, a) mixture's a. */
  shape: number;
  method: string;
}

/** The always-valid McNemar test (two-sided). */
export function sequentialMcNemar(onlyControl: number, onlyCandidate: number, options?: SequentialMcNemarOptions): SequentialMcNemar {
  const { alpha, tuning } = resolve(options);
  const shape = betaMixtureShape(alpha, tuning);
  const logE = logMcNemarEValue(onlyControl, onlyCandidate, shape);
  return {
    eValue: Math.exp(logE),
    pValue: Math.min(1, Math.exp(-logE)),
    shape,
    method: `mcnemar-sequential(beta-binomial mixture, a=${shape.toFixed(2)}, N*=${tuning} discordant pairs)`,
  };
}

/** ln of the mean of exp(xs) without overflow. */
function logMeanExp(xs: number[]): number {
  const max = Math.max(...xs);
  if (max === Number.NEGATIVE_INFINITY) return max;
  let s = 0;
  for (const x of xs) s += Math.exp(x - max);
  return max + Math.log(s / xs.length);
}

/** Pair counts by X = (D + 1)/2: `down` X = 0 (only control), `level` X = ½, `up` X = 1 (only candidate). */
interface XCounts {
  down: number;
  level: number;
  up: number;
}

/**
 * ln K⁺(μ): the grid-averaged capital of betting that the mean of X is above μ (λ = c/μ > 0).
 * Decreasing in μ.
 */
function logCapitalUp(x: XCounts, mu: number): number {
  const logs = STAKES.map(
    (c) => x.down * Math.log1p(-c) + x.level * Math.log1p((c * (0.5 - mu)) / mu) + x.up * Math.log1p((c * (1 - mu)) / mu),
  );
  return logMeanExp(logs);
}

/** ln K⁻(μ): betting that the mean is below μ (λ = −c/(1 − μ)). Increasing in μ. */
function logCapitalDown(x: XCounts, mu: number): number {
  const logs = STAKES.map(
    (c) => x.up * Math.log1p(-c) + x.level * Math.log1p((c * (mu - 0.5)) / (1 - mu)) + x.down * Math.log1p((c * mu) / (1 - mu)),
  );
  return logMeanExp(logs);
}

function xCounts(onlyControl: number, onlyCandidate: number, pairs: number): XCounts {
  assertCount('onlyControl', onlyControl);
  assertCount('onlyCandidate', onlyCandidate);
  assertCount('pairs', pairs);
  if (onlyControl + onlyCandidate > pairs)
    throw new RangeError(`discordant pairs (${onlyControl + onlyCandidate}) exceed pairs (${pairs})`);
  return { down: onlyControl, level: pairs - onlyControl - onlyCandidate, up: onlyCandidate };
}

/**
 * ln K⁺ and ln K⁻ at the difference Δ (for simulations that check the guarantee at the true Δ
 * after every pair). The CS excludes Δ exactly when either reaches ln(2/α).
 */
export function pairedDifferenceCapital(
  onlyControl: number,
  onlyCandidate: number,
  pairs: number,
  delta: number,
): { up: number; down: number } {
  const x = xCounts(onlyControl, onlyCandidate, pairs);
  const mu = (delta + 1) / 2;
  if (!(mu > 0 && mu < 1)) throw new RangeError(`delta must be in (−1, 1), got ${delta}`);
  return { up: logCapitalUp(x, mu), down: logCapitalDown(x, mu) };
}

/** Bisection for the point where a monotone `f` crosses `level` between a (f ≥ level) and b (f < level). */
function crossing(f: (mu: number) => number, level: number, a: number, b: number): number {
  for (let i = 0; i < 200 && Math.abs(b - a) > 1e-12; i++) {
    const mid = 0.5 * (a + b);
    if (f(mid) >= level) a = mid;
    else b = mid;
  }
  return 0.5 * (a + b);
}

export interface PairedDifferenceSequence {
  /** (onlyCandidate − onlyControl) / pairs. */
  estimate: number;
  /** Always-valid interval for the difference at `alpha`; [−1, 1] without pairs. */
  ci: Interval;
  method: string;
}

/**
 * Where K⁺ and K⁻ reach `level` (in ln): the lower and upper ends, on the Δ scale, of the set of
 * differences neither capital rejects at that level.
 */
function boundsAtLevel(x: XCounts, pairs: number, level: number): Interval {
  const muHat = (x.up + 0.5 * x.level) / pairs;
  // K±(μ̂) ≤ 1 by Jensen's inequality, so μ̂ is always inside; each side is found by bisection
  // between μ̂ and the edge, where the capital is monotone.
  const EDGE = 1e-12;
  const lower = muHat <= EDGE || logCapitalUp(x, EDGE) < level ? 0 : crossing((m) => logCapitalUp(x, m), level, EDGE, muHat);
  const upper =
    muHat >= 1 - EDGE || logCapitalDown(x, 1 - EDGE) < level ? 1 : crossing((m) => logCapitalDown(x, m), level, 1 - EDGE, muHat);
  return [Math.max(-1, 2 * lower - 1), Math.min(1, 2 * upper - 1)];
}

const BETTING_METHOD = `betting-cs(diversified Kelly, ${LOG_STAKES} stakes)`;

/** The two-sided confidence sequence for candidate − control from a paired table (file comment, 2). */
export function pairedDifferenceSequence(
  onlyControl: number,
  onlyCandidate: number,
  pairs: number,
  options?: Pick<SequentialMcNemarOptions, 'alpha'>,
): PairedDifferenceSequence {
  const { alpha } = resolve(options);
  const x = xCounts(onlyControl, onlyCandidate, pairs);
  const method = `${BETTING_METHOD}, hedged two-sided`;
  if (pairs === 0) return { estimate: 0, ci: [-1, 1], method };
  return { estimate: (x.up - x.down) / pairs, ci: boundsAtLevel(x, pairs, Math.log(2 / alpha)), method };
}

/**
 * One-sided always-valid bounds at `alpha` each: `lower` (from K⁺ alone) is below the true
 * difference at every look with probability ≥ 1 − α, and so is `upper` above it. A gate that
 * passes on `upper` ≤ m and fails on `lower` > m errs each way with probability at most α.
 */
export function pairedDifferenceBounds(
  onlyControl: number,
  onlyCandidate: number,
  pairs: number,
  options?: Pick<SequentialMcNemarOptions, 'alpha'>,
): { estimate: number; lower: number; upper: number; method: string } {
  const { alpha } = resolve(options);
  const x = xCounts(onlyControl, onlyCandidate, pairs);
  const method = `${BETTING_METHOD}, one-sided`;
  if (pairs === 0) return { estimate: 0, lower: -1, upper: 1, method };
  const [lower, upper] = boundsAtLevel(x, pairs, Math.log(1 / alpha));
  return { estimate: (x.up - x.down) / pairs, lower, upper, method };
}

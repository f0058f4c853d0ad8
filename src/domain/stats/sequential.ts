/**
 * Always-valid inference: asymptotic confidence sequences with a normal mixture.
 *
 * Method. Waudby-Smith, Arnold, Wu, Wang & Ramdas (2023), "Time-uniform central limit theory and
 * asymptotic confidence sequences", arXiv:2103.06476v7 (Annals of Statistics 2024). For an
 * estimate θ̂ₙ with standard error SE after n observations, write v = nρ² and
 *   two-sided (eq. 9):   θ̂ₙ ± SE · √( 2(v+1)/v · ln(√(v+1)/α) )
 *   one-sided (eq. 134): θ̂ₙ − SE · √( 2(v+1)/v · ln(1 + √(v+1)/(2α)) )   (or + for an upper bound)
 * holds simultaneously for all n with probability ≥ 1 − α (asymptotically), so the interval may
 * be looked at after every run. The per-observation variance σ² of the paper is SE²·n, which is how
 * two arms of unequal size enter: SE² = Var₁/n₁ + Var₂/n₂ and n = n₁ + n₂ (as GrowthBook does).
 *
 * Tuning. ρ is chosen so that the sequence is tightest at n = N* (eq. 161):
 *   ρ² = (−2 ln α' + ln(−2 ln α' + 1)) / N*,  α' = α two-sided, 2α one-sided.
 * N* is GrowthBook's "sequential tuning parameter"; we use its default, N* = 5000 total samples
 * (gbstats `SequentialConfig.sequential_tuning_parameter`). Any N* gives a valid sequence; a
 * badly chosen one only costs width.
 *
 * p-values. With ρ held at the value tuned for the nominal α, the two-sided sequence excludes θ₀
 * exactly when α exceeds
 *   p = min(1, √(v+1) · exp(−v z² / (2(v+1)))),  z = (θ̂ − θ₀)/SE          (eq. 155)
 * which is 1/e-value of the normal-mixture martingale; it is the mSPRT likelihood ratio of
 * Johari, Koomen, Pekelis & Walsh ("Always valid inference", Operations Research 2022; KDD 2017)
 * with mixing variance τ² = ρ²σ². The one-sided bound crosses θ₀ exactly when α exceeds
 *   p = min(1, √(v+1) / (2(exp(v z²/(2(v+1))) − 1))),
 * the closed form of GrowthBook's bisection (`SequentialOneSidedTreatment*TTest.compute_p_value`).
 * Either way: p < α ⇔ the interval at α (same ρ) excludes θ₀.
 */
import type { BoundSide, Interval, SequentialOptions } from './types.js';

/** GrowthBook's default sequential tuning parameter N* (total sample size). */
export const DEFAULT_SEQUENTIAL_TUNING = 5000;
/** Default error rate of the sequence; the contract's rollout `alpha` and `guardrailAlpha`. */
export const DEFAULT_SEQUENTIAL_ALPHA = 0.05;

/** The `method` label of results that use these sequences, naming the tuning parameter. */
export function sequentialMethodName(tuning = DEFAULT_SEQUENTIAL_TUNING): string {
  return `asymptotic-cs-normal-mixture(N*=${tuning})`;
}

type Sides = 1 | 2;

function resolve(options: SequentialOptions | undefined, sides: Sides): { alpha: number; tuning: number } {
  const alpha = options?.alpha ?? DEFAULT_SEQUENTIAL_ALPHA;
  const tuning = options?.tuning ?? DEFAULT_SEQUENTIAL_TUNING;
  const maxAlpha = sides === 2 ? 1 : 0.5;
  // One-sided: eq. 161 uses ln(2α), which must be negative.
  if (!(alpha > 0 && alpha < maxAlpha))
    throw new RangeError(`alpha must be in (0, ${maxAlpha}) for a ${sides}-sided sequence, got ${alpha}`);
  if (!(tuning > 0 && Number.isFinite(tuning))) throw new RangeError(`sequential tuning parameter must be positive, got ${tuning}`);
  return { alpha, tuning };
}

/** Mixing parameter ρ for error rate α and tuning N* (Waudby-Smith et al. 2023, eq. 161). */
export function mixtureRho(alpha: number, tuning: number, sides: Sides = 2): number {
  const a = sides === 2 ? alpha : 2 * alpha;
  const la = -2 * Math.log(a);
  return Math.sqrt((la + Math.log(la + 1)) / tuning);
}

/**
 * The multiplier k such that the always-valid half-width is k·SE after n observations:
 * the analogue of z_{1−α/2} (two-sided) or z_{1−α} (one-sided). It always exceeds them, since
 * 2 ln(1/α) ≥ z²_{1−α/2} and 2 ln(1/(2α)) ≥ z²_{1−α} (Chernoff bounds on the normal tail).
 */
export function alwaysValidMultiplier(n: number, sides: Sides = 2, options?: SequentialOptions): number {
  const { alpha, tuning } = resolve(options, sides);
  if (!(n > 0)) return Number.POSITIVE_INFINITY;
  const rho = mixtureRho(alpha, tuning, sides);
  const v = n * rho * rho;
  const log = sides === 2 ? Math.log(Math.sqrt(v + 1) / alpha) : Math.log1p(Math.sqrt(v + 1) / (2 * alpha));
  return Math.sqrt(((2 * (v + 1)) / v) * log);
}

/**
 * Smallest α at which a sequence with multiplier `z` (in SE units) would just reach θ₀, with ρ
 * fixed at the value tuned for `options.alpha`: the always-valid p-value for an observed
 * |θ̂ − θ₀|/SE = z (two-sided) or signed (θ̂ − θ₀)/SE = z toward the bound's side (one-sided).
 * Computed in log space so that overwhelming evidence underflows smoothly to 0.
 */
export function alwaysValidPValueAt(z: number, n: number, sides: Sides = 2, options?: SequentialOptions): number {
  const { alpha, tuning } = resolve(options, sides);
  if (!(n > 0) || !(z > 0) || Number.isNaN(z)) return 1;
  if (z === Number.POSITIVE_INFINITY) return 0;
  const rho = mixtureRho(alpha, tuning, sides);
  const v = n * rho * rho;
  const t = (v * z * z) / (2 * (v + 1));
  const halfLog = 0.5 * Math.log1p(v);
  if (sides === 2) return Math.min(1, Math.exp(halfLog - t));
  // ln(expm1(t)) = t + ln(1 − e^{−t}), stable for large t.
  const logExpm1 = t > 1 ? t + Math.log1p(-Math.exp(-t)) : Math.log(Math.expm1(t));
  return Math.min(1, Math.exp(halfLog - Math.LN2 - logExpm1));
}

/** An estimate with its standard error and the number of observations behind it. */
export interface NormalEstimate {
  readonly estimate: number;
  readonly standardError: number;
  /** Effective sample size (total over both arms for a difference). */
  readonly n: number;
}

function isDegenerate(e: NormalEstimate): boolean {
  return !(e.n > 0) || !(e.standardError > 0) || !Number.isFinite(e.standardError) || !Number.isFinite(e.estimate);
}

/**
 * Two-sided always-valid confidence interval and p-value (against `nullValue`, default 0) for a
 * normally distributed estimate. With no usable standard error (n ≤ 0, SE ≤ 0 or not finite) no
 * claim can be made: the interval is (−∞, ∞) and p = 1 (GrowthBook returns no result there).
 */
export function alwaysValidNormal(
  e: NormalEstimate,
  options?: SequentialOptions & { nullValue?: number },
): { ci: Interval; pValue: number } {
  resolve(options, 2);
  if (isDegenerate(e)) return { ci: [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY], pValue: 1 };
  const half = alwaysValidMultiplier(e.n, 2, options) * e.standardError;
  const z = Math.abs(e.estimate - (options?.nullValue ?? 0)) / e.standardError;
  return { ci: [e.estimate - half, e.estimate + half], pValue: alwaysValidPValueAt(z, e.n, 2, options) };
}

/**
 * One-sided always-valid bound: `lower` gives L with θ ≥ L for all n (w.p. ≥ 1 − α), `upper`
 * gives U with θ ≤ U. The p-value is the smallest α at which that bound passes `nullValue`
 * (default 0) on the bound's side: for `lower`, evidence that θ > θ₀. Degenerate input → ∓∞, p = 1.
 */
export function alwaysValidNormalBound(
  e: NormalEstimate,
  side: BoundSide,
  options?: SequentialOptions & { nullValue?: number },
): { bound: number; pValue: number } {
  resolve(options, 1);
  if (isDegenerate(e)) return { bound: side === 'lower' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY, pValue: 1 };
  const half = alwaysValidMultiplier(e.n, 1, options) * e.standardError;
  const signed = (e.estimate - (options?.nullValue ?? 0)) / e.standardError;
  const z = side === 'lower' ? signed : -signed;
  return {
    bound: side === 'lower' ? e.estimate - half : e.estimate + half,
    pValue: alwaysValidPValueAt(z, e.n, 1, options),
  };
}

/**
 * The standard normal distribution: erfc, CDF, upper tail and quantile, to about 1e-14 relative.
 *
 * erfc uses two classical expansions rather than a fitted rational approximation, so that every
 * constant here is either exact or derivable:
 * - |x| < 2: the everywhere-convergent series with positive terms (Abramowitz & Stegun 7.1.6)
 *     erf(x) = (2/√π) e^{-x²} Σ_{k≥0} 2^k x^{2k+1} / (1·3·…·(2k+1)),
 *   which has no cancellation; erfc = 1 − erf loses at most ~2.3 digits at x = 2.
 * - |x| ≥ 2: Laplace's continued fraction (A&S 7.1.14), evaluated with the modified Lentz
 *   algorithm (Press et al., Numerical Recipes 3rd ed. §5.2), which is accurate in relative terms
 *   far into the tail (erfc(27) ≈ 5e-319 is still resolved).
 *
 * The quantile starts from P. J. Acklam's rational approximation (2003, relative error 1.15e-9)
 * and applies one Halley step against the CDF above, as Acklam recommends, which brings it to
 * full double precision.
 */

const SQRT_PI = Math.sqrt(Math.PI);
const SQRT_2 = Math.SQRT2;
const SQRT_2PI = Math.sqrt(2 * Math.PI);

/** erf(x) for |x| < ~3 by the positive-term series (A&S 7.1.6). */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let k = 1; k < 200; k++) {
    term *= (2 * x2) / (2 * k + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return (2 / SQRT_PI) * Math.exp(-x2) * sum;
}

/**
 * erfc(x) for x ≥ 2 by the continued fraction (A&S 7.1.14)
 *   erfc(x) = e^{-x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …)))))
 * with the modified Lentz method.
 */
function erfcContinuedFraction(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 5000; k++) {
    const a = k / 2;
    d = x + a * d;
    d = d === 0 ? tiny : d;
    c = x + a / c;
    c = c === 0 ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / (SQRT_PI * f);
}

/** Complementary error function erfc(x) = 1 − erf(x), accurate in relative terms in the right tail. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x < 0) return 2 - erfc(-x);
  if (x < 2) return 1 - erfSeries(x);
  if (x > 27.3) return 0; // erfc(27.3) < smallest subnormal double
  return erfcContinuedFraction(x);
}

/** Error function erf(x). */
export function erf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (Math.abs(x) < 2) return x < 0 ? -erfSeries(-x) : erfSeries(x);
  return x < 0 ? erfc(-x) - 1 : 1 - erfc(x);
}

/** Standard normal density φ(z). */
export function normalPdf(z: number): number {
  return Math.exp(-0.5 * z * z) / SQRT_2PI;
}

/** Standard normal CDF Φ(z) = ½ erfc(−z/√2); accurate in relative terms in the lower tail. */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / SQRT_2);
}

/** Standard normal upper tail 1 − Φ(z) = ½ erfc(z/√2), without the cancellation of 1 − Φ(z). */
export function normalSf(z: number): number {
  return 0.5 * erfc(z / SQRT_2);
}

// Acklam's coefficients (https://web.archive.org/web/20151030215612/http://home.online.no/~pjacklam/notes/invnorm/).
const A = [
  -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239,
] as const;
const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1] as const;
const C = [
  -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783,
] as const;
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416] as const;
const P_LOW = 0.02425;

/** Acklam's approximation for p in (0, 0.5]: the lower half, where we always work. */
function acklamLowerHalf(p: number): number {
  if (p < P_LOW) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q) /
    (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1)
  );
}

/**
 * Standard normal quantile Φ⁻¹(p). p = 0 → −∞, p = 1 → +∞; outside [0, 1] → NaN.
 * Works in the lower half and reflects, since 1 − p is exact for p ≥ 0.5 (Sterbenz) while
 * Φ(x) near 1 cannot resolve small upper-tail probabilities.
 */
export function normalQuantile(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return Number.NaN;
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  if (p > 0.5) return -normalQuantile(1 - p);
  let x = acklamLowerHalf(p);
  // One Halley step on f(x) = Φ(x) − p (Acklam's refinement); skipped where exp(x²/2) overflows,
  // i.e. p below ~1e-300, where the initial approximation is already the best we can state.
  if (x * x < 1400) {
    const e = normalCdf(x) - p;
    const u = e * SQRT_2PI * Math.exp(0.5 * x * x);
    x -= u / (1 + 0.5 * x * u);
  }
  return x;
}

/** Two-sided critical value z_{1−(1−conf)/2}, e.g. 1.959964 for conf = 0.95. */
export function twoSidedCriticalValue(confidence: number): number {
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  return normalQuantile(1 - (1 - confidence) / 2);
}

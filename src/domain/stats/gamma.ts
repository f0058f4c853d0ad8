/**
 * Log-gamma, the regularized incomplete gamma functions, and the chi-square survival function
 * that the sample-ratio-mismatch check needs.
 *
 * ln Γ uses Stirling's asymptotic series with exact Bernoulli-number coefficients (A&S 6.1.40)
 * for x ≥ 10 and the recurrence Γ(x+1) = xΓ(x) below, so its absolute error is ~1e-15 without
 * fitted constants. P(a, x) and Q(a, x) follow Numerical Recipes 3rd ed. §6.2: the power series
 * for x < a + 1 and the Legendre continued fraction (modified Lentz) otherwise, so that the tail
 * that becomes a small p-value is always computed directly, never as 1 − (something near 1).
 */

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** ln Γ(x) for x > 0. */
export function logGamma(x: number): number {
  if (!(x > 0)) return Number.NaN;
  let shift = 0;
  let z = x;
  while (z < 10) {
    shift += Math.log(z);
    z += 1;
  }
  const inv = 1 / z;
  const inv2 = inv * inv;
  // B2/(2·1) z⁻¹ + B4/(4·3) z⁻³ + … + B14/(14·13) z⁻¹³; the next term is below 4e-17 for z ≥ 10.
  const series =
    inv *
    (1 / 12 + inv2 * (-1 / 360 + inv2 * (1 / 1260 + inv2 * (-1 / 1680 + inv2 * (1 / 1188 + inv2 * (-691 / 360360 + inv2 * (1 / 156)))))));
  return (z - 0.5) * Math.log(z) - z + HALF_LOG_2PI + series - shift;
}

const EPS = 1e-16;
const TINY = 1e-300;
const MAX_ITER = 10_000;

/** Power series for the regularized lower incomplete gamma P(a, x), x < a + 1. */
function lowerSeries(a: number, x: number): number {
  let ap = a;
  let term = 1 / a;
  let sum = term;
  for (let i = 0; i < MAX_ITER; i++) {
    ap += 1;
    term *= x / ap;
    sum += term;
    if (Math.abs(term) < Math.abs(sum) * EPS) break;
  }
  return sum * Math.exp(-x + a * Math.log(x) - logGamma(a));
}

/** Continued fraction for the regularized upper incomplete gamma Q(a, x), x ≥ a + 1. */
function upperContinuedFraction(a: number, x: number): number {
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_ITER; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return Math.exp(-x + a * Math.log(x) - logGamma(a)) * h;
}

/** Regularized lower incomplete gamma P(a, x) = γ(a, x)/Γ(a), a > 0, x ≥ 0. */
export function regularizedGammaP(a: number, x: number): number {
  if (!(a > 0) || Number.isNaN(x)) return Number.NaN;
  if (x <= 0) return 0;
  if (x === Number.POSITIVE_INFINITY) return 1;
  return x < a + 1 ? lowerSeries(a, x) : 1 - upperContinuedFraction(a, x);
}

/** Regularized upper incomplete gamma Q(a, x) = Γ(a, x)/Γ(a) = 1 − P(a, x). */
export function regularizedGammaQ(a: number, x: number): number {
  if (!(a > 0) || Number.isNaN(x)) return Number.NaN;
  if (x <= 0) return 1;
  if (x === Number.POSITIVE_INFINITY) return 0;
  return x < a + 1 ? 1 - lowerSeries(a, x) : upperContinuedFraction(a, x);
}

/**
 * Chi-square survival function P(χ²_k ≥ x) = Q(k/2, x/2), the p-value of a goodness-of-fit
 * statistic x on k degrees of freedom.
 */
export function chiSquareSf(x: number, degreesOfFreedom: number): number {
  if (!(degreesOfFreedom > 0)) throw new RangeError(`degrees of freedom must be positive, got ${degreesOfFreedom}`);
  return regularizedGammaQ(degreesOfFreedom / 2, x / 2);
}

/**
 * The regularized incomplete beta function and what it gives: Student's t tail and quantile
 * (small-sample tenant-level intervals) and exact binomial tails (the SRM test).
 *
 * I_x(a, b) by the continued fraction of DLMF 8.17.22, evaluated with the modified Lentz method
 * (Press et al., Numerical Recipes 3rd ed. §6.4), on the side x < (a + 1)/(a + b + 2) where it
 * converges fast, and the symmetry I_x(a, b) = 1 − I_{1−x}(b, a) otherwise; the small tail is
 * always the one computed directly, so tiny p-values keep their relative accuracy.
 */
import { logGamma } from './gamma.js';

/** ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b). */
export function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

const EPS = 1e-15;
const TINY = 1e-300;

function continuedFraction(x: number, a: number, b: number): number {
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m < 100_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return h;
}

/** Regularized incomplete beta I_x(a, b) for a, b > 0 and 0 ≤ x ≤ 1. */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (!(a > 0 && b > 0) || Number.isNaN(x)) return Number.NaN;
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const logFront = a * Math.log(x) + b * Math.log1p(-x) - logBeta(a, b);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(logFront) * continuedFraction(x, a, b)) / a;
  return 1 - (Math.exp(logFront) * continuedFraction(1 - x, b, a)) / b;
}

/** Upper tail of Student's t with `df` > 0 degrees of freedom: P(T ≥ t). */
export function studentTSf(t: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`degrees of freedom must be positive, got ${df}`);
  if (Number.isNaN(t)) return Number.NaN;
  if (t === Number.POSITIVE_INFINITY) return 0;
  if (t === Number.NEGATIVE_INFINITY) return 1;
  // P(|T| ≥ |t|) = I_{df/(df + t²)}(df/2, 1/2).
  const tail = 0.5 * regularizedBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? tail : 1 - tail;
}

/** The t with P(T ≥ t) = p (0 < p < 1), by bisection on the tail (monotone; 1e-12 relative). */
export function studentTQuantileUpper(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`tail probability must be in (0, 1), got ${p}`);
  if (p > 0.5) return -studentTQuantileUpper(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (studentTSf(hi, df) > p) {
    lo = hi;
    hi *= 2;
    if (hi > 1e12) return hi;
  }
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = 0.5 * (lo + hi);
    if (studentTSf(mid, df) > p) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

/** ln of the binomial probability P(X = k), X ~ Bin(n, p). */
export function binomialLogPmf(k: number, n: number, p: number): number {
  if (k < 0 || k > n) return Number.NEGATIVE_INFINITY;
  if (p === 0) return k === 0 ? 0 : Number.NEGATIVE_INFINITY;
  if (p === 1) return k === n ? 0 : Number.NEGATIVE_INFINITY;
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1) + k * Math.log(p) + (n - k) * Math.log1p(-p);
}

/** P(X ≤ k), X ~ Bin(n, p): I_{1−p}(n − k, k + 1). */
export function binomialCdf(k: number, n: number, p: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  return regularizedBeta(1 - p, n - k, k + 1);
}

/** P(X ≥ k), X ~ Bin(n, p): I_p(k, n − k + 1). */
export function binomialSf(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  return regularizedBeta(p, k, n - k + 1);
}

/**
 * Two-sided exact binomial test of X = x against Bin(n, p): the probability of every outcome no
 * more likely than the one observed ("minimum likelihood" rule of R's binom.test, with its
 * relative tolerance 1 + 1e-7 for ties). The other tail's edge is found by bisection on the pmf,
 * which is unimodal, so the cost is O(log n) whatever n.
 */
export function binomialTestTwoSided(x: number, n: number, p: number): number {
  if (!(Number.isInteger(x) && Number.isInteger(n) && x >= 0 && x <= n)) throw new RangeError(`invalid binomial count: x=${x}, n=${n}`);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`p must be in [0, 1], got ${p}`);
  if (n === 0) return 1;
  if (p === 0) return x === 0 ? 1 : 0;
  if (p === 1) return x === n ? 1 : 0;
  const mode = Math.floor((n + 1) * p);
  const limit = binomialLogPmf(x, n, p) + Math.log1p(1e-7);
  if (x === mode || binomialLogPmf(mode, n, p) <= limit) return 1;
  if (x < mode) {
    // Smallest y ≥ mode with pmf(y) ≤ pmf(x): the upper tail starts there.
    let lo = mode;
    let hi = n + 1;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (binomialLogPmf(mid, n, p) <= limit) hi = mid;
      else lo = mid;
    }
    return Math.min(1, binomialCdf(x, n, p) + (hi <= n ? binomialSf(hi, n, p) : 0));
  }
  // x > mode: largest y ≤ mode with pmf(y) ≤ pmf(x): the lower tail ends there.
  let lo = -1;
  let hi = mode;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (binomialLogPmf(mid, n, p) <= limit) lo = mid;
    else hi = mid;
  }
  return Math.min(1, (lo >= 0 ? binomialCdf(lo, n, p) : 0) + binomialSf(x, n, p));
}

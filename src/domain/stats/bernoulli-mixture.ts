/**
 * One Bernoulli stream's one-sided mixture martingale: the building block of every finite-sample
 * confidence sequence in this folder (rate-sequence.ts, difference-sequence.ts).
 *
 * For a null rate p₀ and x events in n trials, each exponential tilt λ gives the likelihood ratio
 * of the tilted Bernoulli against p₀,
 *   exp(λx − n·ψ_{p₀}(λ)),   ψ_{p₀}(λ) = ln(1 − p₀ + p₀e^λ) = ln(1 + p₀·expm1(λ)),
 * a nonnegative martingale with mean 1 under p₀ whatever the order or the stopping rule; a mixture
 * of them over λ (weights summing to at most 1) is one too (Robbins 1970; Howard, Ramdas,
 * McAuliffe & Sekhon 2021, "Time-uniform, nonparametric, nonasymptotic confidence sequences",
 * Ann. Statist. 49:1055, §3). By Ville's inequality it exceeds 1/α at some n with probability at
 * most α: that is the whole finite-sample, time-uniform guarantee, exact for Bernoulli data.
 *
 * One-sided: direction `up` mixes λ ≥ 0 only (evidence that the rate is ABOVE p₀), `down` λ ≤ 0.
 * An upward term is decreasing in p₀ (ψ_{p₀}(λ) grows with p₀ for λ > 0), so the mixture is a
 * supermartingale under every rate ≤ p₀: one process tests the composite null "rate ≤ p₀", and
 * the rejected set of p₀ is an interval, which is what lets a bound be found by bisection.
 * Every term is log-convex in p₀ (−n·ψ_{p₀}(λ) is convex: ψ is the log of a linear function of p₀),
 * so ln M(p₀) is convex; difference-sequence.ts relies on that to minimise over a nuisance exactly.
 *
 * The mixing distribution over λ is a scale σ times a fixed shape (`MIXTURE_SHAPE`): half-normal
 * masses on a geometric grid of u = λ/σ, the discretized one-sided normal mixture of Howard et al.
 * (§3.2, "normal mixture"); a discrete mixture is as valid as a continuous one and needs no
 * numerical integration. The grid's ratio (1.18) keeps the loss from discreteness under ~0.05 nats
 * at the tilts where decisions happen; its span (u from 0.004 to 8) covers sample sizes from a
 * hundredth to ten thousand times the one the scale is tuned for. Mass below the grid is an atom
 * at λ = 0 (a "no bet" term equal to 1).
 */
import { normalCdf } from './normal.js';

export type TiltDirection = 'up' | 'down';

/** The shape of the mixing distribution over u = λ/σ: a half-normal, discretized. */
const U_MIN = 0.004;
const U_MAX = 8;
const U_RATIO = 1.18;

interface Shape {
  readonly u: Float64Array;
  readonly logWeight: Float64Array;
  readonly atomLogWeight: number;
}

function buildShape(): Shape {
  const nodes: number[] = [];
  for (let u = U_MIN; u <= U_MAX * (1 + 1e-12); u *= U_RATIO) nodes.push(u);
  const sqrtR = Math.sqrt(U_RATIO);
  // Half-normal mass of [a, b): 2(Φ(b) − Φ(a)).
  const mass = (a: number, b: number) => 2 * (normalCdf(b) - normalCdf(a));
  const u = new Float64Array(nodes.length);
  const logWeight = new Float64Array(nodes.length);
  for (let k = 0; k < nodes.length; k++) {
    const node = nodes[k] as number;
    u[k] = node;
    const lo = node / sqrtR;
    const hi = k === nodes.length - 1 ? Number.POSITIVE_INFINITY : node * sqrtR;
    logWeight[k] = Math.log(mass(lo, hi));
  }
  return { u, logWeight, atomLogWeight: Math.log(mass(0, U_MIN / sqrtR)) };
}

/** The fixed shape every mixture scales; its weights sum to 1. */
export const MIXTURE_SHAPE: Shape = buildShape();

/** A mixture at one scale and direction, with the per-node constants precomputed. */
export interface TiltMixture {
  readonly direction: TiltDirection;
  readonly scale: number;
  /** Signed tilts ±σu_k. */
  readonly lambda: Float64Array;
  /** expm1(±σu_k). */
  readonly em1: Float64Array;
  readonly logWeight: Float64Array;
  readonly atomLogWeight: number;
}

const cache = new Map<string, TiltMixture>();

/** The mixture with scale σ > 0 in the given direction (memoized: a few dozen distinct scales). */
export function tiltMixture(scale: number, direction: TiltDirection): TiltMixture {
  if (!(scale > 0) || !Number.isFinite(scale)) throw new RangeError(`mixture scale must be positive, got ${scale}`);
  const key = `${direction}:${scale}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const sign = direction === 'up' ? 1 : -1;
  const k = MIXTURE_SHAPE.u.length;
  const lambda = new Float64Array(k);
  const em1 = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    lambda[i] = sign * scale * (MIXTURE_SHAPE.u[i] as number);
    em1[i] = Math.expm1(lambda[i] as number);
  }
  const m: TiltMixture = { direction, scale, lambda, em1, logWeight: MIXTURE_SHAPE.logWeight, atomLogWeight: MIXTURE_SHAPE.atomLogWeight };
  if (cache.size > 4096) cache.clear();
  cache.set(key, m);
  return m;
}

/** ln M, and its first two derivatives in p₀ (M is log-convex in p₀, so `d2` ≥ 0). */
export interface LogMixture {
  readonly value: number;
  readonly d1: number;
  readonly d2: number;
}

/**
 * ln M(p₀) for x events in n trials, 0 ≤ p₀ ≤ 1, with its derivatives in p₀.
 * Computed as a log-sum-exp, so overwhelming evidence neither overflows nor underflows.
 * x may be fractional (an interpolated count); n = 0 gives ln M = 0.
 */
export function logMixture(m: TiltMixture, x: number, n: number, p0: number): LogMixture {
  const k = m.lambda.length;
  let max = m.atomLogWeight;
  // First pass: exponents (kept on the stack through a small reusable buffer).
  const t = scratch(k);
  const d = scratch2(k);
  for (let i = 0; i < k; i++) {
    const e = m.em1[i] as number;
    const denom = 1 + p0 * e;
    const v = (m.logWeight[i] as number) + (m.lambda[i] as number) * x - n * Math.log1p(p0 * e);
    t[i] = v;
    d[i] = (-n * e) / denom;
    if (v > max) max = v;
  }
  let sum = Math.exp(m.atomLogWeight - max);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < k; i++) {
    const w = Math.exp((t[i] as number) - max);
    const di = d[i] as number;
    const e = m.em1[i] as number;
    const denom = 1 + p0 * e;
    sum += w;
    s1 += w * di;
    s2 += w * ((n * e * e) / (denom * denom) + di * di);
  }
  const d1 = s1 / sum;
  return { value: max + Math.log(sum), d1, d2: Math.max(0, s2 / sum - d1 * d1) };
}

/** ln M(p₀) alone (no derivatives): the cheap path for a single look. */
export function logMixtureValue(m: TiltMixture, x: number, n: number, p0: number): number {
  const k = m.lambda.length;
  const t = scratch(k);
  let max = m.atomLogWeight;
  for (let i = 0; i < k; i++) {
    const v = (m.logWeight[i] as number) + (m.lambda[i] as number) * x - n * Math.log1p(p0 * (m.em1[i] as number));
    t[i] = v;
    if (v > max) max = v;
  }
  let sum = Math.exp(m.atomLogWeight - max);
  for (let i = 0; i < k; i++) sum += Math.exp((t[i] as number) - max);
  return max + Math.log(sum);
}

let buf1 = new Float64Array(64);
let buf2 = new Float64Array(64);
function scratch(k: number): Float64Array {
  if (buf1.length < k) buf1 = new Float64Array(k);
  return buf1;
}
function scratch2(k: number): Float64Array {
  if (buf2.length < k) buf2 = new Float64Array(k);
  return buf2;
}

/**
 * The scale σ at which a mixture is tightest near `tuning` trials of a stream whose rate is near
 * `rate`: the half-normal's spread in λ is c/√(tuning·rate(1−rate)), i.e. the normal mixture's
 * v = nρ² of Howard et al. equals c² at n = tuning, whatever the base rate (the Fisher information
 * of n trials is n·rate(1−rate)). c = TUNING_SPREAD was chosen by simulation (bench/calibrate.ts).
 */
export const TUNING_SPREAD = 2;

export function mixtureScale(rate: number, tuning: number): number {
  const r = Math.min(Math.max(rate, 1e-6), 1 - 1e-6);
  return TUNING_SPREAD / Math.sqrt(tuning * r * (1 - r));
}

/**
 * Seeded pseudo-random numbers for the Monte Carlo calibration and the planner: the same seed
 * gives the same figures on every machine (pure JavaScript arithmetic, no Math.random).
 *
 * - Uniforms: xoshiro128** (Blackman & Vigna 2018, "Scrambled linear pseudorandom number
 *   generators"), 128-bit state seeded through splitmix32, two outputs per double (53 bits).
 * - Normals: Marsaglia's polar method.
 * - Gamma: Marsaglia & Tsang (2000, ACM TOMS 26:363), with the a < 1 boost U^{1/a}.
 * - Binomial: exact. Small n·min(p, 1−p): inversion by sequential search of the CDF; otherwise
 *   Knuth's recursive splitting through a Beta order statistic (TAOCP vol. 2, §3.4.1, ex. 27:
 *   the a-th smallest of n uniforms is Beta(a, n + 1 − a)), which needs O(log n) gamma deviates.
 */

export interface Random {
  /** Uniform on [0, 1). */
  next(): number;
  normal(): number;
  gamma(shape: number): number;
  beta(a: number, b: number): number;
  binomial(n: number, p: number): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** A seeded generator; `seed` is any integer (its low 32 bits matter) or a pair for substreams. */
export function createRandom(seed: number, stream = 0): Random {
  const sm = splitmix32((seed ^ Math.imul(stream >>> 0, 0x632be5ab)) >>> 0);
  let a = sm();
  let b = sm();
  let c = sm();
  let d = sm();
  if ((a | b | c | d) === 0) a = 1;
  const u32 = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5) >>> 0, 7), 9) >>> 0;
    const t = (b << 9) >>> 0;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result;
  };
  const next = (): number => ((u32() >>> 5) * 67108864 + (u32() >>> 6)) / 9007199254740992;

  let spare: number | undefined;
  const normal = (): number => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    for (;;) {
      const u = 2 * next() - 1;
      const v = 2 * next() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const m = Math.sqrt((-2 * Math.log(s)) / s);
        spare = v * m;
        return u * m;
      }
    }
  };

  const gamma = (shape: number): number => {
    if (!(shape > 0)) throw new RangeError(`gamma shape must be positive, got ${shape}`);
    if (shape < 1) {
      let u = next();
      while (u === 0) u = next();
      return gamma(shape + 1) * Math.pow(u, 1 / shape);
    }
    const dd = shape - 1 / 3;
    const cc = 1 / Math.sqrt(9 * dd);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = normal();
        v = 1 + cc * x;
      } while (v <= 0);
      v = v * v * v;
      const u = next();
      if (u < 1 - 0.0331 * x * x * x * x) return dd * v;
      if (u > 0 && Math.log(u) < 0.5 * x * x + dd * (1 - v + Math.log(v))) return dd * v;
    }
  };

  const beta = (x: number, y: number): number => {
    const g1 = gamma(x);
    const g2 = gamma(y);
    return g1 / (g1 + g2);
  };

  const inversion = (n: number, p: number): number => {
    // P(X = 0) = (1 − p)^n; walk up the CDF with the pmf ratio.
    const q = 1 - p;
    const ratio = p / q;
    let pmf = Math.pow(q, n);
    let u = next();
    let k = 0;
    while (u > pmf && k < n) {
      u -= pmf;
      pmf *= (ratio * (n - k)) / (k + 1);
      k++;
    }
    return k;
  };

  const binomial = (n: number, p: number): number => {
    if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`binomial n must be a non-negative integer, got ${n}`);
    if (!(p >= 0 && p <= 1)) throw new RangeError(`binomial p must be in [0, 1], got ${p}`);
    let offset = 0;
    let count = n;
    let prob = p;
    // Knuth's splitting until the remaining problem is small.
    while (count > 0 && prob > 0 && prob < 1 && count * Math.min(prob, 1 - prob) > 20) {
      const a = 1 + (count >> 1);
      const b = count + 1 - a;
      const x = beta(a, b);
      if (x >= prob) {
        count = a - 1;
        prob = prob / x;
      } else {
        offset += a;
        count = b - 1;
        prob = (prob - x) / (1 - x);
      }
    }
    if (count === 0 || prob <= 0) return offset;
    if (prob >= 1) return offset + count;
    return prob <= 0.5 ? offset + inversion(count, prob) : offset + count - inversion(count, 1 - prob);
  };

  const int = (n: number): number => Math.floor(next() * n);

  return { next, normal, gamma, beta, binomial, int };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

import { describe, expect, it } from 'vitest';
import {
  createRandom,
  histogramCountAbove,
  histogramCountAboveInterpolated,
  histogramQuantile,
  histogramQuantileBound,
  holm,
  LATENCY_BUCKET_COUNT,
  LATENCY_BUCKET_UPPER_BOUNDS_MS,
  latencyBucketIndex,
  quantileDifference,
  quantileSorted,
  rateRejects,
} from '../../../src/domain/stats/index.js';

describe("Holm's step-down procedure", () => {
  it('rejects step by step at α/m, α/(m−1), … and stops at the first failure', () => {
    // α = 0.05, m = 4: thresholds 0.0125, 0.0167, 0.025, 0.05.
    const r = holm([0.01, 0.04, 0.015, 0.03], 0.05);
    expect(r.rejected).toEqual([true, false, true, false]);
    expect(r.levels[0]).toBeCloseTo(0.0125, 12);
    expect(r.levels[2]).toBeCloseTo(0.05 / 3, 12);
    expect(r.levels[3]).toBeCloseTo(0.025, 12); // the step that stopped
    expect(r.levels[1]).toBeCloseTo(0.025, 12); // not reached: the stopping level
  });

  it('is uniformly more powerful than Bonferroni with the same first step', () => {
    const ps = [0.012, 0.02, 0.3];
    expect(holm(ps, 0.05).rejected).toEqual([true, true, false]);
    expect(ps.map((p) => p <= 0.05 / 3)).toEqual([true, false, false]);
    expect(holm([], 0.05).rejected).toEqual([]);
    expect(() => holm([1.2], 0.05)).toThrow(RangeError);
  });
});

/** Log-normal latencies (ms) and their histogram. */
function sample(n: number, median: number, sigma: number, seed: number): { values: number[]; counts: number[] } {
  const r = createRandom(seed);
  const counts = new Array<number>(LATENCY_BUCKET_COUNT).fill(0);
  const values: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = median * Math.exp(sigma * r.normal());
    values.push(v);
    const b = latencyBucketIndex(v);
    counts[b] = (counts[b] as number) + 1;
  }
  return { values, counts };
}

describe('latency guardrail: the bucket that straddles max is interpolated', () => {
  it('issue 15, case 5: true p95 at 0.985·max reads about 4.7% slower, not 5.5%', () => {
    const { values, counts } = sample(200_000, 400, 0.5, 1);
    const p95 = quantileSorted(
      [...values].sort((a, b) => a - b),
      0.95,
    ) as number;
    const max = p95 / 0.985;
    const exact = values.filter((v) => v > max).length / values.length;
    const whole = histogramCountAbove(counts, max).atMost / values.length;
    const interpolated = histogramCountAboveInterpolated(counts, max) / values.length;
    expect(Math.abs(interpolated - exact)).toBeLessThan(0.001);
    expect(whole - exact).toBeGreaterThan(0.002);
    // With 200k runs the guardrail (lower bound of the share > 5%) no longer fires.
    expect(rateRejects(interpolated * values.length, values.length, 0.05, 'lower', 0.05, { center: 0.05, tuning: 2000 })).toBe(false);
  });

  it('splits a bucket by log-latency and leaves edges exact', () => {
    const counts = new Array<number>(LATENCY_BUCKET_COUNT).fill(0);
    const b = latencyBucketIndex(300);
    counts[b] = 100;
    const lo = LATENCY_BUCKET_UPPER_BOUNDS_MS[b - 1] as number;
    const hi = LATENCY_BUCKET_UPPER_BOUNDS_MS[b] as number;
    expect(histogramCountAboveInterpolated(counts, Math.sqrt(lo * hi))).toBeCloseTo(50, 9);
    expect(histogramCountAboveInterpolated(counts, hi)).toBe(0);
    expect(histogramCountAboveInterpolated(counts, lo)).toBe(100);
  });
});

describe('quantile confidence sequence (Howard & Ramdas 2022) from histograms', () => {
  it('brackets the true p95, looked at every 100 runs, in at least 1 − α of sequences', () => {
    const trueP95 = 400 * Math.exp(0.5 * 1.6448536269514722);
    let misses = 0;
    const sequences = 100;
    for (let s = 0; s < sequences; s++) {
      const r = createRandom(77, s);
      const counts = new Array<number>(LATENCY_BUCKET_COUNT).fill(0);
      let miss = false;
      for (let n = 1; n <= 4000 && !miss; n++) {
        const b = latencyBucketIndex(400 * Math.exp(0.5 * r.normal()));
        counts[b] = (counts[b] as number) + 1;
        if (n % 100 === 0) {
          const lo = histogramQuantileBound(counts, 0.95, 'lower', 0.05);
          const hi = histogramQuantileBound(counts, 0.95, 'upper', 0.05);
          if (lo > trueP95 || hi < trueP95) miss = true;
        }
      }
      if (miss) misses++;
    }
    expect(misses / sequences).toBeLessThanOrEqual(0.05 + 3 * Math.sqrt((0.05 * 0.95) / sequences));
  });

  it('bounds the difference of p95s: an A/A includes 0, a 30% slower candidate is caught', () => {
    const a = sample(20_000, 400, 0.5, 5).counts;
    const b = sample(20_000, 400, 0.5, 6).counts;
    const slow = sample(20_000, 520, 0.5, 7).counts;
    const aa = quantileDifference(a, b, 0.95, 0.05);
    expect(aa.interval[0]).toBeLessThan(0);
    expect(aa.interval[1]).toBeGreaterThan(0);
    const ab = quantileDifference(slow, b, 0.95, 0.05);
    expect(ab.interval[0]).toBeGreaterThan(50);
    expect(ab.estimate).toBeCloseTo((histogramQuantile(slow, 0.95) as number) - (histogramQuantile(b, 0.95) as number), 9);
    expect(quantileDifference([], b, 0.95, 0.05).estimate).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import {
  histogramCountAbove,
  histogramQuantile,
  LATENCY_BUCKET_COUNT,
  LATENCY_BUCKET_UPPER_BOUNDS_MS,
  LATENCY_HISTOGRAM_GAMMA,
  LATENCY_HISTOGRAM_MAX_MS,
  LATENCY_HISTOGRAM_RELATIVE_ERROR,
  latencyBucketIndex,
  latencyBucketValue,
  quantile,
  quantileSorted,
} from '../../../src/domain/stats/index.js';
import { REF } from './fixtures/reference-values.js';
import { expectClose } from './helpers.js';

function histogram(sample: readonly number[]): number[] {
  const counts = new Array<number>(LATENCY_BUCKET_COUNT).fill(0);
  for (const ms of sample) counts[latencyBucketIndex(ms)]! += 1;
  return counts;
}

describe('exact percentiles (Hyndman & Fan definition 7)', () => {
  it.each(Object.entries(REF.percentiles))('p%s of a 1001-run log-normal sample matches statistics.quantiles(inclusive)', (k, v) => {
    expectClose(quantile(REF.percentileSample, Number(k) / 100)!, v, 1e-12);
  });
  it.each(Object.entries(REF.percentilesSmall))('p%s of a 6-value sample', (k, v) => {
    expectClose(quantile(REF.percentileSmall, Number(k) / 100)!, v, 1e-12);
  });
  it('edge cases', () => {
    expect(quantileSorted([], 0.5)).toBeUndefined();
    expect(quantileSorted([42], 0.95)).toBe(42);
    expect(quantileSorted([1, 2], 0)).toBe(1);
    expect(quantileSorted([1, 2], 1)).toBe(2);
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5); // numpy.percentile([1,2,3,4], 50)
    expect(() => quantileSorted([1], 1.5)).toThrow(RangeError);
  });
});

describe('log-spaced latency histogram (DDSketch layout, α = 2%)', () => {
  it('layout is fixed: stored counts depend on it', () => {
    expect(LATENCY_HISTOGRAM_RELATIVE_ERROR).toBe(0.02);
    expect(LATENCY_BUCKET_COUNT).toBe(380);
    expect(LATENCY_BUCKET_UPPER_BOUNDS_MS[0]).toBe(1);
    expect(LATENCY_BUCKET_UPPER_BOUNDS_MS.at(-1)!).toBeGreaterThanOrEqual(LATENCY_HISTOGRAM_MAX_MS);
    expect(LATENCY_BUCKET_UPPER_BOUNDS_MS.at(-2)!).toBeLessThan(LATENCY_HISTOGRAM_MAX_MS);
    expect(Object.isFrozen(LATENCY_BUCKET_UPPER_BOUNDS_MS)).toBe(true);
  });

  it('bucket index: boundaries are inclusive upper ends', () => {
    const b = LATENCY_BUCKET_UPPER_BOUNDS_MS;
    expect(latencyBucketIndex(0)).toBe(0);
    expect(latencyBucketIndex(1)).toBe(0);
    expect(latencyBucketIndex(1.0001)).toBe(1);
    expect(latencyBucketIndex(b[100]!)).toBe(100);
    expect(latencyBucketIndex(b[100]! * (1 + 1e-12))).toBe(101);
    expect(latencyBucketIndex(1e9)).toBe(LATENCY_BUCKET_COUNT - 1);
    expect(() => latencyBucketIndex(Number.NaN)).toThrow(RangeError);
  });

  it('every bucket value is within α of every latency in its bucket', () => {
    const b = LATENCY_BUCKET_UPPER_BOUNDS_MS;
    const worst = (LATENCY_HISTOGRAM_GAMMA - 1) / (LATENCY_HISTOGRAM_GAMMA + 1);
    expect(worst).toBeCloseTo(0.02, 15);
    for (let i = 1; i < b.length; i++) {
      const v = latencyBucketValue(i);
      for (const x of [b[i - 1]! * (1 + 1e-12), Math.sqrt(b[i - 1]! * b[i]!), b[i]!]) {
        expect(Math.abs(v - x) / x).toBeLessThanOrEqual(0.02 + 1e-12);
      }
    }
    expect(latencyBucketValue(0)).toBe(0.5);
    expect(latencyBucketValue(LATENCY_BUCKET_COUNT - 1)).toBe(b.at(-1));
    expect(() => latencyBucketValue(LATENCY_BUCKET_COUNT)).toThrow(RangeError);
  });

  it('histogram percentiles are within 2% of the exact definition-7 percentiles', () => {
    const counts = histogram(REF.percentileSample);
    for (const [k, exact] of Object.entries(REF.percentiles)) {
      const approx = histogramQuantile(counts, Number(k) / 100)!;
      expect(Math.abs(approx - exact) / exact).toBeLessThanOrEqual(LATENCY_HISTOGRAM_RELATIVE_ERROR + 1e-12);
    }
  });

  it('histogram edge cases: empty, one run, trailing zeros trimmed, bad counts', () => {
    expect(histogramQuantile([], 0.95)).toBeUndefined();
    expect(histogramQuantile([0, 0, 0], 0.5)).toBeUndefined();
    const one = histogram([1234]);
    expect(Math.abs(histogramQuantile(one, 0.99)! - 1234) / 1234).toBeLessThanOrEqual(0.02);
    const trimmed = one.slice(0, latencyBucketIndex(1234) + 1);
    expect(histogramQuantile(trimmed, 0.5)).toBe(histogramQuantile(one, 0.5));
    expect(() => histogramQuantile([1.5], 0.5)).toThrow(RangeError);
    expect(() => histogramQuantile(new Array<number>(LATENCY_BUCKET_COUNT + 1).fill(0), 0.5)).toThrow(RangeError);
  });

  it('counts runs slower than a threshold, with the straddling bucket made explicit', () => {
    const sample = [100, 200, 900, 1000, 1100, 5000, 5000, 20_000];
    const counts = histogram(sample);
    const r = histogramCountAbove(counts, 1000);
    expect(r.atLeast).toBeLessThanOrEqual(4);
    expect(r.atMost).toBeGreaterThanOrEqual(4);
    expect(r.atMost - r.atLeast).toBeLessThanOrEqual(2); // only 1000's own bucket is ambiguous
    const edge = LATENCY_BUCKET_UPPER_BOUNDS_MS[200]!;
    const exact = histogramCountAbove(histogram([edge, edge * 1.0001]), edge);
    expect(exact).toEqual({ atLeast: 1, atMost: 1 });
    expect(histogramCountAbove([], 500)).toEqual({ atLeast: 0, atMost: 0 });
  });
});

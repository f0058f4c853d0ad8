import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { logMixture, logMixtureValue, MIXTURE_SHAPE, tiltMixture } from '../../../src/domain/stats/index.js';

describe('one-sided Bernoulli tilt mixture (the martingale every sequence is built from)', () => {
  it('has weights (atom included) summing to 1', () => {
    let sum = Math.exp(MIXTURE_SHAPE.atomLogWeight);
    for (const w of MIXTURE_SHAPE.logWeight) sum += Math.exp(w);
    expect(sum).toBeCloseTo(1, 12);
  });

  it('is a martingale under p₀, exactly: p₀·M(x+1, n+1) + (1 − p₀)·M(x, n+1) = M(x, n)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 400 }),
        fc.integer({ min: 0, max: 400 }),
        fc.double({ min: 0.0005, max: 0.9995, noNaN: true }),
        fc.double({ min: 0.01, max: 5, noNaN: true }),
        fc.constantFrom('up' as const, 'down' as const),
        (a, b, p0, scale, dir) => {
          const x = Math.min(a, b);
          const n = Math.max(a, b);
          const m = tiltMixture(scale, dir);
          const now = logMixtureValue(m, x, n, p0);
          const next = Math.log(
            p0 * Math.exp(logMixtureValue(m, x + 1, n + 1, p0) - now) + (1 - p0) * Math.exp(logMixtureValue(m, x, n + 1, p0) - now),
          );
          expect(Math.abs(next)).toBeLessThan(1e-9);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('up-tilts decrease and down-tilts increase in p₀, and ln M is convex in p₀', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 1, max: 300 }),
        fc.double({ min: 0.05, max: 3, noNaN: true }),
        (a, b, scale) => {
          const x = Math.min(a, b);
          const n = Math.max(a, b);
          const up = tiltMixture(scale, 'up');
          const down = tiltMixture(scale, 'down');
          let prevUp = Number.POSITIVE_INFINITY;
          let prevDown = Number.NEGATIVE_INFINITY;
          const values: number[] = [];
          for (let i = 1; i < 40; i++) {
            const p = i / 40;
            const u = logMixture(up, x, n, p);
            const d = logMixtureValue(down, x, n, p);
            expect(u.value).toBeLessThanOrEqual(prevUp + 1e-9);
            expect(d).toBeGreaterThanOrEqual(prevDown - 1e-9);
            expect(u.d1).toBeLessThanOrEqual(1e-9);
            expect(u.d2).toBeGreaterThanOrEqual(0);
            prevUp = u.value;
            prevDown = d;
            values.push(u.value);
          }
          for (let i = 1; i + 1 < values.length; i++)
            expect((values[i - 1] as number) + (values[i + 1] as number) - 2 * (values[i] as number)).toBeGreaterThanOrEqual(-1e-7);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('derivatives match finite differences', () => {
    const m = tiltMixture(0.7, 'up');
    for (const p of [0.01, 0.1, 0.4]) {
      const h = 1e-6;
      const at = logMixture(m, 30, 200, p);
      const d1 = (logMixtureValue(m, 30, 200, p + h) - logMixtureValue(m, 30, 200, p - h)) / (2 * h);
      const d2 = (logMixture(m, 30, 200, p + h).d1 - logMixture(m, 30, 200, p - h).d1) / (2 * h);
      expect(at.d1).toBeCloseTo(d1, 4);
      expect(at.d2 / d2).toBeCloseTo(1, 4);
    }
  });

  it('no data is no evidence (ln M = 0), and it stays finite at p₀ = 0 and 1', () => {
    const m = tiltMixture(1, 'up');
    expect(logMixtureValue(m, 0, 0, 0.3)).toBeCloseTo(0, 12);
    expect(Number.isFinite(logMixtureValue(m, 5, 10, 0))).toBe(true);
    expect(Number.isFinite(logMixtureValue(m, 5, 10, 1))).toBe(true);
    expect(() => tiltMixture(0, 'up')).toThrow(RangeError);
  });
});

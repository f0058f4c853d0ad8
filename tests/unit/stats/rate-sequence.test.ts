import { describe, expect, it } from 'vitest';
import {
  createRandom,
  rateBound,
  rateInterval,
  ratePValue,
  rateRejects,
  wilsonInterval,
  type RateDesign,
} from '../../../src/domain/stats/index.js';

describe('finite-sample confidence sequence for one rate', () => {
  it('bound and test agree at the design center, p < α iff rejected', () => {
    const design: RateDesign = { center: 0.02, tuning: 500 };
    for (const [x, n] of [
      [0, 50],
      [3, 100],
      [9, 200],
      [30, 1000],
      [45, 1000],
      [400, 10000],
    ] as const) {
      const rejects = rateRejects(x, n, 0.02, 'lower', 0.05, design);
      const bound = rateBound(x, n, 'lower', 0.05, design);
      expect(bound > 0.02 || (!rejects && bound <= 0.02)).toBe(true);
      if (rejects) expect(bound).toBeGreaterThanOrEqual(0.02);
      expect(ratePValue(x, n, 0.02, 'lower', design) <= 0.05).toBe(rejects);
    }
  });

  it('is wider than the fixed-horizon Wilson interval, and handles 0 and n events', () => {
    const design: RateDesign = { center: 0.1, tuning: 500 };
    for (const [x, n] of [
      [5, 40],
      [40, 400],
      [0, 300],
      [300, 300],
    ] as const) {
      const [lo, hi] = rateInterval(x, n, 0.05, design);
      const [wl, wh] = wilsonInterval(x, n, 0.95);
      expect(lo).toBeLessThanOrEqual(wl + 1e-12);
      expect(hi).toBeGreaterThanOrEqual(wh - 1e-12);
    }
    expect(rateBound(0, 300, 'lower', 0.05, design)).toBe(0);
    expect(rateBound(300, 300, 'upper', 0.05, design)).toBe(1);
    expect(rateBound(0, 0, 'upper', 0.05, design)).toBe(1);
  });

  it('keeps time-uniform coverage at small rates, checked after every run (seeded simulation)', () => {
    // The asymptotic bound it replaces crossed 0.005 in 6.3% of A/A sequences at α = 0.05.
    const random = createRandom(2024);
    for (const p of [0.002, 0.02]) {
      const design: RateDesign = { center: p, tuning: 500 };
      let crossed = 0;
      const sequences = 400;
      for (let s = 0; s < sequences; s++) {
        let x = 0;
        for (let n = 1; n <= 3000; n++) {
          if (random.next() < p) x++;
          if (n % 10 === 0 && rateRejects(x, n, p, 'lower', 0.05, design)) {
            crossed++;
            break;
          }
        }
      }
      const rate = crossed / sequences;
      expect(rate).toBeLessThanOrEqual(0.05 + 3 * Math.sqrt((0.05 * 0.95) / sequences));
    }
  });

  it('catches an error rate twice its limit within a few hundred runs', () => {
    const random = createRandom(5);
    const at: number[] = [];
    for (let s = 0; s < 100; s++) {
      let x = 0;
      for (let n = 1; n <= 5000; n++) {
        if (random.next() < 0.1) x++;
        if (n % 20 === 0 && rateRejects(x, n, 0.05, 'lower', 0.05, { center: 0.05, tuning: 500 })) {
          at.push(n);
          break;
        }
      }
    }
    expect(at.length).toBe(100);
    at.sort((a, b) => a - b);
    expect(at[50]).toBeLessThan(500);
  });
});

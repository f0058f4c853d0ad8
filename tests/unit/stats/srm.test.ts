import { describe, expect, it } from 'vitest';
import { sampleRatioMismatch } from '../../../src/domain/stats/index.js';
import { REF } from './fixtures/reference-values.js';
import { expectClose } from './helpers.js';

describe('sample ratio mismatch', () => {
  it.each(REF.srm.map((c, i) => [i, c] as const))('case %s matches the Python chi-square', (_, c) => {
    const r = sampleRatioMismatch(c.stages);
    expectClose(r.chiSquare, c.chiSquare, 1e-12, 1e-12);
    expect(r.degreesOfFreedom).toBe(c.df);
    expectClose(r.pValue, c.pValue, 1e-10, 1e-300);
    expectClose(r.expectedCandidateShare, c.expected, 1e-14);
    expectClose(r.observedCandidateShare, c.observed, 1e-14);
    expect(r.mismatch).toBe(c.pValue < 0.001);
  });

  it('textbook: 560 vs 440 at 50/50 is χ² = 14.4, p ≈ 0.000148, a mismatch', () => {
    const r = sampleRatioMismatch([{ expectedCandidateShare: 0.5, candidate: 560, control: 440 }]);
    expect(r.chiSquare).toBeCloseTo(14.4, 12);
    expect(r.pValue).toBeCloseTo(0.000148, 6);
    expect(r.mismatch).toBe(true);
  });

  it('skips 100% (and 0%) stages and empty ones; nothing left → p = 1', () => {
    const r = sampleRatioMismatch([
      { expectedCandidateShare: 1, candidate: 40, control: 0 },
      { expectedCandidateShare: 0.1, candidate: 0, control: 0 },
    ]);
    expect(r).toMatchObject({ pValue: 1, mismatch: false, degreesOfFreedom: 0, expectedCandidateShare: 1, observedCandidateShare: 1 });
    const mixed = sampleRatioMismatch([
      { expectedCandidateShare: 1, candidate: 40, control: 0 },
      { expectedCandidateShare: 0.5, candidate: 10, control: 10 },
    ]);
    expect(mixed).toMatchObject({ pValue: 1, degreesOfFreedom: 1, expectedCandidateShare: 0.5, observedCandidateShare: 0.5 });
    expect(sampleRatioMismatch([])).toMatchObject({ pValue: 1, mismatch: false, observedCandidateShare: 0 });
    expect(() => sampleRatioMismatch([{ expectedCandidateShare: 1.5, candidate: 1, control: 1 }])).toThrow(RangeError);
  });
});

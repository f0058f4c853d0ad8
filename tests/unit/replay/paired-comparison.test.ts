/** The paired comparison of two replays: pairing by (case, repeat), errors, per-field tables. */
import { describe, expect, it } from 'vitest';
import type { ScoredResult } from '../../../src/domain/model/replay.js';
import { comparePaired, pairedBounds } from '../../../src/domain/replay/paired-comparison.js';
import { mcnemarExactPValue, pairedDifference } from '../../../src/domain/stats/mcnemar.js';

const r = (caseId: string, fields: string[], extra: Partial<ScoredResult> = {}): ScoredResult => ({
  caseId,
  repeat: 0,
  overridden: fields.length > 0,
  fields,
  latencyMs: 1,
  errored: false,
  ...extra,
});

describe('comparePaired', () => {
  const a = [r('1', []), r('2', ['total']), r('3', ['total', 'vendor']), r('4', []), r('5', [], { errored: true }), r('6', [])];
  const b = [r('1', ['vendor']), r('2', []), r('3', ['total']), r('4', []), r('5', []), r('7', [])];

  it('pairs by case, leaves failed calls and unpartnered results out, and counts the table', () => {
    const c = comparePaired(a, b, { fields: ['date'] });
    expect(c).toMatchObject({
      pairs: 4,
      bothOk: 1,
      onlyAOverridden: 1,
      onlyBOverridden: 1,
      bothOverridden: 1,
      errors: { a: 1, b: 0, both: 0 },
      unpaired: { a: 1, b: 1 },
    });
    expect(c.warnings).toEqual(['incomplete']);
    expect(c.difference.estimate).toBe(0);
    expect(c.mcnemarPValue).toBe(1);
    expect(c.byField.total).toMatchObject({
      pairs: 4,
      onlyAOverridden: 1,
      bothOverridden: 1,
      onlyBOverridden: 0,
      aOverrideRate: 0.5,
      bOverrideRate: 0.25,
    });
    expect(c.byField.vendor).toMatchObject({ onlyAOverridden: 1, onlyBOverridden: 1, bothOverridden: 0 });
    expect(c.byField.date).toMatchObject({ pairs: 4, bothOk: 4 });
    expect(c.discordant.map((d) => d.caseId)).toEqual(['1', '2']);
    expect(c.difference.ci).toEqual(pairedDifference({ both: 1, onlyFirst: 1, onlySecond: 1, neither: 1 }).interval);
  });

  it("a gate counts the candidate's failed calls against it and leaves out the control's", () => {
    const control = [r('1', []), r('2', []), r('3', [], { errored: true }), r('4', [], { errored: true })];
    const candidate = [r('1', [], { errored: true }), r('2', []), r('3', []), r('4', [], { errored: true })];
    const c = comparePaired(control, candidate, { errors: 'againstB' });
    // 1: only the candidate failed (overridden); 2: both answered; 3: the control failed; 4: both failed.
    expect(c).toMatchObject({ pairs: 2, bothOk: 1, onlyBOverridden: 1, onlyAOverridden: 0, errors: { a: 1, b: 1, both: 1 } });
    expect(c.discordant).toEqual([{ caseId: '1', repeat: 0, aFields: [], bFields: [] }]);
    const bounds = pairedBounds(c, 0.05);
    expect(bounds.estimate).toBeCloseTo(1 / 2, 12);
    expect(bounds.lower).toBeLessThan(bounds.estimate);
    expect(bounds.upper).toBeGreaterThan(bounds.estimate);
  });

  it('two versions that fail every case compare nothing: no rates, no estimate, the widest bounds, warnings', () => {
    const failing = Array.from({ length: 60 }, (_, i) => r(String(i), [], { errored: true }));
    for (const errors of ['excluded', 'againstB'] as const) {
      const c = comparePaired(failing, failing, { errors });
      expect(c).toMatchObject({ pairs: 0, bothOverridden: 0, aOverrideRate: null, bOverrideRate: null, errors: { both: 60 } });
      expect(c.difference).toEqual({ estimate: null, ci: [-1, 1] });
      expect(c.warnings).toEqual(['no_pairs', 'mostly_errors']);
      const bounds = pairedBounds(c, 0.05);
      expect([bounds.lower, bounds.upper]).toEqual([-1, 1]);
    }
    // Errors that outnumber the pairs compared are a warning too.
    const some = comparePaired(
      [r('1', []), r('2', [], { errored: true }), r('3', [], { errored: true })],
      [r('1', []), r('2', []), r('3', [])],
    );
    expect(some.warnings).toEqual(['mostly_errors']);
  });

  it('with repeats the case is the unit: the interval and p of 50 cases × 2 agreeing repeats are those of 50 cases', () => {
    const results = (repeats: number, overridden: (i: number) => boolean) =>
      Array.from({ length: 50 }, (_, i) =>
        Array.from({ length: repeats }, (_, repeat) => r(String(i), overridden(i) ? ['total'] : [], { repeat })),
      ).flat();
    const once = comparePaired(
      results(1, () => false),
      results(1, (i) => i < 10),
    );
    const twice = comparePaired(
      results(2, () => false),
      results(2, (i) => i < 10),
    );
    expect(twice).toMatchObject({ pairs: 100, onlyBOverridden: 20, units: { cases: 50, effective: 50, results: 100 } });
    expect(twice.difference.estimate).toBeCloseTo(once.difference.estimate!, 12);
    expect(twice.difference.ci[0]).toBeCloseTo(once.difference.ci[0], 12);
    expect(twice.difference.ci[1]).toBeCloseTo(once.difference.ci[1], 12);
    expect(twice.mcnemarPValue).toBe(mcnemarExactPValue(0, 10));
    expect(twice.byField.total!.difference.ci[0]).toBeCloseTo(once.byField.total!.difference.ci[0], 12);
    const [g1, g2] = [pairedBounds(once, 0.05), pairedBounds(twice, 0.05)];
    expect(g2.lower).toBeCloseTo(g1.lower, 12);
    expect(g2.upper).toBeCloseTo(g1.upper, 12);
  });

  it('pairs repeats with the same repeat and warns that repeats share cases', () => {
    const ra = [r('1', []), r('1', ['x'], { repeat: 1 })];
    const rb = [r('1', ['x']), r('1', ['x'], { repeat: 1 })];
    const c = comparePaired(ra, rb);
    expect(c).toMatchObject({ pairs: 2, onlyBOverridden: 1, bothOverridden: 1 });
    expect(c.warnings).toContain('repeated_cases');
    expect(c.mcnemarPValue).toBe(mcnemarExactPValue(0, 1));
  });
});

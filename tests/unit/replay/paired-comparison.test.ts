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

  it('a gate scores failed calls as overridden', () => {
    const c = comparePaired(a, b, { errors: 'overridden' });
    expect(c).toMatchObject({ pairs: 5, onlyAOverridden: 2, onlyBOverridden: 1 });
    const bounds = pairedBounds(c, 0.05);
    expect(bounds.estimate).toBeCloseTo(-1 / 5, 12);
    expect(bounds.lower).toBeLessThan(bounds.estimate);
    expect(bounds.upper).toBeGreaterThan(bounds.estimate);
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

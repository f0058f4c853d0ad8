/**
 * A replay's summary: nothing scored is not "none overridden" (null rates), and with repeats the
 * case, not the result, is the unit of the interval (50 cases × 2 repeats are 50 cases).
 */
import { describe, expect, it } from 'vitest';
import type { ScoredResult } from '../../../src/domain/model/replay.js';
import { summarizeReplay } from '../../../src/domain/replay/summarize.js';
import { wilsonInterval } from '../../../src/domain/stats/proportions.js';

const r = (caseId: string, extra: Partial<ScoredResult> = {}): ScoredResult => ({
  caseId,
  repeat: 0,
  overridden: false,
  fields: [],
  latencyMs: 5,
  errored: false,
  ...extra,
});

describe('summarizeReplay', () => {
  it('a replay whose every call failed has no override rate, interval or field rates', () => {
    const failed = Array.from({ length: 10 }, (_, i) => r(String(i), { errored: true }));
    const s = summarizeReplay(failed, ['total'], 1);
    expect(s).toMatchObject({ cases: 10, errors: 10, errorRate: 1, overridden: 0 });
    expect(s.overrideRate).toBeNull();
    expect(s.overrideRateCI).toBeNull();
    expect(s.fieldOverrideRates).toEqual({ total: null });
    const repeated = summarizeReplay(
      failed.map((x) => ({ ...x, repeat: 1 })),
      [],
      2,
    );
    expect(repeated.repeatDisagreement).toEqual({ cases: 0, disagreeing: 0, rate: null });
  });

  it('one result per case: the Wilson interval over the results, as before', () => {
    const results = Array.from({ length: 100 }, (_, i) => r(String(i), { overridden: i < 10, fields: i < 10 ? ['total'] : [] }));
    const s = summarizeReplay(results, ['total', 'vendor'], 1);
    expect(s.overrideRate).toBe(0.1);
    expect(s.overrideRateCI).toEqual(wilsonInterval(10, 100));
    expect(s.fieldOverrideRates).toEqual({ total: 0.1, vendor: 0 });
  });

  it('with repeats the interval is over the cases: 50 cases × 2 repeats give the interval of 50 cases', () => {
    const results = Array.from({ length: 50 }, (_, i) =>
      [0, 1].map((repeat) => r(String(i), { repeat, overridden: true, fields: ['total'] })),
    ).flat();
    const s = summarizeReplay(results, ['total'], 2);
    expect(s).toMatchObject({ cases: 100, overridden: 100, overrideRate: 1 });
    expect(s.overrideRateCI).toEqual(wilsonInterval(50, 50));
    expect(s.overrideRateCI![0]).toBeLessThan(wilsonInterval(100, 100)[0]);
    // A case whose repeat failed weighs less: the effective number of cases is (Σk)²/Σk² < 50.
    const oneFailed = results.map((x, i) => (i === 1 ? { ...x, errored: true } : x));
    const t = summarizeReplay(oneFailed, ['total'], 2);
    const effective = 99 ** 2 / (49 * 4 + 1);
    expect(t.overrideRateCI![0]).toBeCloseTo(wilsonInterval(effective, effective)[0], 12);
  });
});

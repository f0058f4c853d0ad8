import { describe, expect, it } from 'vitest';
import { mcnemarExactPValue } from '../../../src/domain/stats/mcnemar.js';
import {
  assembleShadowReport,
  shadowGateStatus,
  type ShadowAggregates,
  type ShadowCell,
} from '../../../src/domain/shadow/shadow-report.js';

const cell = (
  tenantId: string,
  stage: number | null,
  controlOverridden: boolean,
  candidateOverridden: boolean,
  pairs: number,
): ShadowCell => ({
  tenantId,
  stage,
  controlOverridden,
  candidateOverridden,
  pairs,
});

const aggregates: ShadowAggregates = {
  cells: [
    cell('acme', 0, false, false, 50),
    cell('acme', 0, true, false, 4),
    cell('acme', 0, false, true, 12),
    cell('acme', 0, true, true, 6),
    cell('globex', 1, false, false, 20),
    cell('globex', 1, false, true, 8),
  ],
  fields: [
    { field: 'total', onlyControl: 3, onlyCandidate: 15, both: 5 },
    { field: 'date', onlyControl: 1, onlyCandidate: 2, both: 0 },
  ],
  shadowRuns: 105,
  candidateErrors: 5,
  promptTokens: 1000,
  completionTokens: 200,
  skipped: { budget: 3, concurrency: 1 },
};

describe('the shadow report', () => {
  it('adds the cells into the 2×2 table and derives the rates on the same calls', () => {
    const r = assembleShadowReport(aggregates, 0.05);
    expect(r).toMatchObject({ pairs: 100, bothOk: 70, onlyControlOverridden: 4, onlyCandidateOverridden: 20, bothOverridden: 6 });
    expect(r.controlOverrideRate).toBeCloseTo(0.1, 12);
    expect(r.candidateOverrideRate).toBeCloseTo(0.26, 12);
    expect(r.difference.estimate).toBeCloseTo(0.16, 12);
    expect(r.mcnemarPValue).toBe(mcnemarExactPValue(4, 20));
    expect(r.difference.ci[0]).toBeGreaterThan(0);
    expect(r.difference.alwaysValidCI[0]).toBeLessThan(r.difference.ci[0]);
    expect(r.difference.alwaysValidPValue).toBeGreaterThan(r.mcnemarPValue);
    expect(r).toMatchObject({
      shadowRuns: 105,
      candidateErrors: 5,
      skipped: { budget: 3, concurrency: 1 },
      cost: { promptTokens: 1000, completionTokens: 200 },
    });
    expect(r.warnings).toEqual(['shadow_anchoring']);
  });

  it('breaks down by tenant, stage and field', () => {
    const r = assembleShadowReport(aggregates, 0.05);
    expect(r.byTenant.map((t) => [t.tenant, t.pairs, t.onlyCandidateOverridden])).toEqual([
      ['acme', 72, 12],
      ['globex', 28, 8],
    ]);
    expect(r.byStage.map((s) => [s.stage, s.pairs])).toEqual([
      [0, 72],
      [1, 28],
    ]);
    expect(Object.keys(r.byField)).toEqual(['date', 'total']);
    expect(r.byField.total).toMatchObject({
      pairs: 100,
      bothOk: 77,
      onlyControlOverridden: 3,
      onlyCandidateOverridden: 15,
      bothOverridden: 5,
    });
  });

  it('is empty but well formed without pairs', () => {
    const r = assembleShadowReport(
      {
        cells: [],
        fields: [],
        shadowRuns: 0,
        candidateErrors: 0,
        promptTokens: 0,
        completionTokens: 0,
        skipped: { budget: 0, concurrency: 0 },
      },
      0.05,
    );
    expect(r).toMatchObject({
      pairs: 0,
      controlOverrideRate: 0,
      candidateOverrideRate: 0,
      mcnemarPValue: 1,
      byTenant: [],
      byStage: [],
      byField: {},
    });
    expect(r.difference).toMatchObject({ estimate: 0, ci: [-1, 1], alwaysValidCI: [-1, 1], alwaysValidPValue: 1 });
  });
});

describe('the shadow gate', () => {
  const table = (bothOk: number, onlyControl: number, onlyCandidate: number, both: number) => ({
    bothOk,
    onlyControlOverridden: onlyControl,
    onlyCandidateOverridden: onlyCandidate,
    bothOverridden: both,
  });

  it('waits for minPairs, passes when the upper bound is within maxIncrease, fails when the lower bound is above it', () => {
    expect(shadowGateStatus(table(40, 2, 2, 5), { maxIncrease: 0.05, minPairs: 100 }, 0.05).status).toBe('waiting');
    expect(shadowGateStatus(table(1800, 100, 100, 0), { maxIncrease: 0.05, minPairs: 100 }, 0.05).status).toBe('passed');
    expect(shadowGateStatus(table(300, 10, 190, 0), { maxIncrease: 0.05, minPairs: 100 }, 0.05).status).toBe('failed');
    // Too few pairs to tell either way: keeps waiting past minPairs.
    const undecided = shadowGateStatus(table(100, 5, 10, 5), { maxIncrease: 0.05, minPairs: 100 }, 0.05);
    expect(undecided.status).toBe('waiting');
    expect(undecided.lowerBound).toBeLessThan(0.05);
    expect(undecided.upperBound).toBeGreaterThan(0.05);
  });
});

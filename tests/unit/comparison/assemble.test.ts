import { describe, expect, it } from 'vitest';
import { assembleComparison, reviewRateImbalance, stageKind } from '../../../src/domain/comparison/assemble.js';
import { emptyCounts } from '../../../src/domain/comparison/counts.js';
import type { Cell } from '../../../src/domain/comparison/types.js';
import {
  compareProportions,
  compareRatios,
  DEFAULT_DIFFERENCE_TUNING,
  histogramQuantile,
  stratifiedInterval,
  stratifiedTwoSidedPValue,
  tenantLevelEstimate,
  tenantLevelInterval,
  latencyBucketIndex,
  mantelHaenszelRiskDifference,
  sampleRatioMismatch,
  sequentialSrm,
  wilsonInterval,
} from '../../../src/domain/stats/index.js';
import { cell, input, stage } from './fixtures.js';

describe('assembling a comparison from aggregates', () => {
  it('sums cells into arms with the contract’s rates and intervals', () => {
    const r = assembleComparison(
      input({
        cells: [
          cell(0, 'candidate', 'acme', { runs: 60, errors: 5, reviewed: 40, overridden: 10, fields: { total: 8, vendor: 3 } }),
          cell(0, 'candidate', 'globex', { runs: 40, errors: 0, reviewed: 30, overridden: 3, fields: { total: 3 } }),
          cell(0, 'control', 'acme', { runs: 50, errors: 1, reviewed: 45, overridden: 5, fields: { date: 5 } }),
          cell(0, 'control', 'globex', { runs: 50, errors: 2, reviewed: 40, overridden: 4, fields: { total: 4 } }),
        ],
      }),
    );
    expect(r.controlArm).toBe('randomized');
    expect(r.analysisUnit).toBe('run');
    expect(r.arms.candidate).toMatchObject({
      version: 'v2',
      runs: 100,
      errors: 5,
      errorRate: 0.05,
      reviewed: 70,
      overridden: 13,
      reviewRate: 70 / 95,
    });
    expect(r.arms.candidate.overrideRate).toBe(13 / 70);
    expect(r.arms.candidate.overrideRateCI).toEqual(wilsonInterval(13, 70));
    // Both arms report the same fields, 0 where an arm never changed one.
    expect(r.arms.candidate.fieldOverrideRates).toEqual({ date: 0, total: 11 / 70, vendor: 3 / 70 });
    expect(r.arms.control.fieldOverrideRates).toEqual({ date: 5 / 85, total: 4 / 85, vendor: 0 });
    expect(r.arms.control.latencyMs).toEqual({ p50: null, p95: null, p99: null });
    // Fixed-sample figures as before; the always-valid ones from the finite-sample sequence the guardrails use.
    const fixed = (d: { estimate: number; ci: readonly number[]; pValue: number }) => ({
      estimate: d.estimate,
      ci: d.ci,
      pValue: d.pValue,
    });
    expect(fixed(r.difference.overrideRate)).toEqual(fixed(compareProportions({ x: 13, n: 70 }, { x: 9, n: 85 })));
    expect(fixed(r.difference.errorRate)).toEqual(fixed(compareProportions({ x: 5, n: 100 }, { x: 3, n: 100 })));
    const seq = [{ share: 0.5, candidate: { x: 13, n: 70 }, control: { x: 9, n: 85 } }];
    const design = { tuning: DEFAULT_DIFFERENCE_TUNING, center: 0, plannedStrata: 1 };
    expect(r.difference.overrideRate.alwaysValidCI).toEqual(stratifiedInterval(seq, 0.05, design));
    expect(r.difference.overrideRate.alwaysValidPValue).toBe(stratifiedTwoSidedPValue(seq, design));
    expect(r.difference.overrideRate.method).toMatch(/^finite-sample-cs:product-of-one-sided-bernoulli-mixtures/);
    expect(r.byTenant.map((t) => t.tenant)).toEqual(['acme', 'globex']);
    expect(r.byTenant[0]!.arms.candidate.reviewed).toBe(40);
    expect(r.verdict).toBe('insufficient_data'); // 70 and 85 reviewed
  });

  it('stratifies by stage with Mantel–Haenszel weights: Simpson’s paradox', () => {
    // Stage 0 (easy documents): 1% vs 0.5%. Stage 1 (hard documents): 50% vs 25%. The candidate
    // is worse in both stages, but it got mostly easy documents and the control mostly hard ones,
    // so pooled it looks far better (9.2% against 20.9%).
    const cells = [
      cell(0, 'candidate', 'acme', { reviewed: 1000, overridden: 10 }),
      cell(0, 'control', 'acme', { reviewed: 200, overridden: 1 }),
      cell(1, 'candidate', 'acme', { reviewed: 200, overridden: 100 }),
      cell(1, 'control', 'acme', { reviewed: 1000, overridden: 250 }),
    ];
    const r = assembleComparison(input({ stages: [stage(0, 83.3), stage(1, 16.7)], cells }));
    expect(r.arms.candidate.overrideRate).toBeCloseTo(110 / 1200, 12);
    expect(r.arms.control.overrideRate).toBeCloseTo(251 / 1200, 12);
    const pooled = compareProportions({ x: 110, n: 1200 }, { x: 251, n: 1200 });
    expect(pooled.alwaysValidCI[1]).toBeLessThan(0); // pooled, the candidate would "win"

    const mh = mantelHaenszelRiskDifference([
      { candidate: { x: 10, n: 1000 }, control: { x: 1, n: 200 } },
      { candidate: { x: 100, n: 200 }, control: { x: 250, n: 1000 } },
    ]);
    expect(r.difference.overrideRate.estimate).toBeCloseTo(mh.estimate, 12);
    expect(r.difference.overrideRate.estimate).toBeGreaterThan(0);
    // The always-valid interval is the stratified finite-sample sequence (worst stage), never pooled.
    expect(r.difference.overrideRate.method).toMatch(/^stratified-worst-stage\(2 planned\):finite-sample-cs/);
    expect(r.difference.overrideRate.alwaysValidCI[0]).toBeGreaterThan(0);
    expect(r.verdict).toBe('candidate_worse');
    // Each stage on its own says the same.
    expect(r.byStage.map((s) => s.difference.overrideRate.estimate > 0)).toEqual([true, true]);
    expect(r.byStage[1]!.verdict).toBe('candidate_worse');
  });

  it('leaves a 100% stage out of the top-level difference when another stage is randomized', () => {
    const cells = [
      cell(0, 'candidate', 'acme', { reviewed: 5000, overridden: 4000, environment: 'staging' }),
      cell(1, 'candidate', 'acme', { reviewed: 150, overridden: 15 }),
      cell(1, 'control', 'acme', { reviewed: 150, overridden: 15 }),
    ];
    const r = assembleComparison(input({ stages: [stage(0, 100, 'unit', ['staging']), stage(1, 10)], cells }));
    expect(r.controlArm).toBe('randomized');
    expect(r.warnings).toContain('stage_without_randomized_control');
    expect(r.arms.candidate.reviewed).toBe(5150);
    expect(r.difference.overrideRate.estimate).toBe(0);
    expect(r.verdict).toBe('no_significant_difference');
    expect(r.byStage[0]).toMatchObject({ controlArm: 'baseline', verdict: 'insufficient_data' });
  });

  it('uses the baseline as control when every stage sends all traffic to the candidate', () => {
    const baselineCells = [cell(0, 'control', 'acme', { reviewed: 300, overridden: 30 })];
    const r = assembleComparison(
      input({
        stages: [stage(0, 100, 'tenant')],
        cells: [cell(0, 'candidate', 'acme', { reviewed: 300, overridden: 150 })],
        baseline: {
          kind: 'same_tenants_before',
          byStage: new Map([[0, baselineCells]]),
          overall: baselineCells,
          description: { lookbackHours: 168 },
        },
      }),
    );
    expect(r.controlArm).toBe('baseline');
    expect(r.analysisUnit).toBe('run');
    expect(r.baseline).toEqual({ kind: 'same_tenants_before', lookbackHours: 168 });
    expect(r.warnings).toEqual(['baseline_observational', 'baseline_same_tenants_before']);
    expect(r.arms.control.reviewed).toBe(300);
    expect(r.difference.overrideRate.alwaysValidCI[0]).toBeGreaterThan(0);
    expect(r.verdict).toBe('no_significant_difference');
    const empty = assembleComparison(
      input({ stages: [stage(0, 100)], cells: [cell(0, 'candidate', 'acme', { reviewed: 3, overridden: 1 })] }),
    );
    expect(empty.warnings).toContain('baseline_empty');
  });

  it('analyses whole-tenant splits per tenant and applies the tenant rule', () => {
    const cells: Cell[] = [];
    for (let t = 0; t < 24; t++) {
      const arm = t % 2 === 0 ? 'candidate' : 'control';
      cells.push(cell(0, arm, `t${t}`, { reviewed: 20 + t, overridden: arm === 'candidate' ? 10 + (t % 5) : 2 + (t % 3) }));
    }
    const r = assembleComparison(input({ stages: [stage(0, 50, 'tenant')], cells }));
    expect(r.analysisUnit).toBe('tenant');
    const units = (arm: string) => cells.filter((c) => c.arm === arm).map((c) => ({ num: c.overridden, den: c.reviewed }));
    const { candidate: _c, control: _t, ...expected } = compareRatios(units('candidate'), units('control'));
    expect(r.difference.overrideRate).toMatchObject({ estimate: expected.estimate, ci: expected.ci, pValue: expected.pValue });
    // The always-valid interval is tenant-level (CR2, one cluster per tenant).
    const tenantRows = (arm: string) =>
      cells.filter((c) => c.arm === arm).map((c) => ({ tenant: c.tenantId!, x: c.overridden, n: c.reviewed }));
    const e = tenantLevelEstimate([{ candidate: tenantRows('candidate'), control: tenantRows('control') }]);
    expect(r.difference.overrideRate.alwaysValidCI).toEqual(tenantLevelInterval(e, 0.05).map((x) => Math.min(1, Math.max(-1, x))));
    expect(r.difference.overrideRate.method).toMatch(/^tenant-cluster:cr2/);
    expect(r.warnings).not.toContain('too_few_tenants');
    expect(r.verdict).toBe('candidate_worse');

    const few = assembleComparison(input({ stages: [stage(0, 50, 'tenant')], cells: cells.slice(0, 16) }));
    expect(few.warnings).toContain('too_few_tenants');
    expect(few.verdict).toBe('insufficient_data');
    expect(few.byStage[0]!.verdict).toBe('insufficient_data');
  });

  it('flags sample ratio mismatch on the distinct assignment keys', () => {
    const assignments = [
      { stage: 0, arm: 'candidate' as const, keys: 600 },
      { stage: 0, arm: 'control' as const, keys: 400 },
    ];
    const r = assembleComparison(input({ stages: [stage(0, 50)], assignments }));
    const srm = sampleRatioMismatch([{ expectedCandidateShare: 0.5, candidate: 600, control: 400 }]);
    const seq = sequentialSrm([{ share: 0.5, candidate: 600, control: 400 }]);
    expect(r.srm).toMatchObject({
      expectedCandidateShare: 0.5,
      observedCandidateShare: 0.6,
      // The sequential test decides (valid under continual checking); chi-square is shown.
      pValue: seq.pValue,
      chiSquare: srm.chiSquare,
      mismatch: true,
      keys: { control: 400, candidate: 600 },
      keysInBothArms: 0,
    });
    expect(r.srm.pValue).toBeGreaterThan(srm.pValue);
    expect(r.warnings).not.toContain('keys_in_both_arms');
    // A key served by both arms of a stage means assignment is not sticky: counted per stage.
    const leaky = assembleComparison(
      input({
        stages: [stage(0, 50)],
        assignments,
        keysInBothArms: [
          { stage: 0, keys: 2 },
          { stage: 3, keys: 9 },
        ],
      }),
    );
    expect(leaky.srm.keysInBothArms).toBe(2);
    expect(leaky.byStage[0]!.srm.keysInBothArms).toBe(2);
    expect(leaky.warnings).toContain('keys_in_both_arms');
    expect(r.warnings).toContain('srm_mismatch');
  });

  it('warns when the arms are reviewed at different rates', () => {
    const a = { ...emptyCounts(), runs: 1000, reviewed: 500 };
    const b = { ...emptyCounts(), runs: 1000, reviewed: 300 };
    const strata = (candidate: typeof b) => [{ stage: 0, share: 0.5, control: a, candidate }];
    expect(reviewRateImbalance(strata(b), 'run').imbalance).toBe(true);
    expect(reviewRateImbalance(strata({ ...b, reviewed: 490 }), 'run').imbalance).toBe(false);
    // Per stratum: two stages that are each balanced are not flagged, though pooled they differ.
    const c = { ...emptyCounts(), runs: 1000, reviewed: 900 };
    const pooledWouldFlag = [
      { stage: 0, share: 0.1, control: { ...c, runs: 9000, reviewed: 8100 }, candidate: c },
      { stage: 1, share: 0.9, control: { ...a, runs: 100, reviewed: 50 }, candidate: { ...a, runs: 900, reviewed: 450 } },
    ];
    expect(reviewRateImbalance(pooledWouldFlag, 'run').imbalance).toBe(false);
    const r = assembleComparison(
      input({
        cells: [
          cell(0, 'control', 'acme', { runs: 1000, reviewed: 500, overridden: 5 }),
          cell(0, 'candidate', 'acme', { runs: 1000, reviewed: 300, overridden: 5 }),
        ],
      }),
    );
    expect(r.warnings).toContain('review_rate_imbalance');
  });

  it('reports tokens per run over the runs whose upstream reported usage, and latency from the histogram', () => {
    const c = cell(0, 'candidate', 'acme', { runs: 10, reviewed: 4, overridden: 1 });
    c.tokenRuns = 4;
    c.promptTokens = 400;
    c.completionTokens = 100;
    c.latencyHist[latencyBucketIndex(120)] = 9;
    c.latencyHist[latencyBucketIndex(3000)] = 1;
    const r = assembleComparison(input({ cells: [c] }));
    expect(r.arms.candidate.tokensPerRun).toEqual({ prompt: 100, completion: 25, total: 125, runs: 4 });
    expect(r.arms.control.tokensPerRun).toBeNull();
    expect(r.arms.candidate.latencyMs).toEqual({
      p50: histogramQuantile(c.latencyHist, 0.5),
      p95: histogramQuantile(c.latencyHist, 0.95),
      p99: histogramQuantile(c.latencyHist, 0.99),
    });
    expect(r.arms.candidate.latencyMs.p50! / 120).toBeCloseTo(1, 1);
  });

  it('classifies stages by their split', () => {
    expect([0, 0.1, 50, 99.9, 100].map(stageKind)).toEqual(['all_control', 'randomized', 'randomized', 'randomized', 'all_candidate']);
  });
});

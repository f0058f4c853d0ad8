/**
 * ComparisonService over a canned read model and in-memory rollouts: which aggregates it reads
 * for which question (window, stage, baseline), and what it hands the guardrails. The statistics
 * themselves are tested in tests/unit/comparison and tests/unit/stats.
 */
import { describe, expect, it } from 'vitest';
import { emptyCounts } from '../../../src/domain/comparison/counts.js';
import type { Arm, Cell } from '../../../src/domain/comparison/types.js';
import { BadRequestError } from '../../../src/domain/model/errors.js';
import { rolloutSpecSchema, type RolloutSpecInput } from '../../../src/domain/model/rollout-spec.js';
import { ComparisonService } from '../../../src/domain/services/comparison-service.js';
import { CannedComparisonReadModel } from '../../support/in-memory/comparison-read-model.js';
import { CHAIN, world } from '../../support/in-memory/world.js';

const HOUR = 60 * 60 * 1000;

function cellOf(arm: Arm, tenantId: string, c: { runs: number; errors?: number; reviewed: number; overridden: number }, stage = 0): Cell {
  return { ...emptyCounts(), ...c, errors: c.errors ?? 0, stage, arm, tenantId, environment: 'prod' };
}

async function setup(spec: Partial<RolloutSpecInput> = {}) {
  const w = await world();
  const rollout = await w.rollouts.create(
    rolloutSpecSchema.parse({
      chain: CHAIN,
      control: 'v1',
      candidate: 'v2',
      stages: [{ environments: ['prod'], percent: 50, splitBy: 'unit' }],
      guardrails: [{ metric: 'error_rate', max: 0.1, minSamples: 100 }],
      ...spec,
    }),
    'admin:test',
  );
  const readModel = new CannedComparisonReadModel();
  const comparison = new ComparisonService({
    rollouts: w.rollouts,
    readModel,
    requireEnvironment: (chain, environment, field) => w.catalog.requireEnvironmentOf(chain, environment, field),
    now: w.now,
  });
  return { w, rollout, readModel, comparison };
}

describe('ComparisonService', () => {
  it("compares the rollout's all-time cells when no window is asked for, over its life so far", async () => {
    const { w, rollout, readModel, comparison } = await setup();
    readModel.cells = [
      cellOf('control', 'acme', { runs: 400, reviewed: 400, overridden: 40 }),
      cellOf('candidate', 'acme', { runs: 400, reviewed: 400, overridden: 80 }),
    ];
    w.clock.now = new Date(w.clock.now.getTime() + 3 * HOUR);
    const c = await comparison.compare(rollout.id);
    expect(c.window).toEqual({ from: rollout.createdAt.toISOString(), to: w.now().toISOString(), granularity: 'rollout' });
    expect(c.arms.control).toMatchObject({ runs: 400, overridden: 40 });
    expect(c.arms.candidate).toMatchObject({ runs: 400, overridden: 80 });
    expect(c.controlArm).toBe('randomized');
    expect(c.warnings).not.toContain('window_widened_to_hours');
    expect(readModel.reads.find((r) => r.method === 'rolloutCells')?.args[1]).toMatchObject({ window: undefined });
    // The guardrails come with it, from the per-stage strata.
    expect(c.guardrails).toHaveLength(1);
    expect(c.guardrails[0]).toMatchObject({ metric: 'error_rate', status: 'holding' });
  });

  it('widens a window to whole hours, says so, and reads the hourly cells', async () => {
    const { rollout, readModel, comparison } = await setup();
    const from = new Date(rollout.createdAt.getTime() + 10 * 60_000);
    const to = new Date(rollout.createdAt.getTime() + 2 * HOUR);
    const c = await comparison.compare(rollout.id, { from, to, tenant: 'acme' });
    expect(c.warnings).toContain('window_widened_to_hours');
    expect(c.window.granularity).toBe('hour');
    expect(new Date(c.window.from).getTime() % HOUR).toBe(0);
    expect(readModel.reads.find((r) => r.method === 'rolloutCells')?.args[1]).toMatchObject({
      tenant: 'acme',
      window: { from: new Date(c.window.from), to: new Date(c.window.to) },
    });
  });

  it('refuses a stage the rollout does not have', async () => {
    const { rollout, comparison } = await setup();
    await expect(comparison.compare(rollout.id, { stage: 1 })).rejects.toBeInstanceOf(BadRequestError);
  });

  it('ends the window at the end of a rollout that was rolled back', async () => {
    const { w, rollout, comparison } = await setup();
    w.clock.now = new Date(w.clock.now.getTime() + HOUR);
    const { rollout: ended } = await w.rollouts.act(rollout.id, 'rollback', 'admin:test');
    w.clock.now = new Date(w.clock.now.getTime() + 5 * HOUR);
    expect((await comparison.compare(rollout.id)).window.to).toBe(ended.updatedAt.toISOString());
  });

  it('hands the guardrails the randomized arms, and they breach on a candidate that errors', async () => {
    const { rollout, readModel, comparison } = await setup();
    readModel.cells = [
      cellOf('control', 'acme', { runs: 2000, errors: 20, reviewed: 1500, overridden: 0 }),
      cellOf('candidate', 'acme', { runs: 2000, errors: 600, reviewed: 1000, overridden: 0 }),
    ];
    const inputs = await comparison.guardrailInputs(rollout.id);
    expect(inputs).toMatchObject({ controlArm: 'randomized', plannedStrata: 1 });
    expect(inputs.strata).toHaveLength(1);
    expect(inputs.strata[0]).toMatchObject({ stage: 0, share: 0.5, candidate: { runs: 2000, errors: 600 }, control: { runs: 2000 } });
    expect(inputs.tenants).toBeUndefined(); // a unit split: per run
    const evaluation = await comparison.evaluateGuardrails(rollout);
    expect(evaluation.guardrails[0]).toMatchObject({ metric: 'error_rate', status: 'breached' });
    expect(evaluation.samples).toEqual({ control: 1500, candidate: 1000 });
    // No autoAdvance: the data-quality reads are spared.
    expect(evaluation.dataQuality).toEqual({ srm: false, reviewRateImbalance: false });
    // A breach carries its figures (the audit log shows them).
    expect(evaluation.guardrails[0]!.bound).toBeGreaterThan(0.1);
    // Holding without autoAdvance: decided on the p-values, the costly bounds are left out.
    readModel.cells[1] = cellOf('candidate', 'acme', { runs: 2000, errors: 20, reviewed: 1000, overridden: 0 });
    const quiet = await comparison.evaluateGuardrails(rollout);
    expect(quiet.guardrails[0]).toMatchObject({ status: 'holding', bound: null, upperBound: null });
  });

  it("builds one stratum per started randomized stage and leaves a 100% stage out (the README's staging 100% + prod 10%)", async () => {
    const { w, rollout, readModel, comparison } = await setup({
      stages: [
        { environments: ['staging'], tenants: ['acme'], percent: 100 },
        { environments: ['prod'], tenants: ['acme'], percent: 10, splitBy: 'unit' },
      ],
      guardrails: [{ metric: 'override_rate', maxIncrease: 0.05, minSamples: 100 }],
    });
    await w.rollouts.act(rollout.id, 'advance', 'admin:test');
    const advanced = await w.rollouts.get(rollout.id);
    readModel.cells = [
      // Staging: every call on the candidate, reviewers there override 30%.
      cellOf('candidate', 'acme', { runs: 2000, reviewed: 2000, overridden: 600 }, 0),
      // Prod at 10%: an identical candidate, 10% in both arms.
      cellOf('control', 'acme', { runs: 9000, reviewed: 9000, overridden: 900 }, 1),
      cellOf('candidate', 'acme', { runs: 1000, reviewed: 1000, overridden: 100 }, 1),
    ];
    const inputs = await comparison.guardrailInputs(advanced);
    expect(inputs).toMatchObject({ controlArm: 'randomized', plannedStrata: 1 });
    expect(inputs.strata.map((s) => [s.stage, s.share, s.candidate.reviewed, s.control.reviewed])).toEqual([[1, 0.1, 1000, 9000]]);
    const { guardrails } = await comparison.evaluateGuardrails(advanced);
    expect(guardrails[0]).toMatchObject({ status: 'holding', estimate: 0 });
  });

  it('on a tenant split hands the guardrails per-tenant override counts and pre-rollout rates (CUPED)', async () => {
    const { readModel, comparison, rollout } = await setup({
      stages: [{ environments: ['prod'], percent: 50 }],
      guardrails: [{ metric: 'override_rate', maxIncrease: 0.05, minSamples: 100 }],
    });
    readModel.cells = [
      cellOf('control', 'acme', { runs: 100, reviewed: 80, overridden: 8 }),
      cellOf('candidate', 'globex', { runs: 100, reviewed: 60, overridden: 9 }),
    ];
    readModel.defaults = [{ ...emptyCounts(), runs: 50, reviewed: 40, overridden: 4, tenantId: 'acme', environment: 'prod' }];
    const inputs = await comparison.guardrailInputs(rollout);
    expect(inputs.tenants).toEqual([{ candidate: [{ tenant: 'globex', x: 9, n: 60 }], control: [{ tenant: 'acme', x: 8, n: 80 }] }]);
    expect([...(inputs.preRollout ?? [])]).toEqual([['acme', { x: 4, n: 40 }]]);
    const { guardrails } = await comparison.evaluateGuardrails(rollout);
    // One tenant per arm: relative guardrails wait (too_few_tenants), and the comparison says so.
    expect(guardrails[0]).toMatchObject({ status: 'waiting', tenants: { control: 1, candidate: 1 } });
    const c = await comparison.compare(rollout.id);
    expect(c.warnings).toContain('too_few_tenants');
    // The verdict's tenant-level sequence is adjusted by the same pre-rollout rates.
    expect(c.difference.overrideRate.method).toMatch(/^tenant-cluster:cr2-satterthwaite-t\+cuped/);
  });

  it('takes a baseline control when every started stage sends all its traffic to the candidate', async () => {
    const { w, rollout, readModel, comparison } = await setup({ stages: [{ environments: ['prod'], tenants: ['acme'], percent: 100 }] });
    w.clock.now = new Date(w.clock.now.getTime() + 2 * HOUR);
    readModel.cells = [cellOf('candidate', 'acme', { runs: 300, reviewed: 300, overridden: 90 })];
    readModel.pairs = [{ stage: 0, tenantId: 'acme', environment: 'prod' }];
    // acme has too little history of its own: the baseline is the other tenants' traffic meanwhile.
    readModel.defaults = [
      { ...emptyCounts(), runs: 20, reviewed: 20, overridden: 1, tenantId: 'acme', environment: 'prod' },
      { ...emptyCounts(), runs: 500, reviewed: 500, overridden: 25, tenantId: 'globex', environment: 'prod' },
    ];
    const c = await comparison.compare(rollout.id);
    expect(c.controlArm).toBe('baseline');
    expect(c.baseline?.kind).toBe('other_tenants_concurrent');
    expect(c.arms.control).toMatchObject({ runs: 500, reviewed: 500, overridden: 25 });
    // Observational: never better or worse, however clear the difference.
    expect(['insufficient_data', 'no_significant_difference']).toContain(c.verdict);
    const inputs = await comparison.guardrailInputs(rollout);
    expect(inputs).toMatchObject({ controlArm: 'baseline', plannedStrata: 1 });
    expect(inputs.strata).toHaveLength(1);
    expect(inputs.strata[0]).toMatchObject({ control: { runs: 500, reviewed: 500 }, candidate: { runs: 300 } });

    // With enough history of its own, acme's traffic before its switch is the baseline.
    readModel.defaults[0] = { ...emptyCounts(), runs: 400, reviewed: 400, overridden: 20, tenantId: 'acme', environment: 'prod' };
    const before = await comparison.compare(rollout.id);
    expect(before.baseline?.kind).toBe('same_tenants_before');
    expect(before.arms.control).toMatchObject({ runs: 400, overridden: 20 });
  });

  it('answers minute buckets for the last day with data, and refuses more than 7 days of them', async () => {
    const { w, rollout, readModel, comparison } = await setup();
    const t = new Date(w.now().getTime() - 10 * 60_000);
    readModel.seriesRows = [{ ...emptyCounts(), t, arm: 'candidate', runs: 3, reviewed: 1, latencyHist: [] }];
    const ts = await comparison.timeseries(rollout.id, { bucket: 'minute' });
    expect(ts.to).toBe(new Date(t.getTime() + 60_000).toISOString());
    expect(ts.from).toBe(new Date(t.getTime() + 60_000 - 24 * HOUR).toISOString());
    expect(ts.points).toHaveLength(1);
    await expect(
      comparison.timeseries(rollout.id, { bucket: 'minute', from: new Date(t.getTime() - 8 * 24 * HOUR), to: t }),
    ).rejects.toBeInstanceOf(BadRequestError);
    await expect(comparison.timeseries(rollout.id, { bucket: 'day', from: new Date(t.getTime() - 30 * 24 * HOUR) })).resolves.toMatchObject(
      { bucket: 'day' },
    );
  });
});

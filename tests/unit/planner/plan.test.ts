/**
 * The rollout planner (src/domain/planner/plan.ts): it is the calibration grid's harness driven by
 * the clock, deciding with the production guardrail and verdict code. On the same inputs and seed
 * it agrees with the grid's cell run with that code (exactly for a regression caught well before
 * the end, within the sequences the two end points differ on for an identical candidate); same
 * seed, same answer; the compute budget caps it to a prefix; it yields to the event loop.
 */
import { describe, expect, it } from 'vitest';
import { planRequestSchema, type PlanRequestInput } from '../../../src/domain/model/plan-request.js';
import { smallPlan } from '../../support/plan-requests.js';
import { planDecide, runPlan, type PlanRunOptions } from '../../../src/domain/planner/plan.js';
import { aaMargin, runAaCell, runPowerCell, type GridSettings } from '../../../src/domain/stats/calibration/grid.js';

const SEED = 15;
// The grid's cadence (a look per 20 new candidate reviews at a 50% share: 40 runs) as a clock:
// 5760 runs a day, a look every 10 minutes, one day = 144 looks ≈ 2880 candidate reviews.
const grid: GridSettings = { sequences: 300, seed: SEED, horizon: 2880, checkEvery: 20, minSamples: 100, maxIncrease: 0 };
const base = (candidateRate?: number, simulations = grid.sequences): PlanRequestInput => ({
  guardrails: [{ metric: 'override_rate', maxIncrease: 0, minSamples: 100 }],
  guardrailAlpha: 0.05,
  control: { overrideRate: 0.1 },
  ...(candidateRate !== undefined ? { candidate: { overrideRate: candidateRate } } : {}),
  traffic: { runsPerDay: 5760, candidateShare: 0.5, days: 1 },
  checkEveryMinutes: 10,
  simulations,
  seed: SEED,
});

const immediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const options = (over: Partial<PlanRunOptions> = {}): PlanRunOptions => ({ now: () => performance.now(), yieldToLoop: immediate, ...over });

describe('the planner agrees with the calibration grid on the same inputs', () => {
  it('a real regression (10% → 20%): caught as often and at the same candidate reviews as the grid cell', async () => {
    const request = planRequestSchema.parse(base(0.2));
    const plan = await runPlan(request, options());
    const cell = runPowerCell(
      { splitBy: 'unit', baseRate: 0.1, share: 0.5, alpha: 0.05, candidateRate: 0.2, maxIncrease: 0 },
      grid,
      planDecide(request),
    );
    expect(plan.simulations).toBe(grid.sequences);
    expect(cell.caught).toBe(1);
    expect(plan.fireProbability.estimate).toBe(cell.caught);
    expect(plan.timeToFire?.medianCandidateReviewed).toBe(cell.medianCandidateReviewed);
    expect(plan.timeToFire?.p90CandidateReviewed).toBe(cell.p90CandidateReviewed);
    expect(plan.verdict.probabilityWorse).toBeGreaterThan(0.9);
    expect(plan.verdict.probabilityBetter).toBe(0);
  }, 120_000);

  it('an identical candidate: the false-rollback rate of the grid cell, within alpha', async () => {
    const request = planRequestSchema.parse(base());
    const plan = await runPlan(request, options());
    const cell = runAaCell({ splitBy: 'unit', baseRate: 0.1, share: 0.5, alpha: 0.05 }, grid, planDecide(request));
    // The grid ends a sequence at 2880 candidate reviews, the plan after one day: they differ
    // only by sequences first breaching between the two (a few dozen reviews apart).
    expect(Math.abs(plan.fireProbability.estimate - cell.rate)).toBeLessThanOrEqual(2 / grid.sequences);
    expect(plan.fireProbability.estimate).toBeLessThanOrEqual(0.05 + aaMargin(0.05, plan.simulations));
    expect(plan.fireProbability.ci[0]).toBeLessThanOrEqual(plan.fireProbability.estimate);
    expect(plan.fireProbability.ci[1]).toBeGreaterThan(plan.fireProbability.estimate);
  }, 120_000);
});

describe('the planner', () => {
  const small: PlanRequestInput = smallPlan;

  it('same seed, same answer; another seed, another sample', async () => {
    const a = await runPlan(planRequestSchema.parse(small), options());
    const b = await runPlan(planRequestSchema.parse(small), options());
    const c = await runPlan(planRequestSchema.parse({ ...small, seed: 4 }), options());
    expect(b).toEqual(a);
    expect(c.timeToFire).not.toEqual(a.timeToFire);
  }, 60_000);

  it('answers per check, in spec order, and when it fired in days and reviews', async () => {
    const a = await runPlan(planRequestSchema.parse(small), options());
    expect(a.byGuardrail.map((g) => `${g.metric}.${g.limit}`)).toEqual([
      'override_rate.maxIncrease',
      'error_rate.max',
      'error_rate.maxIncrease',
    ]);
    expect(a.fireProbability.estimate).toBeGreaterThan(0.9);
    // Each check's share is at most the total, and together they cover every rollback.
    for (const g of a.byGuardrail) expect(g.fireProbability).toBeLessThanOrEqual(a.fireProbability.estimate);
    expect(a.byGuardrail.reduce((s, g) => s + g.fireProbability, 0)).toBeGreaterThanOrEqual(a.fireProbability.estimate);
    const t = a.timeToFire!;
    expect(t.medianDays).toBeGreaterThan(0);
    expect(t.p90Days).toBeGreaterThanOrEqual(t.medianDays);
    expect(t.p90Days).toBeLessThanOrEqual(7);
    expect(t.p90CandidateReviewed).toBeGreaterThanOrEqual(t.medianCandidateReviewed);
    // Looks are hourly: every time to fire is a whole number of hours.
    expect(Math.abs(t.medianDays * 24 - Math.round(t.medianDays * 24))).toBeLessThan(1e-3);
  }, 60_000);

  it('the compute budget caps the simulations to a prefix of the uncapped run, and says so', async () => {
    let clock = 0;
    // A fake clock: every reading advances 1 ms, so the budget is reached after a known amount of work.
    const capped = await runPlan(
      planRequestSchema.parse({ ...small, simulations: 1000 }),
      options({ now: () => clock++, budgetMs: 200, sliceMs: 20 }),
    );
    expect(capped.simulations).toBeGreaterThan(0);
    expect(capped.simulations).toBeLessThan(1000);
    expect(capped.method).toContain('capped from 1000');
    const prefix = await runPlan(planRequestSchema.parse({ ...small, simulations: capped.simulations }), options());
    expect(prefix.fireProbability).toEqual(capped.fireProbability);
    expect(prefix.timeToFire).toEqual(capped.timeToFire);
    expect(prefix.method).not.toContain('capped');
  }, 60_000);

  it('yields to the event loop between slices', async () => {
    let yields = 0;
    let clock = 0;
    const a = await runPlan(
      planRequestSchema.parse({ ...small, simulations: 50 }),
      options({ now: () => clock++, sliceMs: 5, yieldToLoop: () => (yields++, immediate()) }),
    );
    expect(a.simulations).toBe(50);
    expect(yields).toBeGreaterThan(5);
  }, 60_000);

  it('a 100% stage is planned against a baseline: guardrails act, the verdict never says better or worse', async () => {
    const a = await runPlan(
      planRequestSchema.parse({ ...small, traffic: { runsPerDay: 2000, candidateShare: 1, days: 3 }, simulations: 60 }),
      options(),
    );
    expect(a.fireProbability.estimate).toBeGreaterThan(0.9);
    expect(a.verdict).toEqual({ probabilityWorse: 0, probabilityBetter: 0, medianDaysToVerdict: null });
  }, 60_000);

  it('a tenant split runs the tenant-level verdict, with the tenants and their spread', async () => {
    const a = await runPlan(
      planRequestSchema.parse({
        guardrails: [{ metric: 'override_rate', maxIncrease: 0, minSamples: 100 }],
        control: { overrideRate: 0.1 },
        candidate: { overrideRate: 0.2 },
        traffic: { runsPerDay: 5000, candidateShare: 0.5, days: 2, splitBy: 'tenant', tenants: 60, tenantSpread: 0.05 },
        simulations: 40,
      }),
      options(),
    );
    expect(a.fireProbability.estimate).toBeGreaterThan(0.9);
    expect(a.verdict.probabilityWorse).toBeGreaterThan(0.5);
    expect(a.method).toContain('whole tenants (60');
  }, 60_000);

  it('refuses what cannot be planned', () => {
    const bad: [string, unknown][] = [
      ['rate above 1', { ...small, control: { overrideRate: 1.2 } }],
      ['negative rate', { ...small, candidate: { overrideRate: -0.1 } }],
      ['share 0', { ...small, traffic: { ...small.traffic, candidateShare: 0 } }],
      ['share above 1', { ...small, traffic: { ...small.traffic, candidateShare: 1.5 } }],
      ['a 100% tenant split', { ...small, traffic: { ...small.traffic, candidateShare: 1, splitBy: 'tenant' } }],
      ['too many checks', { ...small, traffic: { ...small.traffic, days: 365 }, checkEveryMinutes: 1 }],
      ['over before the first look', { ...small, traffic: { ...small.traffic, days: 0.5 }, checkEveryMinutes: 1440 }],
    ];
    const refused = planRequestSchema.safeParse({ ...small, traffic: { ...small.traffic, days: 0.5 }, checkEveryMinutes: 1440 });
    expect(refused.error?.issues[0]?.message).toMatch(/before the guardrail job's first look/);
    // Exactly one look is enough.
    expect(planRequestSchema.safeParse({ ...small, traffic: { ...small.traffic, days: 1 }, checkEveryMinutes: 1440 }).success).toBe(true);
    for (const [why, body] of bad) expect(planRequestSchema.safeParse(body).success, why).toBe(false);
  });
});

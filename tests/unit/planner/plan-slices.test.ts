/**
 * How the planner bounds its time (src/domain/planner/plan.ts, README "Planning a rollout"): the
 * budget and the slices are kept to within one batch of a simulated rollout, not one whole
 * rollout (up to 50,000 looks of up to 40 guardrail checks: seconds to hours), and cutting the
 * work into slices never changes the answer.
 */
import { describe, expect, it } from 'vitest';
import { planRequestSchema, type PlanRequestInput } from '../../../src/domain/model/plan-request.js';
import { runPlan, type PlanRunOptions } from '../../../src/domain/planner/plan.js';

const immediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const options = (over: Partial<PlanRunOptions> = {}): PlanRunOptions => ({ now: () => performance.now(), yieldToLoop: immediate, ...over });

/** A look a minute for 34.7 days: 49,968 looks in one simulated rollout, the most a plan may make. */
const longest: PlanRequestInput = {
  guardrails: [{ metric: 'override_rate', maxIncrease: 0.5, minSamples: 1 }],
  control: { overrideRate: 0.1 },
  traffic: { runsPerDay: 10_000, candidateShare: 0.5, days: 34.7 },
  checkEveryMinutes: 1,
  simulations: 2,
};

/** Heavy looks: 20 guardrails (40 checks) on a billion runs a day, about 0.3 ms a look. */
const override = { metric: 'override_rate', maxIncrease: 0.5, minSamples: 1 } as const;
const errors = { metric: 'error_rate', max: 0.9, maxIncrease: 0.5, minSamples: 1 } as const;
const heavy: PlanRequestInput = {
  guardrails: Array.from({ length: 10 }, () => [override, errors]).flat(),
  control: { overrideRate: 0.1, errorRate: 0.01 },
  traffic: { runsPerDay: 1e9, candidateShare: 0.5, days: 4 },
  checkEveryMinutes: 1,
  simulations: 3,
};

describe('the planner bounds its time within a simulated rollout', () => {
  it('the budget stops a plan in the middle of a rollout: none ran, and the answer says so', async () => {
    // Every reading of this clock advances it 1 ms: the reads a plan makes are the batches it simulates.
    let clock = 0;
    const a = await runPlan(planRequestSchema.parse(longest), options({ now: () => clock++, budgetMs: 100, sliceMs: 20 }));
    expect(a.simulations).toBe(0);
    expect(a.method).toContain('0 simulated rollouts');
    expect(a.method).toContain('capped from 2 by the 0.1 s compute budget');
    expect(a.fireProbability).toEqual({ estimate: 0, ci: [0, 1] });
    expect(a.timeToFire).toBeNull();
    // About a reading per batch until the deadline: a few hundred batches at most, not 49,968.
    expect(clock).toBeLessThan(200);
  }, 60_000);

  it('on a real clock: no slice and no answer overruns by more than a look', async () => {
    const budgetMs = 1000;
    const gaps: number[] = [];
    let last = performance.now();
    const started = last;
    const a = await runPlan(
      planRequestSchema.parse(heavy),
      options({
        budgetMs,
        sliceMs: 20,
        yieldToLoop: async () => {
          gaps.push(performance.now() - last);
          await immediate();
          last = performance.now();
        },
      }),
    );
    const elapsed = performance.now() - started;
    gaps.push(performance.now() - last);
    // One rollout here is 5,760 looks (seconds): the budget cut the plan short.
    expect(a.simulations).toBeLessThan(3);
    expect(a.method).toContain('capped from 3');
    // 20 ms slices and a look of about 0.3 ms: generous bounds for a loaded machine.
    expect(Math.max(...gaps)).toBeLessThan(150);
    expect(elapsed).toBeLessThan(budgetMs + 150);
  }, 60_000);

  it('cutting the work into slices does not change the answer', async () => {
    const request = planRequestSchema.parse({
      ...heavy,
      guardrails: heavy.guardrails!.slice(0, 2),
      traffic: { ...heavy.traffic, days: 0.5 },
    });
    const whole = await runPlan(request, options({ sliceMs: 60_000, budgetMs: 60_000 }));
    let yields = 0;
    // A slice of 0 ms: a yield after every batch, so every rollout is resumed hundreds of times.
    const sliced = await runPlan(request, options({ sliceMs: 0, budgetMs: 60_000, yieldToLoop: () => (yields++, immediate()) }));
    expect(whole.simulations).toBe(3);
    expect(yields).toBeGreaterThan(3 * 700);
    expect(sliced).toEqual(whole);
  }, 60_000);
});

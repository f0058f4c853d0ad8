/**
 * The planner's thread (src/runtime/planner-thread), started from the TypeScript sources as vitest
 * runs them: it answers exactly what `runPlan` answers on this thread (same seed, same answer),
 * while this thread's event loop stays free; a thread that dies fails the plans it held with an
 * error that says so, and the next plan starts a new thread.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { planRequestSchema } from '../../../src/domain/model/plan-request.js';
import { smallPlan } from '../../support/plan-requests.js';
import { runPlan } from '../../../src/domain/planner/plan.js';
import { ThreadPlanRunner } from '../../../src/runtime/planner-thread/thread-plan-runner.js';

const request = planRequestSchema.parse({ ...smallPlan, simulations: 60 });

/** One simulated rollout of this plan takes hours: it runs until its budget. */
const endless = planRequestSchema.parse({
  guardrails: [{ metric: 'override_rate', maxIncrease: 0.5, minSamples: 1 }],
  control: { overrideRate: 0.1 },
  traffic: { runsPerDay: 1e9, candidateShare: 0.5, days: 34.7, splitBy: 'tenant', tenants: 10_000, tenantSpread: 0.1 },
  checkEveryMinutes: 1,
  simulations: 2,
});

const runners: ThreadPlanRunner[] = [];
function runner(): ThreadPlanRunner {
  const r = new ThreadPlanRunner();
  runners.push(r);
  return r;
}
afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.close()));
});

describe("the planner's thread", () => {
  it('answers what runPlan answers on this thread, for the same seed', async () => {
    const inThread = await runner().run(request, 60_000);
    const here = await runPlan(request, { now: () => performance.now(), yieldToLoop: () => new Promise((r) => setImmediate(r)) });
    expect(inThread.simulations).toBe(60);
    expect(inThread).toEqual(here);
  }, 60_000);

  it('keeps this thread free while a plan whose every look takes a tenth of a second runs to its budget', async () => {
    const r = runner();
    await r.run(request, 60_000); // the thread is up: its start is not what is measured
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const started = performance.now();
    const answer = await r.run(endless, 1500);
    const elapsed = performance.now() - started;
    delay.disable();
    expect(answer.simulations).toBe(0);
    expect(answer.method).toContain('capped from 2 by the 1.5 s compute budget');
    // The budget, plus at most one look of 10,000 tenants (generous for a loaded machine).
    expect(elapsed).toBeGreaterThanOrEqual(1500);
    expect(elapsed).toBeLessThan(1500 + 2000);
    expect(delay.max / 1e6).toBeLessThan(200);
  }, 60_000);

  it('fails the plans a dying thread held with an error that says so; the next plan starts a new thread', async () => {
    const r = runner();
    const held = r.run(endless, 60_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(r.pending).toBe(1);
    await r.terminateThread();
    await expect(held).rejects.toThrow(/the planner's thread exited \(code \d+\) before the plan was answered/);
    expect(r.pending).toBe(0);
    expect((await r.run(request, 60_000)).simulations).toBe(60);
  }, 60_000);

  it('refuses plans once closed', async () => {
    const r = runner();
    await r.close();
    await expect(r.run(request, 60_000)).rejects.toThrow("the planner's thread is closed");
  });
});

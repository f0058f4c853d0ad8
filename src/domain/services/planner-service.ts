/**
 * The rollout planner as a service (POST /v1/rollouts/plan, `chain-canary plan`): runs the plan
 * (src/domain/planner/plan.ts) within its compute budget, in slices that yield to the event loop
 * so the gateway keeps answering invokes while a plan runs.
 */
import type { PlanRequest } from '../model/plan-request.js';
import { BadRequestError } from '../model/errors.js';
import { PLAN_BUDGET_MS, runPlan, type PlanAnswer } from '../planner/plan.js';

export interface PlannerServiceDeps {
  /** A monotonic clock in ms. */
  now: () => number;
  /** Lets other work run between slices (the gateway: setImmediate). */
  yieldToLoop: () => Promise<void>;
  /** Compute time per plan (default PLAN_BUDGET_MS: the contract's 30 s); tests lower it. */
  budgetMs?: number;
}

export class PlannerService {
  constructor(private readonly deps: PlannerServiceDeps) {}

  async plan(request: PlanRequest): Promise<PlanAnswer> {
    try {
      return await runPlan(request, {
        now: this.deps.now,
        yieldToLoop: this.deps.yieldToLoop,
        budgetMs: this.deps.budgetMs ?? PLAN_BUDGET_MS,
      });
    } catch (err) {
      // The schema refuses what the simulator cannot run; a RangeError here is an input it missed.
      if (err instanceof RangeError) throw new BadRequestError(`This plan cannot be simulated: ${err.message}`);
      throw err;
    }
  }
}

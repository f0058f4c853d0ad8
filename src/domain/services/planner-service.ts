/**
 * The rollout planner as a service (POST /v1/rollouts/plan, `chain-canary plan`): refuses what
 * the simulator cannot run, then hands the plan (src/domain/planner/plan.ts) to the PlanRunner
 * with its time budget. The gateway's runner is a thread of its own, so the event loop that
 * answers invokes never runs a simulation (README "Planning a rollout").
 */
import type { PlanRequest } from '../model/plan-request.js';
import { BadRequestError } from '../model/errors.js';
import { PLAN_BUDGET_MS, plannableScenario, type PlanAnswer } from '../planner/plan.js';
import type { PlanRunner } from '../ports/plan-runner.js';

export interface PlannerServiceDeps {
  runner: PlanRunner;
  /** Time per plan (default PLAN_BUDGET_MS: the contract's 30 s); tests lower it. */
  budgetMs?: number;
}

export class PlannerService {
  constructor(private readonly deps: PlannerServiceDeps) {}

  async plan(request: PlanRequest): Promise<PlanAnswer> {
    try {
      plannableScenario(request);
    } catch (err) {
      // The schema refuses what the simulator cannot run; a RangeError here is an input it missed.
      if (err instanceof RangeError) throw new BadRequestError(`This plan cannot be simulated: ${err.message}`);
      throw err;
    }
    return this.deps.runner.run(request, this.deps.budgetMs ?? PLAN_BUDGET_MS);
  }
}

/**
 * The PlanRunner port: where a rollout plan's simulations run (README "Planning a rollout"). What
 * runs is `runPlan` (src/domain/planner/plan.ts); where is the runtime's choice. The gateway runs
 * plans on a thread of their own (src/runtime/planner-thread/), since a single look of a simulated
 * rollout can take longer than an invoke may wait for the event loop.
 */
import type { PlanRequest } from '../model/plan-request.js';
import type { PlanAnswer } from '../planner/plan.js';

export interface PlanRunner {
  /**
   * Runs the plan, which answers `budgetMs` after it started at the latest, with the simulations
   * that ended by then. Rejects only when the plan could not be run at all (its thread is gone).
   */
  run(request: PlanRequest, budgetMs: number): Promise<PlanAnswer>;
}

/** A small plan the planner's unit tests share: two guardrails, a candidate worse on both rates, a week at 2,000 runs a day. */
import type { PlanRequestInput } from '../../src/domain/model/plan-request.js';

export const smallPlan: PlanRequestInput = {
  guardrails: [
    { metric: 'override_rate', maxIncrease: 0.03, minSamples: 100 },
    { metric: 'error_rate', max: 0.02, maxIncrease: 0.01 },
  ],
  control: { overrideRate: 0.1, errorRate: 0.01, reviewRate: 0.8 },
  candidate: { overrideRate: 0.18, errorRate: 0.03 },
  traffic: { runsPerDay: 2000, candidateShare: 0.1, days: 7 },
  checkEveryMinutes: 60,
  simulations: 120,
  seed: 3,
};

/** A guardrail finding that holds with room to spare: what lets a rollout auto-advance in the guardrail job's tests. */
import type { GuardrailFinding } from '../../src/runtime/guardrail-job.js';

export const holding: GuardrailFinding = {
  metric: 'override_rate',
  limit: 'maxIncrease',
  threshold: 0.05,
  bound: -0.03,
  upperBound: 0.02,
  samples: 500,
  status: 'holding',
};

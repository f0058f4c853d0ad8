/**
 * The production guardrail decision on a simulated look (src/domain/stats/calibration): the
 * simulator's arms and tenants turned into the `GuardrailInputs` the comparison service builds
 * (one randomized stratum at the scenario's share; per-tenant override counts on a tenant split)
 * and handed to `evaluateGuardrails` itself. The calibration test and the planner measure the
 * code that rolls candidates back, not a copy of its statistics.
 */
import type { Guardrail } from '../model/rollout-spec.js';
import { preRollout, tenantStratum } from '../stats/calibration/deciders.js';
import type { Decide, SimArm, SimState } from '../stats/calibration/simulate.js';
import { evaluateGuardrails, type GuardrailArmTotals, type GuardrailInputs } from './guardrail-status.js';

const totals = (a: SimArm): GuardrailArmTotals => ({ ...a, latencyHist: [] });

/** The inputs the service would build from a simulated look. */
export function simulatedGuardrailInputs(s: SimState): GuardrailInputs {
  const inputs: GuardrailInputs = {
    controlArm: 'randomized',
    strata: [{ stage: 0, share: s.scenario.share, control: totals(s.control), candidate: totals(s.candidate) }],
    plannedStrata: 1,
  };
  if (!s.tenants) return inputs;
  const pre = preRollout(s.tenants);
  return { ...inputs, tenants: [tenantStratum(s.tenants)], ...(pre.size > 0 ? { preRollout: pre } : {}) };
}

/** A `Decide` that runs the production guardrails: breached when any check is. */
export function productionGuardrailDecide(guardrails: readonly Guardrail[], alpha: number): Decide {
  return (s: SimState) => {
    // Statuses only: the bounds are reporting, the decision is Holm on the p-values (same code).
    const checks = evaluateGuardrails(guardrails, simulatedGuardrailInputs(s), alpha, { bounds: false });
    const breachedChecks = checks.map((c) => c.status === 'breached');
    return { breached: breachedChecks.some(Boolean), breachedChecks };
  };
}

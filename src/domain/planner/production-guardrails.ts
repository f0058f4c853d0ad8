/**
 * The planner's one call into the production guardrail code (src/domain/guardrails/guardrail-status.ts):
 * a simulated look becomes the `GuardrailInputs` the guardrail job builds from the rollups, so a
 * plan breaches exactly when a rollout with those totals would be rolled back.
 *
 * The look's stages are the strata (the plan simulates one, randomized or against a baseline), and
 * on a tenant split its tenants' override counts are the tenant stratum the tenant-level
 * guardrails read.
 */
import type { Guardrail } from '../model/rollout-spec.js';
import { evaluateGuardrails, type GuardrailCheck, type GuardrailInputs } from '../guardrails/guardrail-status.js';
import { tenantStratumOf } from '../stats/index.js';
import type { SimulatedLook } from './simulated-look.js';

export function guardrailInputsOf(look: SimulatedLook): GuardrailInputs {
  return {
    controlArm: look.controlArm,
    strata: look.stages,
    plannedStrata: look.stages.length,
    ...(look.tenants
      ? { tenants: [tenantStratumOf(look.tenants, (t) => ({ tenant: t.tenant, x: t.totals.overridden, n: t.totals.reviewed }))] }
      : {}),
  };
}

export function productionGuardrailChecks(guardrails: readonly Guardrail[], look: SimulatedLook, guardrailAlpha: number): GuardrailCheck[] {
  // Statuses only: the decision is Holm on the p-values; the bounds are for people reading a check.
  return evaluateGuardrails(guardrails, guardrailInputsOf(look), guardrailAlpha, { bounds: false });
}

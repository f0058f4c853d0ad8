/**
 * The planner's one call into the production guardrail code (src/domain/guardrails/guardrail-status.ts):
 * a simulated look becomes the `GuardrailInputs` the guardrail job builds from the rollups, so a
 * plan breaches exactly when a rollout with those totals would be rolled back.
 *
 * Today `evaluateGuardrails` reads the two arms' totals over the rollout's life: with the plan's
 * single stage these are that stage's totals. Tenant counts are not read by it (yet): when the
 * guardrails read strata and tenants, this adapter passes `look.stages` as the strata and
 * `look.tenants` as the tenant stratum, and nothing else in the planner changes.
 */
import type { Guardrail } from '../model/rollout-spec.js';
import { evaluateGuardrails, type GuardrailCheck, type GuardrailInputs } from '../guardrails/guardrail-status.js';
import type { SimulatedLook } from './simulated-look.js';

// With stratified inputs ({controlArm, strata, plannedStrata, tenants?}) this becomes:
//   return { controlArm: look.controlArm, strata: look.stages, plannedStrata: look.stages.length,
//            ...(look.tenants ? { tenants: [tenantStratumOf(look.tenants)] } : {}) };
// (a LookStage is a stratum: stage, share and each arm's GuardrailArmTotals).
export function guardrailInputsOf(look: SimulatedLook): GuardrailInputs {
  const stage = look.stages[0];
  if (!stage || look.stages.length !== 1) throw new RangeError('the planner simulates exactly one stage');
  return { controlArm: look.controlArm, control: stage.control, candidate: stage.candidate };
}

export function productionGuardrailChecks(guardrails: readonly Guardrail[], look: SimulatedLook, guardrailAlpha: number): GuardrailCheck[] {
  return evaluateGuardrails(guardrails, guardrailInputsOf(look), guardrailAlpha);
}

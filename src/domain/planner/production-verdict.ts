/**
 * The planner's one call into the production verdict (src/domain/comparison/verdict.ts), fed as
 * the comparison feeds it (src/domain/comparison/assemble.ts): the side of 0 the override rate's
 * always-valid interval lies on (`alwaysValidSide`, per run, or per tenant when whole tenants were
 * assigned), then `decideVerdict` at the rollout's alpha.
 */
import { alwaysValidSide, tenantsPerArm, type StageArms } from '../comparison/differences.js';
import { decideVerdict, type AnalysisUnit, type Verdict } from '../comparison/verdict.js';
import { emptyCounts } from '../metrics/counts.js';
import type { Counts } from '../metrics/counted-metrics.js';
import type { GuardrailArmTotals } from '../guardrails/guardrail-status.js';
import type { SimulatedLook } from './simulated-look.js';

const ZERO: Counts = emptyCounts();

/** The verdict reads runs, errors, reviewed and overridden; every other count is zero. */
function countsOf(t: GuardrailArmTotals): Counts {
  return { ...ZERO, runs: t.runs, errors: t.errors, reviewed: t.reviewed, overridden: t.overridden };
}

export function productionVerdict(look: SimulatedLook, alpha: number): Verdict {
  const stage = look.stages[0];
  if (!stage || look.stages.length !== 1) throw new RangeError('the planner simulates exactly one stage');
  // A baseline is compared per run, as the comparison does.
  const unit: AnalysisUnit = look.tenants && look.controlArm === 'randomized' ? 'tenant' : 'run';
  const arms: StageArms = {
    stage: stage.stage,
    share: stage.share,
    candidate: countsOf(stage.candidate),
    control: countsOf(stage.control),
  };
  if (unit === 'tenant' && look.tenants) {
    arms.candidateTenants = new Map(look.tenants.filter((t) => t.arm === 'candidate').map((t) => [t.tenant, countsOf(t.totals)]));
    arms.controlTenants = new Map(look.tenants.filter((t) => t.arm === 'control').map((t) => [t.tenant, countsOf(t.totals)]));
  }
  // decideVerdict reads only which side of 0 the always-valid interval lies on; that side is
  // decided directly (alwaysValidSide: the same sequences, without the bisection for the bounds).
  const side = alwaysValidSide('overrideRate', [arms], { alpha, unit });
  const sideOfZero: [number, number] = side > 0 ? [1, 1] : side < 0 ? [-1, -1] : [-1, 1];
  return decideVerdict({
    controlArm: look.controlArm,
    analysisUnit: unit,
    reviewed: { control: stage.control.reviewed, candidate: stage.candidate.reviewed },
    tenants: tenantsPerArm('overrideRate', [arms]),
    alwaysValidCI: sideOfZero,
  });
}

/**
 * One look of a simulated rollout, in the shape the production code reads: per stage, each arm's
 * running totals (`GuardrailArmTotals`, what the rollups hold), and per tenant for a tenant split.
 * The planner simulates a single randomized stage (stage 0); a 100% stage is compared with a
 * baseline of the same volume (`controlArm: "baseline"`). The adapters that hand a look to the
 * production guardrail and verdict code (production-guardrails.ts, production-verdict.ts) read
 * only this, so they are the one place to change when that code's inputs change.
 */
import type { ControlArm } from '../comparison/verdict.js';
import type { GuardrailArmTotals } from '../guardrails/guardrail-status.js';
import type { SimArm, SimState } from '../stats/calibration/simulate.js';

export interface LookStage {
  stage: number;
  /**
   * The stage's designed candidate share (percent / 100): the candidate's part of the runs
   * compared, so 1/2 against a baseline of the same volume.
   */
  share: number;
  control: GuardrailArmTotals;
  candidate: GuardrailArmTotals;
}

export interface LookTenant {
  tenant: string;
  arm: 'candidate' | 'control';
  totals: GuardrailArmTotals;
}

export interface SimulatedLook {
  controlArm: ControlArm;
  stages: LookStage[];
  /** Tenant splits: every tenant of the stage with its arm (a tenant is in one arm for the whole stage). */
  tenants?: LookTenant[];
}

/** The simulator does not draw latencies (the plan's inputs carry none): an empty histogram. */
const NO_LATENCY: number[] = [];

export function totalsOf(a: SimArm): GuardrailArmTotals {
  return { runs: a.runs, errors: a.errors, reviewed: a.reviewed, overridden: a.overridden, latencyHist: NO_LATENCY };
}

export function lookOf(state: SimState): SimulatedLook {
  const baseline = state.scenario.baselineControl === true;
  return {
    controlArm: baseline ? 'baseline' : 'randomized',
    stages: [
      { stage: 0, share: baseline ? 0.5 : state.scenario.share, control: totalsOf(state.control), candidate: totalsOf(state.candidate) },
    ],
    ...(state.tenants ? { tenants: state.tenants.map((t) => ({ tenant: t.tenant, arm: t.arm, totals: totalsOf(t) })) } : {}),
  };
}

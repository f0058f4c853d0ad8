/**
 * Decision functions over a simulated look, built from this folder's statistics alone: an
 * `override_rate` guardrail with `maxIncrease`, per run (unit splits) or per tenant (tenant
 * splits), and the verdict. The planner and the calibration of the production guardrail code
 * pass their own `Decide`; these are the statistical core that code applies.
 */
import { differenceRejects, DEFAULT_DIFFERENCE_TUNING } from '../difference-sequence.js';
import {
  DEFAULT_TENANT_TUNING,
  tenantLevelBound,
  tenantLevelEstimate,
  tenantLevelInterval,
  tenantStratumOf,
  type TenantStratum,
} from '../tenant-level.js';
import type { BinomialCount } from '../types.js';
import type { Decide, SimState, SimTenant, Verdict } from './simulate.js';

/** Tenants per arm below which relative guardrails wait (the contract's too_few_tenants). */
export const MIN_GUARDRAIL_TENANTS_PER_ARM = 20;

export interface OverrideGuardrail {
  readonly maxIncrease: number;
  readonly alpha: number;
  /** Difference-sequence tuning (candidate observations); default DEFAULT_DIFFERENCE_TUNING. */
  readonly tuning?: number;
  /** Tenant-level tuning (effective runs); default DEFAULT_TENANT_TUNING. */
  readonly tenantTuning?: number;
  /** Adjust tenant-level estimates with pre-rollout rates when the scenario simulates them. */
  readonly cuped?: boolean;
}

const overrides = (a: { reviewed: number; overridden: number }): BinomialCount => ({ x: a.overridden, n: a.reviewed });

/** The tenant-level view of a look: one stratum, tenants with reviewed runs. */
export function tenantStratum(tenants: readonly SimTenant[]): TenantStratum {
  return tenantStratumOf(tenants, (t) => ({ tenant: t.tenant, x: t.overridden, n: t.reviewed }));
}

/** Each simulated tenant's counts before the rollout (CUPED), for those that had reviews. */
export function preRollout(tenants: readonly SimTenant[]): Map<string, BinomialCount> {
  const m = new Map<string, BinomialCount>();
  for (const t of tenants) if (t.pre && t.pre.reviewed > 0) m.set(t.tenant, { x: t.pre.overridden, n: t.pre.reviewed });
  return m;
}

/** Breach when the guardrail's lower bound of Δ exceeds maxIncrease (the contract's rule). */
export function overrideGuardrailDecide(g: OverrideGuardrail): Decide {
  return (s: SimState) => {
    if (s.tenants) {
      const stratum = tenantStratum(s.tenants);
      if (stratum.candidate.length < MIN_GUARDRAIL_TENANTS_PER_ARM || stratum.control.length < MIN_GUARDRAIL_TENANTS_PER_ARM)
        return { breached: false };
      const e = tenantLevelEstimate([stratum], g.cuped ? { preRollout: preRollout(s.tenants) } : undefined);
      return { breached: tenantLevelBound(e, 'lower', g.alpha, g.tenantTuning ?? DEFAULT_TENANT_TUNING) > g.maxIncrease };
    }
    const breached = differenceRejects(overrides(s.candidate), overrides(s.control), g.maxIncrease, 'lower', g.alpha, {
      share: s.scenario.share,
      tuning: g.tuning ?? DEFAULT_DIFFERENCE_TUNING,
      center: g.maxIncrease,
    });
    return { breached };
  };
}

/** Minimum tenants per arm for a tenant-level verdict (the contract's 10). */
export const MIN_VERDICT_TENANTS_PER_ARM = 10;

/**
 * The verdict alone (never breaches): from the two-sided always-valid interval at `alpha`,
 * insufficient until each arm has `minReviewed` reviewed runs.
 */
export function verdictDecide(opts: { alpha: number; minReviewed?: number; tuning?: number; tenantTuning?: number }): Decide {
  const minReviewed = opts.minReviewed ?? 100;
  return (s: SimState) => {
    let verdict: Verdict = 'insufficient_data';
    if (s.candidate.reviewed >= minReviewed && s.control.reviewed >= minReviewed) {
      let lo: number;
      let hi: number;
      if (s.tenants) {
        const stratum = tenantStratum(s.tenants);
        if (stratum.candidate.length < MIN_VERDICT_TENANTS_PER_ARM || stratum.control.length < MIN_VERDICT_TENANTS_PER_ARM)
          return { breached: false, verdict };
        [lo, hi] = tenantLevelInterval(tenantLevelEstimate([stratum]), opts.alpha, opts.tenantTuning ?? DEFAULT_TENANT_TUNING);
      } else {
        const design = { share: s.scenario.share, tuning: opts.tuning ?? DEFAULT_DIFFERENCE_TUNING, center: 0 };
        lo = differenceRejects(overrides(s.candidate), overrides(s.control), 0, 'lower', opts.alpha / 2, design) ? 1 : -1;
        hi = differenceRejects(overrides(s.candidate), overrides(s.control), 0, 'upper', opts.alpha / 2, design) ? -1 : 1;
      }
      verdict = lo > 0 ? 'candidate_worse' : hi < 0 ? 'candidate_better' : 'no_significant_difference';
    }
    return { breached: false, verdict };
  };
}

/**
 * The difference of a rate between arms (candidate − control), the way the contract asks for it
 * (pure; every formula lives in src/domain/stats). The always-valid figures (`alwaysValidCI`,
 * `alwaysValidPValue`, `method`), which the verdict reads, are the ones the guardrails use
 * (README, "Statistics"):
 * - per run: the two-sided stratified finite-sample sequence (stratified-sequence.ts) over the
 *   strata with both arms, each tuned for its stage's share: it covers the worst stage's
 *   difference, so "candidate_worse" means worse in some stage, "candidate_better" better in all;
 * - per tenant: the tenant-level estimate (tenant-level.ts: one cluster per tenant across
 *   stages, CR2, never a zero variance), calibrated by simulation.
 * The fixed-sample figures (`estimate`, `ci`, `pValue`) are as before:
 * - per run (unit splits): one stage → Newcombe interval, pooled z-test and the normal-mixture
 *   confidence sequence (compareProportions); several stages → stratified by stage with
 *   Mantel–Haenszel weights (compareStratified), so a big 100% stage cannot swamp a 10% one;
 * - per tenant (whole tenants assigned): the delta-method variance of the ratio of sums with the
 *   tenant as the unit (compareRatios). The clusters are (stage, tenant) pairs of the stages that
 *   have both arms; the stats module has no stratified cluster estimator, so stratification at the
 *   tenant level is by restriction to those stages only.
 */
import {
  DEFAULT_DIFFERENCE_TUNING,
  differenceSequenceName,
  stratifiedInterval,
  stratifiedRejects,
  stratifiedTwoSidedPValue,
  tenantLevelEstimate,
  tenantLevelInterval,
  tenantLevelMethodName,
  tenantLevelPValue,
  type BinomialCount,
  type SequenceStratum,
  type TenantStratum,
  compareProportions,
  compareRatios,
  compareStratified,
  type DifferenceResult,
  type RatioUnit,
  type Stratum,
} from '../stats/index.js';
import type { Counts } from './types.js';
import type { AnalysisUnit } from './verdict.js';

export type RateMetric = 'overrideRate' | 'errorRate';

/** Events and trials of a rate: overridden of reviewed, or errors of runs. */
export function rateOf(metric: RateMetric, c: Pick<Counts, 'runs' | 'errors' | 'reviewed' | 'overridden'>): { x: number; n: number } {
  // The clamps of sanitized(), without copying the histogram.
  const runs = Math.max(0, c.runs);
  const errors = Math.min(Math.max(0, c.errors), runs);
  const reviewed = Math.min(Math.max(0, c.reviewed), runs - errors);
  return metric === 'overrideRate' ? { x: Math.min(Math.max(0, c.overridden), reviewed), n: reviewed } : { x: errors, n: runs };
}

/** One stratum (stage): its two arms' summed counts; tenant clusters when analysed per tenant. */
export interface StageArms {
  stage: number;
  /** The stage's designed candidate share (percent / 100; 1/2 for a baseline). */
  share: number;
  candidate: Counts;
  control: Counts;
  /** Per-tenant counts of each arm (tenant-level analysis); absent for a pooled control. */
  candidateTenants?: Map<string, Counts>;
  controlTenants?: Map<string, Counts>;
}

export interface DifferenceOptions {
  alpha: number;
  unit: AnalysisUnit;
  /** Randomized stages in the rollout's spec (the stratified sequence's factor count); default: the strata given. */
  plannedStrata?: number;
  /** Each tenant's override counts before the rollout: CUPED for the tenant-level override rate. */
  preRollout?: ReadonlyMap<string, BinomialCount>;
}

export type Difference = DifferenceResult & { standardError?: number; strata?: number };

function clusters(metric: RateMetric, tenants: Map<string, Counts>): RatioUnit[] {
  const units: RatioUnit[] = [];
  for (const t of tenants.values()) {
    const { x, n } = rateOf(metric, t);
    // A tenant without a denominator says nothing about the rate.
    if (n > 0) units.push({ num: x, den: n });
  }
  return units;
}

/**
 * The difference of `metric` over the given strata. Strata without both arms carry no
 * comparison and drop out (MH weight 0; no clusters).
 */
export function rateDifference(metric: RateMetric, strata: readonly StageArms[], opts: DifferenceOptions): Difference {
  return { ...fixedSampleDifference(metric, strata, opts), ...alwaysValidDifference(metric, strata, opts) };
}

/** Per-tenant counts of `metric` in each stratum with both arms (tenants without a denominator left out). */
export function tenantStrata(metric: RateMetric, strata: readonly StageArms[]): TenantStratum[] | undefined {
  const informative = strata.filter((s) => rateOf(metric, s.candidate).n > 0 && rateOf(metric, s.control).n > 0);
  if (informative.length === 0 || !informative.every((s) => s.candidateTenants && s.controlTenants)) return undefined;
  const rows = (tenants: Map<string, Counts>) =>
    [...tenants].map(([tenant, c]) => ({ tenant, ...rateOf(metric, c) })).filter((t) => t.n > 0);
  return informative.map((s) => ({ candidate: rows(s.candidateTenants!), control: rows(s.controlTenants!) }));
}

/** The per-run always-valid sequence of a rate's difference: its strata and design (centred on 0). */
function perRunSequence(metric: RateMetric, strata: readonly StageArms[], opts: DifferenceOptions) {
  const seq: SequenceStratum[] = strata.map((s) => ({
    share: s.share,
    candidate: rateOf(metric, s.candidate),
    control: rateOf(metric, s.control),
  }));
  const planned = Math.max(opts.plannedStrata ?? strata.length, strata.length, 1);
  return { seq, planned, design: { tuning: DEFAULT_DIFFERENCE_TUNING, center: 0, plannedStrata: planned } };
}

function alwaysValidDifference(
  metric: RateMetric,
  strata: readonly StageArms[],
  opts: DifferenceOptions,
): Pick<Difference, 'alwaysValidCI' | 'alwaysValidPValue' | 'method'> {
  const clip = (x: number) => Math.min(1, Math.max(-1, x));
  const tenants = opts.unit === 'tenant' ? tenantStrata(metric, strata) : undefined;
  if (tenants) {
    // CUPED with the pre-rollout override rates, as the guardrails (only the override rate has them).
    const options = metric === 'overrideRate' && opts.preRollout && opts.preRollout.size > 0 ? { preRollout: opts.preRollout } : undefined;
    const e = tenantLevelEstimate(tenants, options);
    const [lo, hi] = tenantLevelInterval(e, opts.alpha);
    return {
      alwaysValidCI: [clip(lo), clip(hi)],
      alwaysValidPValue: tenantLevelPValue(e, 0, 2, 'lower', opts.alpha),
      method: tenantLevelMethodName(options),
    };
  }
  const { seq, design, planned } = perRunSequence(metric, strata, opts);
  const name = differenceSequenceName({ share: strata[0]?.share ?? 0.5, tuning: DEFAULT_DIFFERENCE_TUNING, center: 0 });
  return {
    alwaysValidCI: stratifiedInterval(seq, opts.alpha, design),
    alwaysValidPValue: stratifiedTwoSidedPValue(seq, design),
    method: planned > 1 ? `stratified-worst-stage(${planned} planned):${name}` : name,
  };
}

/**
 * Which side of 0 the always-valid interval of `alwaysValidDifference` lies on (1: above, −1:
 * below, 0: it holds 0), decided without computing its bounds: per run, whether the stratified
 * sequence rejects Δ = 0 on either side at α/2 (certified, no bisection, about a hundredth of the
 * interval's cost). What a verdict needs when nobody reads the interval (the planner's looks).
 */
export function alwaysValidSide(metric: RateMetric, strata: readonly StageArms[], opts: DifferenceOptions): -1 | 0 | 1 {
  if (opts.unit === 'tenant' && tenantStrata(metric, strata)) {
    const [lo, hi] = alwaysValidDifference(metric, strata, opts).alwaysValidCI;
    return lo > 0 ? 1 : hi < 0 ? -1 : 0;
  }
  const { seq, design } = perRunSequence(metric, strata, opts);
  if (stratifiedRejects(seq, 0, 'lower', opts.alpha / 2, design)) return 1;
  if (stratifiedRejects(seq, 0, 'upper', opts.alpha / 2, design)) return -1;
  return 0;
}

/** Estimate, fixed-sample interval and p-value (Newcombe / Mantel–Haenszel / tenant ratio). */
function fixedSampleDifference(metric: RateMetric, strata: readonly StageArms[], opts: DifferenceOptions): Difference {
  const informative = strata.filter((s) => rateOf(metric, s.candidate).n > 0 && rateOf(metric, s.control).n > 0);
  const perTenant = opts.unit === 'tenant' && informative.length > 0 && informative.every((s) => s.candidateTenants && s.controlTenants);
  if (perTenant) {
    const cand = informative.flatMap((s) => clusters(metric, s.candidateTenants!));
    const ctrl = informative.flatMap((s) => clusters(metric, s.controlTenants!));
    const { candidate: _c, control: _t, standardError, ...rest } = compareRatios(cand, ctrl, { alpha: opts.alpha });
    return { ...rest, ...(Number.isFinite(standardError) ? { standardError } : {}) };
  }
  if (strata.length === 1) {
    const s = strata[0]!;
    return compareProportions(rateOf(metric, s.candidate), rateOf(metric, s.control), { alpha: opts.alpha });
  }
  const st: Stratum[] = strata.map((s) => ({ candidate: rateOf(metric, s.candidate), control: rateOf(metric, s.control) }));
  const { standardError, ...rest } = compareStratified(st, { alpha: opts.alpha });
  return { ...rest, ...(Number.isFinite(standardError) ? { standardError } : {}) };
}

/** Distinct tenants with a denominator for `metric` in each arm of the strata that have both arms. */
export function tenantsPerArm(metric: RateMetric, strata: readonly StageArms[]): { control: number; candidate: number } {
  const cand = new Set<string>();
  const ctrl = new Set<string>();
  const collect = (into: Set<string>, tenants: Map<string, Counts> | undefined) => {
    for (const [tenant, c] of tenants ?? []) if (rateOf(metric, c).n > 0) into.add(tenant);
  };
  for (const s of strata) {
    if (!(rateOf(metric, s.candidate).n > 0 && rateOf(metric, s.control).n > 0)) continue;
    collect(cand, s.candidateTenants);
    collect(ctrl, s.controlTenants);
  }
  return { control: ctrl.size, candidate: cand.size };
}

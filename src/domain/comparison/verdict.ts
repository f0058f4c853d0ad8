/**
 * The comparison's verdict (pure), by the contract's rules:
 * - `insufficient_data` until each arm has MIN_REVIEWED_PER_ARM reviewed runs, and, when whole
 *   tenants were assigned, MIN_TENANTS_PER_ARM tenants with reviewed runs in each arm;
 * - a baseline control (observational) never yields candidate_better or candidate_worse;
 * - otherwise from the always-valid interval of the override-rate difference (candidate − control)
 *   at the rollout's alpha: wholly above 0 → candidate_worse (more overrides), wholly below 0 →
 *   candidate_better, else no_significant_difference.
 */
import type { Interval } from '../stats/index.js';

export type Verdict = 'insufficient_data' | 'candidate_better' | 'candidate_worse' | 'no_significant_difference';
export type ControlArm = 'randomized' | 'baseline';
export type AnalysisUnit = 'run' | 'tenant';

export const MIN_REVIEWED_PER_ARM = 100;
export const MIN_TENANTS_PER_ARM = 10;

export interface VerdictInput {
  controlArm: ControlArm;
  analysisUnit: AnalysisUnit;
  reviewed: { control: number; candidate: number };
  /** Tenants with reviewed runs per arm (used when analysisUnit is 'tenant'). */
  tenants: { control: number; candidate: number };
  /** The always-valid interval of the override-rate difference at the rollout's alpha. */
  alwaysValidCI: Interval;
}

/** Whether the tenant rule withholds significance: whole tenants assigned, too few of them. */
export function tooFewTenants(i: Pick<VerdictInput, 'analysisUnit' | 'tenants'>): boolean {
  return i.analysisUnit === 'tenant' && (i.tenants.control < MIN_TENANTS_PER_ARM || i.tenants.candidate < MIN_TENANTS_PER_ARM);
}

export function decideVerdict(i: VerdictInput): Verdict {
  if (i.reviewed.control < MIN_REVIEWED_PER_ARM || i.reviewed.candidate < MIN_REVIEWED_PER_ARM) return 'insufficient_data';
  if (tooFewTenants(i)) return 'insufficient_data';
  if (i.controlArm === 'baseline') return 'no_significant_difference';
  const [lower, upper] = i.alwaysValidCI;
  if (lower > 0) return 'candidate_worse';
  if (upper < 0) return 'candidate_better';
  return 'no_significant_difference';
}

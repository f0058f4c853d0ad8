/**
 * Breakdowns of a comparison (byTenant, byEnvironment): the same arms, restricted to one tenant or
 * one environment, with a fixed-horizon per-run difference (pure). On a tenant split a tenant sits
 * in one arm only, so its difference is uninformative ([−1, 1], p = 1); on a unit split each tenant
 * is compared with itself.
 */
import { fieldNames, simpleDifference, summarizeArm, type ArmSummary, type SimpleDifference } from './arm-summary.js';
import { sumCounts } from './counts.js';
import { rateOf } from './differences.js';
import type { Cell } from './types.js';

export interface Breakdown {
  arms: { control: ArmSummary; candidate: ArmSummary };
  difference: { overrideRate: SimpleDifference; errorRate: SimpleDifference };
}

export function buildBreakdown(controlVersion: string, candidateVersion: string, cells: Cell[]): Breakdown {
  const control = sumCounts(cells.filter((c) => c.arm === 'control'));
  const candidate = sumCounts(cells.filter((c) => c.arm === 'candidate'));
  const fields = fieldNames(control, candidate);
  return {
    arms: { control: summarizeArm(controlVersion, control, fields), candidate: summarizeArm(candidateVersion, candidate, fields) },
    difference: {
      overrideRate: simpleDifference(rateOf('overrideRate', candidate), rateOf('overrideRate', control)),
      errorRate: simpleDifference(rateOf('errorRate', candidate), rateOf('errorRate', control)),
    },
  };
}

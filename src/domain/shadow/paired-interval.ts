/**
 * The shadow comparison's paired 2×2 table, and its fixed-horizon interval: Newcombe's
 * square-and-add interval for paired proportions (Newcombe 1998, Stat Med 17:2635, method 10;
 * src/domain/stats/mcnemar.ts), with the control as the first version and the candidate as the
 * second, so the difference reads candidate − control.
 */
import { pairedDifference, type PairedTable } from '../stats/mcnemar.js';
import type { Interval } from '../stats/types.js';

/** A paired 2×2 table of override outcomes (control overridden × candidate would-be overridden). */
export interface PairedCounts {
  bothOk: number;
  onlyControlOverridden: number;
  onlyCandidateOverridden: number;
  bothOverridden: number;
}

export function pairCount(t: PairedCounts): number {
  return t.bothOk + t.onlyControlOverridden + t.onlyCandidateOverridden + t.bothOverridden;
}

/** The table in the statistics module's orientation: first = control, second = candidate. */
export function asPairedTable(t: PairedCounts): PairedTable {
  return { both: t.bothOverridden, onlyFirst: t.onlyControlOverridden, onlySecond: t.onlyCandidateOverridden, neither: t.bothOk };
}

/** Newcombe's paired interval for candidate − control at `confidence`; [−1, 1] without pairs. */
export function newcombePairedDifference(t: PairedCounts, confidence = 0.95): { estimate: number; ci: Interval } {
  const d = pairedDifference(asPairedTable(t), confidence);
  return { estimate: d.estimate, ci: d.interval };
}

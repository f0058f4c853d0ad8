/**
 * The paired comparison of shadow runs (README "Shadow runs"), assembled from aggregates (pure):
 * each reviewed control run with a shadow output is one pair, classified by whether the human
 * overrode the control and whether the human's record would have overridden the candidate. Rates
 * are on the same calls, so the difference has the power of a paired design.
 *
 * Figures per table: the four cells, both override rates, the difference candidate − control with
 * Newcombe's paired interval (fixed horizon) and an always-valid confidence sequence, McNemar's
 * exact p-value and its always-valid version (src/domain/stats/mcnemar-sequential.ts).
 */
import type { Interval } from '../stats/types.js';
import { pairedDifferenceBounds, pairedDifferenceSequence, sequentialMcNemar } from '../stats/mcnemar-sequential.js';
import { mcnemarExactPValue } from '../stats/mcnemar.js';
import { newcombePairedDifference, pairCount, type PairedCounts } from './paired-interval.js';

/** The human saw the control's output, not the candidate's: shadow scores lean against the candidate. */
export const SHADOW_ANCHORING_WARNING = 'shadow_anchoring';

/** Scored pairs of one tenant and stage with one outcome (a row of the store's GROUP BY). */
export interface ShadowCell {
  tenantId: string;
  /** The control run's stage; null in stage-free shadow mode. */
  stage: number | null;
  controlOverridden: boolean;
  candidateOverridden: boolean;
  pairs: number;
}

/** Per output field, over every scored pair: how often each side changed it. */
export interface ShadowFieldCounts {
  field: string;
  onlyControl: number;
  onlyCandidate: number;
  both: number;
}

export interface ShadowAggregates {
  cells: ShadowCell[];
  fields: ShadowFieldCounts[];
  /** Shadow calls that finished (with an output or an error). */
  shadowRuns: number;
  /** Shadow calls that failed: counted here, never in the pairs. */
  candidateErrors: number;
  promptTokens: number;
  completionTokens: number;
  /** Shadow calls skipped, by reason, summed over replicas. */
  skipped: { budget: number; concurrency: number };
}

export interface PairedComparison extends PairedCounts {
  pairs: number;
  controlOverrideRate: number;
  candidateOverrideRate: number;
  difference: { estimate: number; ci: Interval; alwaysValidCI: Interval; alwaysValidPValue: number; method: string };
  mcnemarPValue: number;
}

export interface ShadowReport extends PairedComparison {
  byField: Record<string, PairedComparison>;
  byTenant: ({ tenant: string } & PairedComparison)[];
  byStage: ({ stage: number | null } & PairedComparison)[];
  shadowRuns: number;
  candidateErrors: number;
  skipped: { budget: number; concurrency: number };
  cost: { promptTokens: number; completionTokens: number };
  warnings: string[];
}

const emptyCounts = (): PairedCounts => ({ bothOk: 0, onlyControlOverridden: 0, onlyCandidateOverridden: 0, bothOverridden: 0 });

function add(t: PairedCounts, c: ShadowCell): void {
  if (c.controlOverridden && c.candidateOverridden) t.bothOverridden += c.pairs;
  else if (c.controlOverridden) t.onlyControlOverridden += c.pairs;
  else if (c.candidateOverridden) t.onlyCandidateOverridden += c.pairs;
  else t.bothOk += c.pairs;
}

/** Every figure of one paired table at the rollout's `alpha`. */
export function comparePairs(t: PairedCounts, alpha: number): PairedComparison {
  const pairs = pairCount(t);
  const b = t.onlyControlOverridden;
  const c = t.onlyCandidateOverridden;
  const fixed = newcombePairedDifference(t, 1 - alpha);
  const sequence = pairedDifferenceSequence(b, c, pairs, { alpha });
  const sequential = sequentialMcNemar(b, c, { alpha });
  return {
    pairs,
    ...t,
    controlOverrideRate: pairs === 0 ? 0 : (b + t.bothOverridden) / pairs,
    candidateOverrideRate: pairs === 0 ? 0 : (c + t.bothOverridden) / pairs,
    difference: {
      estimate: fixed.estimate,
      ci: fixed.ci,
      alwaysValidCI: sequence.ci,
      alwaysValidPValue: sequential.pValue,
      method: `paired: Newcombe square-and-add (1998) CI; ${sequence.method}; ${sequential.method} p-value`,
    },
    mcnemarPValue: mcnemarExactPValue(b, c),
  };
}

function groupBy<K>(cells: ShadowCell[], key: (c: ShadowCell) => K): Map<K, PairedCounts> {
  const out = new Map<K, PairedCounts>();
  for (const c of cells) {
    const k = key(c);
    let t = out.get(k);
    if (t === undefined) out.set(k, (t = emptyCounts()));
    add(t, c);
  }
  return out;
}

export function assembleShadowReport(a: ShadowAggregates, alpha: number): ShadowReport {
  const overall = emptyCounts();
  for (const c of a.cells) add(overall, c);
  const pairs = pairCount(overall);
  const byField: Record<string, PairedComparison> = {};
  for (const f of [...a.fields].sort((x, y) => (x.field < y.field ? -1 : x.field > y.field ? 1 : 0))) {
    const t: PairedCounts = {
      onlyControlOverridden: f.onlyControl,
      onlyCandidateOverridden: f.onlyCandidate,
      bothOverridden: f.both,
      bothOk: Math.max(0, pairs - f.onlyControl - f.onlyCandidate - f.both),
    };
    Object.defineProperty(byField, f.field, { value: comparePairs(t, alpha), enumerable: true, writable: true, configurable: true });
  }
  const byTenant = [...groupBy(a.cells, (c) => c.tenantId)]
    .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
    .map(([tenant, t]) => ({ tenant, ...comparePairs(t, alpha) }));
  const byStage = [...groupBy(a.cells, (c) => c.stage)]
    .sort(([x], [y]) => (x ?? -1) - (y ?? -1))
    .map(([stage, t]) => ({ stage, ...comparePairs(t, alpha) }));
  return {
    ...comparePairs(overall, alpha),
    byField,
    byTenant,
    byStage,
    shadowRuns: a.shadowRuns,
    candidateErrors: a.candidateErrors,
    skipped: { ...a.skipped },
    cost: { promptTokens: a.promptTokens, completionTokens: a.completionTokens },
    warnings: [SHADOW_ANCHORING_WARNING],
  };
}

export type ShadowGateStatus = 'waiting' | 'passed' | 'failed';

/**
 * The shadow gate (pure): `waiting` until `minPairs` scored pairs; then `passed` when the
 * always-valid upper bound of candidate − control is at most `maxIncrease`, `failed` when the
 * lower bound is above it, else still `waiting`. Each bound is one-sided at `alpha`, valid at
 * every look, so a gate checked after every pair wrongly passes (or fails) with probability at
 * most `alpha`.
 */
export function shadowGateStatus(
  t: PairedCounts,
  gate: { maxIncrease: number; minPairs: number },
  alpha: number,
): { status: ShadowGateStatus; pairs: number; estimate: number; lowerBound: number; upperBound: number; method: string } {
  const pairs = pairCount(t);
  const b = pairedDifferenceBounds(t.onlyControlOverridden, t.onlyCandidateOverridden, pairs, { alpha });
  const status: ShadowGateStatus =
    pairs < gate.minPairs ? 'waiting' : b.upper <= gate.maxIncrease ? 'passed' : b.lower > gate.maxIncrease ? 'failed' : 'waiting';
  return { status, pairs, estimate: b.estimate, lowerBound: b.lower, upperBound: b.upper, method: b.method };
}

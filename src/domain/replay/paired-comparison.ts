/**
 * Two replays of one dataset compared pair by pair: the same case (and repeat) under version a
 * and version b. Counts of the paired table, McNemar's exact test on the discordant pairs and
 * Newcombe's paired interval for b − a (src/domain/stats/mcnemar.ts), overall and per field.
 *
 * Errors (README "Datasets, replays and the gate"):
 * - 'excluded' (the default, the compare endpoint): a pair in which either call failed is left
 *   out of the pairs and counted in `errors`, as shadow calls that fail are.
 * - 'againstB' (the gate: a is the control, b the candidate): a pair whose only failed call is
 *   b's counts as b overridden (a human would have had to do the whole record), so that the
 *   candidate cannot pass by failing. A pair in which a's call failed is left out: without the
 *   control's output the case says nothing about how the candidate compares, and a shared outage
 *   (both calls failed) is no evidence about either version. Counting such pairs as overridden on
 *   both sides would make them agreeing pairs that narrow the interval: two versions that fail
 *   every case would "pass" with a tight interval around 0.
 *
 * Repeats: pairs are (case, repeat), but the case is the unit of inference (case-unit.ts): the
 * interval and the gate's bounds are computed as for the effective number of cases, and
 * McNemar's exact test becomes the sign test on the cases' differences (with one repeat per case,
 * McNemar's test itself). The counts, rates and estimate stay those of the pairs.
 *
 * Nothing compared is not "no difference": without pairs the rates and the estimate are null
 * (the interval stays [−1, 1]) and `warnings` has `no_pairs`; when pairs with a failed call
 * outnumber those compared, `mostly_errors`.
 */
import type { ScoredResult } from '../model/replay.js';
import { mcnemarExactPValue, pairedDifferenceAtZ, type PairedTable } from '../stats/mcnemar.js';
import { normalQuantile, twoSidedCriticalValue } from '../stats/normal.js';
import type { Interval } from '../stats/types.js';
import { caseLevelZ, caseUnits, type CaseUnits } from './case-unit.js';

export interface PairedCell {
  pairs: number;
  bothOk: number;
  onlyAOverridden: number;
  onlyBOverridden: number;
  bothOverridden: number;
  /** Null without pairs. */
  aOverrideRate: number | null;
  bOverrideRate: number | null;
  /** b − a; the estimate is null without pairs. */
  difference: { estimate: number | null; ci: Interval };
  /** McNemar's exact test, on the cases (the sign test on their differences when a case has repeats). */
  mcnemarPValue: number;
}

export interface DiscordantPair {
  caseId: string;
  repeat: number;
  aFields: string[];
  bFields: string[];
}

export type PairedWarning = 'incomplete' | 'repeated_cases' | 'no_pairs' | 'mostly_errors';

export interface PairedComparison extends PairedCell {
  /** Distinct cases among the pairs, and their effective number (the interval's unit). */
  units: CaseUnits;
  byField: Record<string, PairedCell>;
  /** Pairs with a failed call, by whose call failed (left out, or with 'againstB' b's scored overridden). */
  errors: { a: number; b: number; both: number };
  /** Results without a partner in the other replay (one of them unfinished). */
  unpaired: { a: number; b: number };
  /** The cases that changed between the versions (at most `maxDiscordant`). */
  discordant: DiscordantPair[];
  warnings: PairedWarning[];
}

export interface PairedOptions {
  errors?: 'excluded' | 'againstB';
  confidence?: number;
  /** Fields to report even when neither replay changed them. */
  fields?: readonly string[];
  maxDiscordant?: number;
}

const key = (r: Pick<ScoredResult, 'caseId' | 'repeat'>) => `${r.caseId}/${r.repeat}`;

export function comparePaired(a: readonly ScoredResult[], b: readonly ScoredResult[], opts: PairedOptions = {}): PairedComparison {
  const candidateErrorsCount = opts.errors === 'againstB';
  const confidence = opts.confidence ?? 0.95;
  const byKey = new Map(b.map((r) => [key(r), r]));
  const paired: [ScoredResult, ScoredResult][] = [];
  let unpairedA = 0;
  for (const ra of a) {
    const rb = byKey.get(key(ra));
    if (!rb) unpairedA++;
    else paired.push([ra, rb]);
  }
  const unpairedB = b.length - paired.length;
  const errors = { a: 0, b: 0, both: 0 };
  const included: [ScoredResult, ScoredResult][] = [];
  for (const pair of paired) {
    const [ra, rb] = pair;
    if (ra.errored || rb.errored) {
      if (ra.errored && rb.errored) errors.both++;
      else if (ra.errored) errors.a++;
      else errors.b++;
      // Only b's failure, against a's output, is evidence (about b); see the file comment.
      if (!(candidateErrorsCount && !ra.errored)) continue;
    }
    included.push(pair);
  }
  const units = caseUnits(included.map(([ra]) => ra.caseId));
  const overall = emptyTally();
  const perField = new Map<string, Tally>();
  for (const f of opts.fields ?? []) perField.set(f, emptyTally());
  const discordant: DiscordantPair[] = [];
  for (const [ra, rb] of included) {
    const oa = ra.overridden;
    const ob = rb.errored || rb.overridden;
    add(overall, ra.caseId, oa, ob);
    if (oa !== ob && discordant.length < (opts.maxDiscordant ?? 200)) {
      discordant.push({ caseId: ra.caseId, repeat: ra.repeat, aFields: ra.fields, bFields: rb.errored ? [] : rb.fields });
    }
    for (const f of ra.fields) if (!perField.has(f)) perField.set(f, emptyTally());
    for (const f of rb.fields) if (!perField.has(f)) perField.set(f, emptyTally());
  }
  // Field tables over the same pairs: a field is "overridden" in a result that changed it (every field, for a failed call).
  for (const [f, t] of perField) {
    for (const [ra, rb] of included) add(t, ra.caseId, ra.fields.includes(f), rb.errored || rb.fields.includes(f));
  }
  const byField: Record<string, PairedCell> = {};
  for (const f of [...perField.keys()].sort()) byField[f] = cell(perField.get(f)!, units, confidence);
  const warnings: PairedWarning[] = [];
  if (unpairedA + unpairedB > 0) warnings.push('incomplete');
  if (a.some((r) => r.repeat > 0) || b.some((r) => r.repeat > 0)) warnings.push('repeated_cases');
  if (included.length === 0) warnings.push('no_pairs');
  if (errors.a + errors.b + errors.both > included.length) warnings.push('mostly_errors');
  return { ...cell(overall, units, confidence), units, byField, errors, unpaired: { a: unpairedA, b: unpairedB }, discordant, warnings };
}

/** The gate's figures: one-sided bounds of b − a at `alpha` over the pairs, the case as the unit. */
export function pairedBounds(
  c: Pick<PairedComparison, 'bothOk' | 'onlyAOverridden' | 'onlyBOverridden' | 'bothOverridden' | 'units'>,
  alpha: number,
): { estimate: number; lower: number; upper: number } {
  if (!(alpha > 0 && alpha < 0.5)) throw new RangeError(`alpha must be in (0, 0.5), got ${alpha}`);
  const r = pairedDifferenceAtZ(toTable(c), caseLevelZ(normalQuantile(1 - alpha), c.units));
  return { estimate: r.estimate, lower: r.interval[0], upper: r.interval[1] };
}

interface MutableTable {
  bothOk: number;
  onlyAOverridden: number;
  onlyBOverridden: number;
  bothOverridden: number;
}

interface Tally extends MutableTable {
  /** Per case with a discordant pair: its pairs' (b overridden) − (a overridden), summed. */
  byCase: Map<string, number>;
}

function emptyTally(): Tally {
  return { bothOk: 0, onlyAOverridden: 0, onlyBOverridden: 0, bothOverridden: 0, byCase: new Map() };
}

function add(t: Tally, caseId: string, a: boolean, b: boolean): void {
  if (a && b) t.bothOverridden++;
  else if (a) t.onlyAOverridden++;
  else if (b) t.onlyBOverridden++;
  else t.bothOk++;
  if (a !== b) t.byCase.set(caseId, (t.byCase.get(caseId) ?? 0) + (b ? 1 : -1));
}

/** a is the first version, b the second: the difference reads b − a. */
function toTable(t: MutableTable): PairedTable {
  return { both: t.bothOverridden, onlyFirst: t.onlyAOverridden, onlySecond: t.onlyBOverridden, neither: t.bothOk };
}

function cell(t: Tally, units: CaseUnits, confidence: number): PairedCell {
  const pairs = t.bothOk + t.onlyAOverridden + t.onlyBOverridden + t.bothOverridden;
  const d = pairedDifferenceAtZ(toTable(t), caseLevelZ(twoSidedCriticalValue(confidence), units));
  // The sign test on the cases: with one pair per case, exactly McNemar's exact test.
  let aWorse = 0;
  let bWorse = 0;
  for (const v of t.byCase.values()) {
    if (v > 0) bWorse++;
    else if (v < 0) aWorse++;
  }
  return {
    pairs,
    bothOk: t.bothOk,
    onlyAOverridden: t.onlyAOverridden,
    onlyBOverridden: t.onlyBOverridden,
    bothOverridden: t.bothOverridden,
    aOverrideRate: pairs === 0 ? null : (t.onlyAOverridden + t.bothOverridden) / pairs,
    bOverrideRate: pairs === 0 ? null : (t.onlyBOverridden + t.bothOverridden) / pairs,
    difference: { estimate: pairs === 0 ? null : d.estimate, ci: d.interval },
    mcnemarPValue: mcnemarExactPValue(aWorse, bWorse),
  };
}

/**
 * Two replays of one dataset compared pair by pair: the same case (and repeat) under version a
 * and version b. Counts of the paired table, McNemar's exact test on the discordant pairs and
 * Newcombe's paired interval for b − a (src/domain/stats/mcnemar.ts), overall and per field.
 *
 * Errors: by default a pair in which either call failed is left out of the pairs and counted in
 * `errors` (as shadow calls that fail are: API "Gates and shadow runs"); a gate scores a failed
 * call as overridden instead (a human would have had to do the whole record), so that a version
 * that fails cannot pass by failing.
 */
import type { ScoredResult } from '../model/replay.js';
import { mcnemarExactPValue, pairedDifference, pairedDifferenceBounds, type PairedTable } from '../stats/mcnemar.js';
import type { Interval } from '../stats/types.js';

export interface PairedCell {
  pairs: number;
  bothOk: number;
  onlyAOverridden: number;
  onlyBOverridden: number;
  bothOverridden: number;
  aOverrideRate: number;
  bOverrideRate: number;
  /** b − a. */
  difference: { estimate: number; ci: Interval };
  mcnemarPValue: number;
}

export interface DiscordantPair {
  caseId: string;
  repeat: number;
  aFields: string[];
  bFields: string[];
}

export interface PairedComparison extends PairedCell {
  byField: Record<string, PairedCell>;
  /** Pairs with a failed call: left out of `pairs` (errors 'excluded') or scored overridden ('overridden'). */
  errors: { a: number; b: number; both: number };
  /** Results without a partner in the other replay (one of them unfinished). */
  unpaired: { a: number; b: number };
  /** The cases that changed between the versions (at most `maxDiscordant`). */
  discordant: DiscordantPair[];
  warnings: string[];
}

export interface PairedOptions {
  errors?: 'excluded' | 'overridden';
  confidence?: number;
  /** Fields to report even when neither replay changed them. */
  fields?: readonly string[];
  maxDiscordant?: number;
}

const key = (r: Pick<ScoredResult, 'caseId' | 'repeat'>) => `${r.caseId}/${r.repeat}`;

export function comparePaired(a: readonly ScoredResult[], b: readonly ScoredResult[], opts: PairedOptions = {}): PairedComparison {
  const errorsAsOverridden = opts.errors === 'overridden';
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
  const overall = emptyTable();
  const perField = new Map<string, MutableTable>();
  for (const f of opts.fields ?? []) perField.set(f, emptyTable());
  const discordant: DiscordantPair[] = [];
  const included: [ScoredResult, ScoredResult][] = [];
  for (const pair of paired) {
    const [ra, rb] = pair;
    if (ra.errored || rb.errored) {
      if (ra.errored && rb.errored) errors.both++;
      else if (ra.errored) errors.a++;
      else errors.b++;
      if (!errorsAsOverridden) continue;
    }
    included.push(pair);
    const oa = ra.errored || ra.overridden;
    const ob = rb.errored || rb.overridden;
    add(overall, oa, ob);
    if (oa !== ob && discordant.length < (opts.maxDiscordant ?? 200)) {
      discordant.push({ caseId: ra.caseId, repeat: ra.repeat, aFields: ra.errored ? [] : ra.fields, bFields: rb.errored ? [] : rb.fields });
    }
    for (const f of ra.fields) if (!perField.has(f)) perField.set(f, emptyTable());
    for (const f of rb.fields) if (!perField.has(f)) perField.set(f, emptyTable());
  }
  // Field tables over the same pairs: a field is "overridden" in a result that changed it.
  for (const [f, t] of perField) {
    for (const [ra, rb] of included) add(t, ra.errored || ra.fields.includes(f), rb.errored || rb.fields.includes(f));
  }
  const byField: Record<string, PairedCell> = {};
  for (const f of [...perField.keys()].sort()) byField[f] = cell(perField.get(f)!, confidence);
  const warnings: string[] = [];
  if (unpairedA + unpairedB > 0) warnings.push('incomplete');
  if (a.some((r) => r.repeat > 0) || b.some((r) => r.repeat > 0)) warnings.push('repeated_cases');
  return { ...cell(overall, confidence), byField, errors, unpaired: { a: unpairedA, b: unpairedB }, discordant, warnings };
}

/** The gate's figures: one-sided bounds of b − a at `alpha` over the pairs (errors scored overridden). */
export function pairedBounds(
  c: Pick<PairedCell, 'bothOk' | 'onlyAOverridden' | 'onlyBOverridden' | 'bothOverridden'>,
  alpha: number,
): { estimate: number; lower: number; upper: number } {
  const r = pairedDifferenceBounds(toTable(c), alpha);
  return { estimate: r.estimate, lower: r.interval[0], upper: r.interval[1] };
}

interface MutableTable {
  bothOk: number;
  onlyAOverridden: number;
  onlyBOverridden: number;
  bothOverridden: number;
}

function emptyTable(): MutableTable {
  return { bothOk: 0, onlyAOverridden: 0, onlyBOverridden: 0, bothOverridden: 0 };
}

function add(t: MutableTable, a: boolean, b: boolean): void {
  if (a && b) t.bothOverridden++;
  else if (a) t.onlyAOverridden++;
  else if (b) t.onlyBOverridden++;
  else t.bothOk++;
}

/** a is the first version, b the second: the difference reads b − a. */
function toTable(t: MutableTable): PairedTable {
  return { both: t.bothOverridden, onlyFirst: t.onlyAOverridden, onlySecond: t.onlyBOverridden, neither: t.bothOk };
}

function cell(t: MutableTable, confidence: number): PairedCell {
  const pairs = t.bothOk + t.onlyAOverridden + t.onlyBOverridden + t.bothOverridden;
  const d = pairedDifference(toTable(t), confidence);
  return {
    pairs,
    ...t,
    aOverrideRate: pairs === 0 ? 0 : (t.onlyAOverridden + t.bothOverridden) / pairs,
    bOverrideRate: pairs === 0 ? 0 : (t.onlyBOverridden + t.bothOverridden) / pairs,
    difference: { estimate: d.estimate, ci: d.interval },
    mcnemarPValue: mcnemarExactPValue(t.onlyAOverridden, t.onlyBOverridden),
  };
}

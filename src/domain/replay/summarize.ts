/**
 * A replay's result from its scored cases: the would-be override rate with its Wilson interval
 * (the same formula as a rollout arm's `overrideRateCI`), per-field rates, error rate, latency
 * quantiles, token usage, and with repeats the version's own run-to-run disagreement.
 * Errored results count in `errorRate`, not in the override rate, as errored runs do in a rollout.
 *
 * With repeats the case, not the result, is the unit of the interval (case-unit.ts): 50 cases
 * run twice are 50 cases, not 100. A replay in which no case was scored (every call failed) has
 * no override rate: the rate, its interval and the field rates are null, never 0 ("all pass").
 */
import type { ReplayResult, ScoredResult } from '../model/replay.js';
import { twoSidedCriticalValue } from '../stats/normal.js';
import { quantile } from '../stats/percentiles.js';
import { wilsonScoreBounds } from '../stats/proportions.js';
import { caseLevelZ, caseUnits } from './case-unit.js';

const Z95 = twoSidedCriticalValue(0.95);

export function summarizeReplay(results: readonly ScoredResult[], datasetFields: readonly string[], repeats: number): ReplayResult {
  let errors = 0;
  let overridden = 0;
  let promptTokens = 0;
  let completionTokens = 0;
  let withUsage = 0;
  const scoredCases: string[] = [];
  const fieldCounts = new Map<string, number>(datasetFields.map((f) => [f, 0]));
  for (const r of results) {
    if (r.errored) {
      errors++;
      continue;
    }
    scoredCases.push(r.caseId);
    if (r.overridden) overridden++;
    for (const f of r.fields) fieldCounts.set(f, (fieldCounts.get(f) ?? 0) + 1);
    if (r.promptTokens !== undefined || r.completionTokens !== undefined) {
      withUsage++;
      promptTokens += r.promptTokens ?? 0;
      completionTokens += r.completionTokens ?? 0;
    }
  }
  const ok = results.length - errors;
  const share = (x: number) => (ok === 0 ? null : x / ok);
  const fieldOverrideRates: Record<string, number | null> = {};
  for (const f of [...fieldCounts.keys()].sort()) fieldOverrideRates[f] = share(fieldCounts.get(f)!);
  const latencies = results.map((r) => r.latencyMs);
  const round = (v: number | undefined) => (v === undefined ? null : Math.round(v * 1000) / 1000);
  const result: ReplayResult = {
    cases: results.length,
    errors,
    errorRate: results.length === 0 ? 0 : errors / results.length,
    overridden,
    overrideRate: share(overridden),
    overrideRateCI: ok === 0 ? null : wilsonScoreBounds(overridden, ok, caseLevelZ(Z95, caseUnits(scoredCases))),
    fieldOverrideRates,
    latencyMs: { p50: round(quantile(latencies, 0.5)), p95: round(quantile(latencies, 0.95)) },
  };
  if (withUsage > 0) result.usage = { promptTokens, completionTokens, resultsWithUsage: withUsage };
  if (repeats > 1) result.repeatDisagreement = repeatDisagreement(results);
  return result;
}

/**
 * Cases whose repeats (without errors) do not all agree on "would be overridden": how often the
 * version disagrees with itself, the floor under any difference between two versions.
 */
function repeatDisagreement(results: readonly ScoredResult[]): { cases: number; disagreeing: number; rate: number | null } {
  const byCase = new Map<string, { yes: number; no: number }>();
  for (const r of results) {
    if (r.errored) continue;
    const c = byCase.get(r.caseId) ?? { yes: 0, no: 0 };
    if (r.overridden) c.yes++;
    else c.no++;
    byCase.set(r.caseId, c);
  }
  let cases = 0;
  let disagreeing = 0;
  for (const c of byCase.values()) {
    if (c.yes + c.no < 2) continue;
    cases++;
    if (c.yes > 0 && c.no > 0) disagreeing++;
  }
  return { cases, disagreeing, rate: cases === 0 ? null : disagreeing / cases };
}

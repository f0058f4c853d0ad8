/**
 * A replay's result from its scored cases: the would-be override rate with its Wilson interval
 * (the same formula as a rollout arm's `overrideRateCI`), per-field rates, error rate, latency
 * quantiles, token usage, and with repeats the version's own run-to-run disagreement.
 * Errored results count in `errorRate`, not in the override rate, as errored runs do in a rollout.
 */
import type { ReplayResult, ScoredResult } from '../model/replay.js';
import { quantile } from '../stats/percentiles.js';
import { wilsonInterval } from '../stats/proportions.js';

export function summarizeReplay(results: readonly ScoredResult[], datasetFields: readonly string[], repeats: number): ReplayResult {
  let errors = 0;
  let overridden = 0;
  let promptTokens = 0;
  let completionTokens = 0;
  let withUsage = 0;
  const fieldCounts = new Map<string, number>(datasetFields.map((f) => [f, 0]));
  for (const r of results) {
    if (r.errored) {
      errors++;
      continue;
    }
    if (r.overridden) overridden++;
    for (const f of r.fields) fieldCounts.set(f, (fieldCounts.get(f) ?? 0) + 1);
    if (r.promptTokens !== undefined || r.completionTokens !== undefined) {
      withUsage++;
      promptTokens += r.promptTokens ?? 0;
      completionTokens += r.completionTokens ?? 0;
    }
  }
  const ok = results.length - errors;
  const rate = (x: number, n: number) => (n === 0 ? 0 : x / n);
  const fieldOverrideRates: Record<string, number> = {};
  for (const f of [...fieldCounts.keys()].sort()) fieldOverrideRates[f] = rate(fieldCounts.get(f)!, ok);
  const latencies = results.map((r) => r.latencyMs);
  const round = (v: number | undefined) => (v === undefined ? null : Math.round(v * 1000) / 1000);
  const result: ReplayResult = {
    cases: results.length,
    errors,
    errorRate: rate(errors, results.length),
    overridden,
    overrideRate: rate(overridden, ok),
    overrideRateCI: wilsonInterval(overridden, ok),
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
function repeatDisagreement(results: readonly ScoredResult[]): { cases: number; disagreeing: number; rate: number } {
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
  return { cases, disagreeing, rate: cases === 0 ? 0 : disagreeing / cases };
}

/**
 * One arm of a comparison, in the contract's shape, from its summed counts (pure).
 * Rates whose denominator is 0 are 0 (the contract's example); their intervals are [0, 1].
 */
import { histogramQuantile, newcombeDifference, twoProportionZTest, wilsonInterval, type Interval } from '../stats/index.js';
import { armCountFields, type ArmCountFields } from '../metrics/counted-metrics.js';
import { sanitized } from './counts.js';
import type { Counts } from './types.js';

/** The arm's plain counts (the metric table's `api.arm` fields), then what is derived from them. */
export interface ArmSummary extends ArmCountFields {
  version: string;
  /** errors / runs. */
  errorRate: number;
  /** reviewed / (runs − errors): the share of answered runs a human reviewed. */
  reviewRate: number;
  /** overridden / reviewed. */
  overrideRate: number;
  /** 95% Wilson score interval of overrideRate. */
  overrideRateCI: Interval;
  /** Per top-level field: reviewed runs where the human changed it / reviewed. */
  fieldOverrideRates: Record<string, number>;
  fieldOverrides: Record<string, number>;
  /** From the log-spaced histogram (within 2% of the exact percentile); null without runs. */
  latencyMs: { p50: number | null; p95: number | null; p99: number | null };
  /** Mean tokens of the runs whose upstream reported usage; null when none did. */
  tokensPerRun: { prompt: number; completion: number; total: number; runs: number } | null;
}

const rate = (x: number, n: number) => (n > 0 ? x / n : 0);

/** `fields`: the field names to report (both arms report the same ones, 0 where none). */
export function summarizeArm(version: string, raw: Counts, fields: readonly string[]): ArmSummary {
  const c = sanitized(raw);
  const answered = c.runs - c.errors;
  const fieldOverrides: Record<string, number> = {};
  const fieldOverrideRates: Record<string, number> = {};
  for (const f of fields) {
    fieldOverrides[f] = c.fieldOverrides[f] ?? 0;
    fieldOverrideRates[f] = rate(fieldOverrides[f], c.reviewed);
  }
  const q = (p: number) => histogramQuantile(c.latencyHist, p) ?? null;
  return {
    version,
    ...armCountFields(c),
    errorRate: rate(c.errors, c.runs),
    reviewRate: rate(c.reviewed, answered),
    overrideRate: rate(c.overridden, c.reviewed),
    overrideRateCI: wilsonInterval(c.overridden, c.reviewed),
    fieldOverrideRates,
    fieldOverrides,
    latencyMs: { p50: q(0.5), p95: q(0.95), p99: q(0.99) },
    tokensPerRun:
      c.tokenRuns > 0
        ? {
            prompt: c.promptTokens / c.tokenRuns,
            completion: c.completionTokens / c.tokenRuns,
            total: (c.promptTokens + c.completionTokens) / c.tokenRuns,
            runs: c.tokenRuns,
          }
        : null,
  };
}

/** The union of the fields either arm overrode, sorted. */
export function fieldNames(...arms: Counts[]): string[] {
  const names = new Set<string>();
  for (const a of arms) for (const [f, n] of Object.entries(a.fieldOverrides)) if (n > 0) names.add(f);
  return [...names].sort();
}

export interface SimpleDifference {
  estimate: number;
  ci: Interval;
  pValue: number;
  method: string;
}

/**
 * The fixed-horizon difference (candidate − control) used in breakdowns (byTenant, byEnvironment):
 * Newcombe hybrid score interval and pooled z-test, per run. Breakdowns are for looking, not for
 * deciding, so they skip the always-valid sequence (its p-value needs a root search per row).
 */
export function simpleDifference(candidate: { x: number; n: number }, control: { x: number; n: number }): SimpleDifference {
  const informative = candidate.n > 0 && control.n > 0;
  return {
    estimate: informative ? candidate.x / candidate.n - control.x / control.n : 0,
    ci: newcombeDifference(candidate.x, candidate.n, control.x, control.n),
    pValue: twoProportionZTest(candidate.x, candidate.n, control.x, control.n).pValue,
    method: 'newcombe-hybrid-score+pooled-z',
  };
}

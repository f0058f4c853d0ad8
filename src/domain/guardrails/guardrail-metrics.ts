/**
 * The guardrail metrics: one definition each (pure). A definition says which counts the metric
 * reads, which limits it accepts (`max`: a ceiling on the candidate; `maxIncrease`: a ceiling on
 * candidate − control) and, for each limit, the Bernoulli quantity its bound is about (events and
 * trials per arm: `minSamples` counts the trials), the threshold the bound is compared with, the
 * extra figures the check reports and how the limit is printed. Validation of a rollout's
 * guardrails (src/domain/model/rollout-spec.ts) and their evaluation (guardrail-status.ts) read
 * this table; neither names a metric. `minSamples` counts the trials of the metric's proportion
 * (reviewed runs for override_rate, finished runs otherwise).
 *
 * The rules (README, "Guardrails and automatic rollback"):
 * - override_rate: `maxIncrease`, absolute points over the control, on overridden / reviewed;
 * - error_rate: `max` (a rate, at most 1) and/or `maxIncrease`, on errors / runs;
 * - latency_p95_ms: `max` in ms: breached when more than 5% of the candidate's runs are slower
 *   than max, with confidence (its p95 above max); the histogram bucket straddling max is
 *   interpolated, not counted whole. Reported in share units (threshold 0.05, `maxMs`), so that
 *   bound, upperBound and threshold compare directly for every metric. And/or `maxIncrease` in ms
 *   over the control's p95 (a quantile confidence sequence, not a proportion: `quantile`).
 */
import type { Counts } from '../metrics/counted-metrics.js';
import { histogramCountAboveInterpolated } from '../stats/index.js';

/** Limits in the order a guardrail's checks are made (max before maxIncrease). */
export const GUARDRAIL_LIMITS = ['max', 'maxIncrease'] as const;
export type GuardrailLimit = (typeof GUARDRAIL_LIMITS)[number];

/** What a check's bound, estimate and threshold measure. */
export const GUARDRAIL_QUANTITIES = ['rate_difference', 'rate', 'share_slower_than_max', 'quantile_difference_ms'] as const;
export type GuardrailQuantity = (typeof GUARDRAIL_QUANTITIES)[number];

/** Events of trials in one arm. */
export interface Proportion {
  x: number;
  n: number;
}

/** The figures of a check that printing needs (a check, or its JSON from the API). */
export interface PrintableCheck {
  threshold: number;
  maxMs?: number;
}

export interface LimitRule {
  quantity: GuardrailQuantity;
  /** What the bound is compared with, for the configured limit. */
  threshold(limit: number): number;
  /** Figures the check reports beside the common ones. */
  figures?(limit: number): { maxMs?: number };
  /** Why a configured value is refused, if it is (a validation message). */
  refuse?(limit: number): string | undefined;
  /** The limit as a user wrote it: "+5 points over control", "2%", "2000 ms". */
  printLimit(check: PrintableCheck): string;
  /**
   * A bound or estimate in the quantity's units: "+6.1 points", "3.1%", "7.1% of runs slower than
   * 2000 ms (5% allowed)"; `decimals` (default 1) where a rule prints fractions of a percent.
   */
  printValue(check: PrintableCheck, value: number, decimals?: number): string;
}

export interface GuardrailMetric<N extends string = string, R extends keyof Counts = keyof Counts> {
  name: N;
  /** The counts it reads of each arm (what the guardrails' per-arm totals must carry). */
  reads: readonly R[];
  /**
   * The Bernoulli quantity its bounds are about, in one arm, for a configured limit value: events
   * and trials (the trials are what minSamples counts).
   */
  proportion(arm: Pick<Counts, R>, limit: number): Proportion;
  /**
   * A latency metric's quantile (0.95 for p95): its `quantile_difference_ms` limit compares the
   * arms' histograms at it instead of a proportion.
   */
  quantile?: number;
  limits: { [L in GuardrailLimit]?: LimitRule };
  /** Validation messages: for a limit it does not take, and when a limit it needs is missing. */
  refuses?: { [L in GuardrailLimit]?: string };
  requires?: { limit: GuardrailLimit; message: string };
}

function guardrailMetric<const N extends string, R extends keyof Counts>(m: GuardrailMetric<N, R>): GuardrailMetric<N, R> {
  return m;
}

/** Figures to one decimal: "3.1%", "+6.1 points". */
const percent = (x: number, decimals = 1) => `${(x * 100).toFixed(decimals)}%`;
const points = (x: number, decimals = 1) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(decimals)} points`;
/** A configured limit as precise as it was written, to two decimals of a percent: "2%", "2.5%". */
const limitPercent = (x: number) => `${Number((x * 100).toFixed(2))}%`;
const limitPoints = (x: number) => `+${Number((x * 100).toFixed(2))} points`;

/** A rate's ceiling on the candidate: the bound is the candidate's rate. */
const RATE_MAX: LimitRule = {
  quantity: 'rate',
  threshold: (max) => max,
  refuse: (max) => (max > 1 ? 'a rate is at most 1' : undefined),
  printLimit: (c) => limitPercent(c.threshold),
  printValue: (_c, v, decimals) => percent(v, decimals),
};

/** A rate's ceiling on candidate − control, in absolute points. */
const RATE_INCREASE: LimitRule = {
  quantity: 'rate_difference',
  threshold: (maxIncrease) => maxIncrease,
  refuse: (maxIncrease) => (maxIncrease > 1 ? 'a rate difference is at most 1' : undefined),
  printLimit: (c) => `${limitPoints(c.threshold)} over control`,
  printValue: (_c, v, decimals) => points(v, decimals),
};

/** A latency guardrail breaches when more than this share of candidate runs is slower than max. */
export const LATENCY_SLOW_SHARE_LIMIT = 0.05;

export const GUARDRAIL_METRICS = [
  guardrailMetric({
    name: 'override_rate',
    reads: ['overridden', 'reviewed'],
    proportion: (a) => ({ x: a.overridden, n: a.reviewed }),
    limits: { maxIncrease: RATE_INCREASE },
    refuses: { max: 'override_rate takes maxIncrease (points over control)' },
  }),
  guardrailMetric({
    name: 'error_rate',
    reads: ['errors', 'runs'],
    proportion: (a) => ({ x: a.errors, n: a.runs }),
    limits: { max: RATE_MAX, maxIncrease: RATE_INCREASE },
  }),
  guardrailMetric({
    name: 'latency_p95_ms',
    reads: ['latencyHist'],
    // The share of runs slower than max; the bucket straddling max is interpolated (counting it
    // whole made a candidate whose p95 was just under max breach for certain: issue 15).
    proportion: (a, maxMs) => ({ x: histogramCountAboveInterpolated(a.latencyHist, maxMs), n: a.latencyHist.reduce((s, b) => s + b, 0) }),
    quantile: 0.95,
    limits: {
      max: {
        quantity: 'share_slower_than_max',
        threshold: () => LATENCY_SLOW_SHARE_LIMIT,
        figures: (maxMs) => ({ maxMs }),
        printLimit: (c) => (c.maxMs === undefined ? `${limitPercent(c.threshold)} of runs slow` : `${c.maxMs} ms`),
        printValue: (c, v) => `${percent(v)} of runs slower than ${c.maxMs ?? 'max'} ms (${limitPercent(c.threshold)} allowed)`,
      },
      maxIncrease: {
        quantity: 'quantile_difference_ms',
        threshold: (ms) => ms,
        printLimit: (c) => `+${c.threshold} ms over control's p95`,
        printValue: (_c, v) => `${v >= 0 ? '+' : '−'}${Math.abs(Math.round(v))} ms`,
      },
    },
  }),
] as const;

export type GuardrailMetricDef = (typeof GUARDRAIL_METRICS)[number];
export type GuardrailMetricName = GuardrailMetricDef['name'];
/** What the guardrails need of one arm, over the rollout's life: the counts some metric reads. */
export type GuardrailArmTotals = Pick<Counts, GuardrailMetricDef['reads'][number]>;

export const GUARDRAIL_METRIC_NAMES = GUARDRAIL_METRICS.map((m) => m.name) as [GuardrailMetricName, ...GuardrailMetricName[]];

/** The definition of a metric by name (undefined for a name the table does not have). */
export function guardrailMetricNamed(name: string): GuardrailMetric<GuardrailMetricName, keyof GuardrailArmTotals> | undefined {
  return GUARDRAIL_METRICS.find((m) => m.name === name);
}

/** The rule of a metric's limit, if the metric accepts that limit. */
export function limitRule(metric: string, limit: GuardrailLimit): LimitRule | undefined {
  return guardrailMetricNamed(metric)?.limits[limit];
}

/**
 * What is wrong with a guardrail as configured, by the table, in a fixed order: limits the metric
 * does not take, a limit it needs that is missing, then values its limits refuse.
 */
export function guardrailIssues(g: { metric: string } & { [L in GuardrailLimit]?: number }): { path: GuardrailLimit; message: string }[] {
  const def = guardrailMetricNamed(g.metric);
  if (!def) return [];
  const issues: { path: GuardrailLimit; message: string }[] = [];
  for (const limit of GUARDRAIL_LIMITS) {
    if (g[limit] !== undefined && !def.limits[limit])
      issues.push({ path: limit, message: def.refuses?.[limit] ?? `${def.name} does not take ${limit}` });
  }
  if (def.requires && g[def.requires.limit] === undefined) issues.push({ path: def.requires.limit, message: def.requires.message });
  for (const limit of GUARDRAIL_LIMITS) {
    const value = g[limit];
    const refused = value !== undefined ? def.limits[limit]?.refuse?.(value) : undefined;
    if (refused) issues.push({ path: limit, message: refused });
  }
  return issues;
}

/** A check (or its JSON from the API) as the printers read it; unknown figures are ignored. */
export interface CheckFigures {
  metric: string;
  limit?: unknown;
  threshold: number;
  maxMs?: unknown;
  bound: number | null;
  status: string;
  samples: number;
}

function ruleAndFigures(check: CheckFigures): { rule: LimitRule | undefined; figures: PrintableCheck } {
  const rule = check.limit === 'max' || check.limit === 'maxIncrease' ? limitRule(check.metric, check.limit) : undefined;
  return { rule, figures: { threshold: check.threshold, ...(typeof check.maxMs === 'number' ? { maxMs: check.maxMs } : {}) } };
}

/** The check's limit as configured: "+5 points over control", "2%", "2000 ms" (the bare threshold for a metric the table lacks). */
export function printLimit(check: CheckFigures): string {
  const { rule, figures } = ruleAndFigures(check);
  return rule ? rule.printLimit(figures) : String(check.threshold);
}

/** The check's bound in its quantity's units: "+6.1 points", "3.1%", "7.1% of runs slower than 2000 ms (5% allowed)". */
export function printBound(check: CheckFigures): string {
  if (check.bound === null) return 'n/a';
  const { rule, figures } = ruleAndFigures(check);
  if (!rule) return String(check.bound);
  // A bound that rounds to its limit ("breached, bound +3.0 points" against +3 points) gets the
  // decimals that tell them apart, up to three.
  let decimals = 1;
  while (
    decimals < 3 &&
    check.bound !== check.threshold &&
    rule.printValue(figures, check.bound, decimals) === rule.printValue(figures, check.threshold, decimals)
  )
    decimals++;
  return rule.printValue(figures, check.bound, decimals);
}

/**
 * A check in a line, for the terminal and logs:
 * "error_rate (limit 2%): holding, bound 1.0%, 500 samples",
 * "latency_p95_ms (limit 2000 ms): breached, bound 7.1% of runs slower than 2000 ms (5% allowed), 1000 samples".
 */
export function describeCheck(check: CheckFigures): string {
  return `${check.metric} (limit ${printLimit(check)}): ${check.status}, bound ${printBound(check)}, ${check.samples} ${check.samples === 1 ? 'sample' : 'samples'}`;
}

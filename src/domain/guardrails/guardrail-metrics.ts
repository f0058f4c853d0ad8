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
 * - latency_p95_ms: `max` in ms, required: breached when more than 5% of the candidate's runs are
 *   slower than max, with confidence (its p95 above max). Reported in share units (threshold
 *   0.05, `maxMs`), so that bound, upperBound and threshold compare directly for every metric.
 */
import type { Counts } from '../metrics/counted-metrics.js';
import { histogramCountAbove } from '../stats/index.js';

/** Limits in the order a guardrail's checks are made (max before maxIncrease). */
export const GUARDRAIL_LIMITS = ['max', 'maxIncrease'] as const;
export type GuardrailLimit = (typeof GUARDRAIL_LIMITS)[number];

/** What a check's bound, estimate and threshold measure. */
export const GUARDRAIL_QUANTITIES = ['rate_difference', 'rate', 'share_slower_than_max'] as const;
export type GuardrailQuantity = (typeof GUARDRAIL_QUANTITIES)[number];

/** Events of trials in one arm. */
export interface Proportion {
  x: number;
  n: number;
}

/** The figures of a check that printing needs (a check, or its JSON from the API). */
export interface PrintableCheck {
  threshold: number;
  bound: number | null;
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
  /** The limit in the unit it was written in: "2.0%", "+5.0 pts", "2000 ms" (a latency max, not the 5% share it is checked as). */
  printLimit(check: PrintableCheck): string;
  /** The bound against the limit, in words: "candidate − control at least +6.1 pts, limit +5.0 pts". */
  printBound(check: PrintableCheck): string;
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
  limits: { [L in GuardrailLimit]?: LimitRule };
  /** Validation messages: for a limit it does not take, and when a limit it needs is missing. */
  refuses?: { [L in GuardrailLimit]?: string };
  requires?: { limit: GuardrailLimit; message: string };
}

function guardrailMetric<const N extends string, R extends keyof Counts>(m: GuardrailMetric<N, R>): GuardrailMetric<N, R> {
  return m;
}

/** Figures to one decimal, a missing bound as a dash: "3.1%", "+6.1 pts", "2000 ms", "–". */
const percent = (x: number | null | undefined) => (typeof x === 'number' ? `${(x * 100).toFixed(1)}%` : '–');
const points = (x: number | null | undefined) => (typeof x === 'number' ? `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} pts` : '–');
const millis = (x: number | null | undefined) => (typeof x === 'number' ? `${Math.round(x)} ms` : '–');

/** A rate's ceiling on the candidate: the bound is the candidate's rate. */
const RATE_MAX: LimitRule = {
  quantity: 'rate',
  threshold: (max) => max,
  refuse: (max) => (max > 1 ? 'a rate is at most 1' : undefined),
  printLimit: (c) => percent(c.threshold),
  printBound: (c) => `candidate rate at least ${percent(c.bound)}, limit ${percent(c.threshold)}`,
};

/** A rate's ceiling on candidate − control, in absolute points. */
const RATE_INCREASE: LimitRule = {
  quantity: 'rate_difference',
  threshold: (maxIncrease) => maxIncrease,
  printLimit: (c) => points(c.threshold),
  printBound: (c) => `candidate − control at least ${points(c.bound)}, limit ${points(c.threshold)}`,
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
    // The share of runs slower than max; atMost: the bucket straddling max counts as slow, erring
    // toward protecting customers.
    proportion: (a, maxMs) => ({ x: histogramCountAbove(a.latencyHist, maxMs).atMost, n: a.latencyHist.reduce((s, b) => s + b, 0) }),
    limits: {
      max: {
        quantity: 'share_slower_than_max',
        threshold: () => LATENCY_SLOW_SHARE_LIMIT,
        figures: (maxMs) => ({ maxMs }),
        printLimit: (c) => millis(c.maxMs),
        printBound: (c) =>
          `p95 ≤ ${millis(c.maxMs)}: share of candidate runs slower than ${millis(c.maxMs)} is at least ${percent(c.bound)}, at most ${percent(c.threshold)} allowed`,
      },
    },
    refuses: { maxIncrease: 'latency_p95_ms takes max (ms)' },
    requires: { limit: 'max', message: 'latency_p95_ms needs max (ms)' },
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
  bound: number | null;
  maxMs?: unknown;
}

function ruleAndFigures(check: CheckFigures): { rule: LimitRule | undefined; figures: PrintableCheck } {
  const rule = check.limit === 'max' || check.limit === 'maxIncrease' ? limitRule(check.metric, check.limit) : undefined;
  return {
    rule,
    figures: { threshold: check.threshold, bound: check.bound, ...(typeof check.maxMs === 'number' ? { maxMs: check.maxMs } : {}) },
  };
}

/**
 * The check's limit in the unit it was written in ("2.0%", "+5.0 pts", "2000 ms"), or undefined
 * for a metric or limit this table does not have (a gateway of another version).
 */
export function printLimit(check: CheckFigures): string | undefined {
  const { rule, figures } = ruleAndFigures(check);
  return rule?.printLimit(figures);
}

/**
 * The check's bound against its limit in words ("candidate − control at least +6.1 pts, limit
 * +5.0 pts"; "p95 ≤ 2000 ms: share of candidate runs slower than 2000 ms is at least 7.1%, at most
 * 5.0% allowed"), or undefined for a metric or limit this table does not have.
 */
export function printBound(check: CheckFigures): string | undefined {
  const { rule, figures } = ruleAndFigures(check);
  return rule?.printBound(figures);
}

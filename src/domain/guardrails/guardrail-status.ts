/**
 * Guardrail decisions (pure): the one place that says whether a rollout's guardrail is waiting,
 * holding or breached. The comparison endpoint shows it; the guardrail job acts on it
 * (src/runtime/guardrail-job.ts: `evaluate` returns `evaluateGuardrails`'s checks and
 * `guardrailSamples`).
 *
 * Every metric's rules (what it reads, the limits it takes, the quantity each limit's bound is
 * about, the threshold) are in its definition (guardrail-metrics.ts); the rules shared by all are
 * here:
 * - `maxIncrease` (relative): breached when the one-sided always-valid LOWER bound of
 *   (candidate − control) of the metric's proportion is above the threshold;
 * - `max` (absolute): when the lower bound of the candidate's proportion is above it;
 * - `minSamples` counts the proportion's trials: in each arm for a relative limit, in the candidate
 *   alone for an absolute one. Below it the check is `waiting`, whatever the bound says;
 * - `guardrailAlpha` is shared by all checks of the rollout (Bonferroni: alpha / number of checks,
 *   a guardrail with both max and maxIncrease being two checks), and the bounds are always-valid
 *   confidence sequences, so it holds over the whole rollout however often this runs;
 * - per-run bounds even when whole tenants were assigned (errs toward protecting customers).
 * `upperBound` (the matching one-sided upper bound) is what auto-advance needs: every check's
 * upper bound below its threshold is positive evidence that the candidate is within its limits.
 */
import type { Guardrail } from '../model/rollout-spec.js';
import { alwaysValidDifferenceBound, alwaysValidProportionBound } from '../stats/index.js';
import type { ControlArm } from '../comparison/verdict.js';
import {
  GUARDRAIL_LIMITS,
  guardrailMetricNamed,
  type GuardrailArmTotals,
  type GuardrailLimit,
  type GuardrailMetric,
  type GuardrailMetricName,
  type GuardrailQuantity,
  type LimitRule,
} from './guardrail-metrics.js';

export { LATENCY_SLOW_SHARE_LIMIT, type GuardrailArmTotals } from './guardrail-metrics.js';

export type GuardrailStatus = 'waiting' | 'holding' | 'breached';

export interface GuardrailInputs {
  /** 'baseline': the control is observational (100% stages); guardrails still act on it. */
  controlArm: ControlArm;
  control: GuardrailArmTotals;
  candidate: GuardrailArmTotals;
}

/** A type alias (not an interface) so that it fits the guardrail job's open `GuardrailFinding`. */
export type GuardrailCheck = {
  metric: GuardrailMetricName;
  limit: GuardrailLimit;
  /** What bound and threshold measure. */
  quantity: GuardrailQuantity;
  threshold: number;
  /** One-sided always-valid lower bound (null when an arm it needs is empty). */
  bound: number | null;
  /** One-sided always-valid upper bound at the same level. */
  upperBound: number | null;
  /** The point estimate of the quantity. */
  estimate: number | null;
  /** The denominator that minSamples counts: the smaller arm's for a relative limit. */
  samples: number;
  samplesByArm: { control: number | null; candidate: number };
  minSamples: number;
  status: GuardrailStatus;
  /** This check's share of guardrailAlpha (Bonferroni). */
  alpha: number;
  controlArm: ControlArm;
  /** latency_p95_ms only: the configured limit in milliseconds. */
  maxMs?: number;
};

type Metric = GuardrailMetric<GuardrailMetricName, keyof GuardrailArmTotals>;

/** The checks a guardrail makes: each limit it sets that its metric takes, max before maxIncrease. */
function checksOf(g: Guardrail): { metric: Metric; limit: GuardrailLimit; rule: LimitRule; value: number }[] {
  const metric = guardrailMetricNamed(g.metric);
  if (!metric) return [];
  return GUARDRAIL_LIMITS.flatMap((limit) => {
    const value = g[limit];
    const rule = metric.limits[limit];
    return value !== undefined && rule ? [{ metric, limit, rule, value }] : [];
  });
}

/** Number of checks a rollout's guardrails make (the Bonferroni divisor). */
export function guardrailCheckCount(guardrails: readonly Guardrail[]): number {
  return guardrails.reduce((m, g) => m + checksOf(g).length, 0);
}

/** The status rule shared by every check: no decision below minSamples; breach above threshold. */
export function statusOf(bound: number | null, threshold: number, enoughSamples: boolean): GuardrailStatus {
  if (!enoughSamples || bound === null) return 'waiting';
  return bound > threshold ? 'breached' : 'holding';
}

function relativeCheck(
  g: Guardrail,
  metric: Metric,
  rule: LimitRule,
  value: number,
  inputs: GuardrailInputs,
  alpha: number,
): GuardrailCheck {
  const c = metric.proportion(inputs.candidate, value);
  const t = metric.proportion(inputs.control, value);
  const informative = c.n > 0 && t.n > 0;
  const lower = informative ? alwaysValidDifferenceBound(c.x, c.n, t.x, t.n, 'lower', { alpha }) : undefined;
  const upper = informative ? alwaysValidDifferenceBound(c.x, c.n, t.x, t.n, 'upper', { alpha }) : undefined;
  const threshold = rule.threshold(value);
  const bound = lower?.bound ?? null;
  return {
    metric: metric.name,
    limit: 'maxIncrease',
    quantity: rule.quantity,
    threshold,
    bound,
    upperBound: upper?.bound ?? null,
    estimate: lower?.estimate ?? null,
    samples: Math.min(c.n, t.n),
    samplesByArm: { control: t.n, candidate: c.n },
    minSamples: g.minSamples,
    status: statusOf(bound, threshold, c.n >= g.minSamples && t.n >= g.minSamples),
    alpha,
    controlArm: inputs.controlArm,
    ...rule.figures?.(value),
  };
}

function absoluteCheck(
  g: Guardrail,
  metric: Metric,
  rule: LimitRule,
  value: number,
  inputs: GuardrailInputs,
  alpha: number,
): GuardrailCheck {
  const { x, n } = metric.proportion(inputs.candidate, value);
  const threshold = rule.threshold(value);
  const bound = n > 0 ? alwaysValidProportionBound(x, n, 'lower', { alpha }) : null;
  return {
    metric: metric.name,
    limit: 'max',
    quantity: rule.quantity,
    threshold,
    bound,
    upperBound: n > 0 ? alwaysValidProportionBound(x, n, 'upper', { alpha }) : null,
    estimate: n > 0 ? x / n : null,
    samples: n,
    samplesByArm: { control: null, candidate: n },
    minSamples: g.minSamples,
    status: statusOf(bound, threshold, n >= g.minSamples),
    alpha,
    controlArm: inputs.controlArm,
    ...rule.figures?.(value),
  };
}

/** Every check of a rollout's guardrails, in spec order (max before maxIncrease within one). */
export function evaluateGuardrails(guardrails: readonly Guardrail[], inputs: GuardrailInputs, guardrailAlpha: number): GuardrailCheck[] {
  const m = guardrailCheckCount(guardrails);
  if (m === 0) return [];
  const alpha = guardrailAlpha / m;
  const checks: GuardrailCheck[] = [];
  for (const g of guardrails) {
    for (const { metric, limit, rule, value } of checksOf(g)) {
      checks.push(
        limit === 'max' ? absoluteCheck(g, metric, rule, value, inputs, alpha) : relativeCheck(g, metric, rule, value, inputs, alpha),
      );
    }
  }
  return checks;
}

/** Reviewed runs per arm: the samples auto-advance's minSamples counts. */
export function guardrailSamples(inputs: GuardrailInputs): { control: number; candidate: number } {
  return { control: inputs.control.reviewed, candidate: inputs.candidate.reviewed };
}

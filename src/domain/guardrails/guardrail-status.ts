/**
 * Guardrail decisions (pure): the one place that says whether a rollout's guardrail is waiting,
 * holding or breached. The comparison endpoint shows it; the guardrail job acts on it
 * (src/runtime/guardrail-job.ts: `evaluate` returns `evaluateGuardrails`'s checks and
 * `guardrailSamples`).
 *
 * The contract's rules (API.md, "Guardrails"):
 * - override_rate `maxIncrease`: breached when the one-sided always-valid LOWER bound of
 *   (candidate − control) override rate is above maxIncrease;
 * - error_rate `max`: when the lower bound of the candidate's error rate is above max;
 *   `maxIncrease`: as for override_rate, on errors / runs;
 * - latency_p95_ms `max`: when the lower bound of the share of candidate runs slower than max is
 *   above 5% (p95 above max, with confidence). Reported in share units (threshold 0.05, `maxMs`),
 *   so that bound, upperBound and threshold compare directly for every metric;
 * - `minSamples` counts the metric's denominator (reviewed runs for override_rate, finished runs
 *   otherwise): in each arm for a relative limit, in the candidate alone for an absolute one.
 *   Below it the check is `waiting`, whatever the bound says;
 * - `guardrailAlpha` is shared by all checks of the rollout (Bonferroni: alpha / number of checks,
 *   a guardrail with both max and maxIncrease being two checks), and the bounds are always-valid
 *   confidence sequences, so it holds over the whole rollout however often this runs;
 * - per-run bounds even when whole tenants were assigned (errs toward protecting customers).
 * `upperBound` (the matching one-sided upper bound) is what auto-advance needs: every check's
 * upper bound below its threshold is positive evidence that the candidate is within its limits.
 */
import type { Guardrail } from '../model/rollout-spec.js';
import {
  alwaysValidDifferenceBound,
  alwaysValidProportionBound,
  histogramCountAbove,
} from '../stats/index.js';
import type { ControlArm } from '../comparison/verdict.js';

export type GuardrailStatus = 'waiting' | 'holding' | 'breached';

/** What the guardrails need of one arm, over the rollout's life. */
export interface GuardrailArmTotals {
  runs: number;
  errors: number;
  reviewed: number;
  overridden: number;
  /** Dense counts over the stats module's latency buckets. */
  latencyHist: readonly number[];
}

export interface GuardrailInputs {
  /** 'baseline': the control is observational (100% stages); guardrails still act on it. */
  controlArm: ControlArm;
  control: GuardrailArmTotals;
  candidate: GuardrailArmTotals;
}

/** A latency guardrail breaches when more than this share of candidate runs is slower than max. */
export const LATENCY_SLOW_SHARE_LIMIT = 0.05;

/** A type alias (not an interface) so that it fits the guardrail job's open `GuardrailFinding`. */
export type GuardrailCheck = {
  metric: Guardrail['metric'];
  limit: 'max' | 'maxIncrease';
  /** What bound and threshold measure. */
  quantity: 'rate_difference' | 'rate' | 'share_slower_than_max';
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

/** Number of checks a rollout's guardrails make (the Bonferroni divisor). */
export function guardrailCheckCount(guardrails: readonly Guardrail[]): number {
  let m = 0;
  for (const g of guardrails) m += (g.max !== undefined ? 1 : 0) + (g.maxIncrease !== undefined ? 1 : 0);
  return m;
}

/** The status rule shared by every check: no decision below minSamples; breach above threshold. */
export function statusOf(bound: number | null, threshold: number, enoughSamples: boolean): GuardrailStatus {
  if (!enoughSamples || bound === null) return 'waiting';
  return bound > threshold ? 'breached' : 'holding';
}

function rateCounts(metric: Guardrail['metric'], arm: GuardrailArmTotals): { x: number; n: number } {
  return metric === 'override_rate' ? { x: arm.overridden, n: arm.reviewed } : { x: arm.errors, n: arm.runs };
}

function relativeCheck(g: Guardrail, inputs: GuardrailInputs, alpha: number): GuardrailCheck {
  const c = rateCounts(g.metric, inputs.candidate);
  const t = rateCounts(g.metric, inputs.control);
  const informative = c.n > 0 && t.n > 0;
  const lower = informative ? alwaysValidDifferenceBound(c.x, c.n, t.x, t.n, 'lower', { alpha }) : undefined;
  const upper = informative ? alwaysValidDifferenceBound(c.x, c.n, t.x, t.n, 'upper', { alpha }) : undefined;
  const threshold = g.maxIncrease!;
  const bound = lower?.bound ?? null;
  return {
    metric: g.metric,
    limit: 'maxIncrease',
    quantity: 'rate_difference',
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
  };
}

function absoluteCheck(g: Guardrail, inputs: GuardrailInputs, alpha: number): GuardrailCheck {
  let x: number;
  let n: number;
  let threshold: number;
  if (g.metric === 'latency_p95_ms') {
    const hist = inputs.candidate.latencyHist;
    n = hist.reduce((a, b) => a + b, 0);
    // atMost: the bucket straddling max counts as slow, erring toward protecting customers.
    x = histogramCountAbove(hist, g.max!).atMost;
    threshold = LATENCY_SLOW_SHARE_LIMIT;
  } else {
    ({ x, n } = rateCounts(g.metric, inputs.candidate));
    threshold = g.max!;
  }
  const bound = n > 0 ? alwaysValidProportionBound(x, n, 'lower', { alpha }) : null;
  return {
    metric: g.metric,
    limit: 'max',
    quantity: g.metric === 'latency_p95_ms' ? 'share_slower_than_max' : 'rate',
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
    ...(g.metric === 'latency_p95_ms' ? { maxMs: g.max! } : {}),
  };
}

/** Every check of a rollout's guardrails, in spec order (max before maxIncrease within one). */
export function evaluateGuardrails(guardrails: readonly Guardrail[], inputs: GuardrailInputs, guardrailAlpha: number): GuardrailCheck[] {
  const m = guardrailCheckCount(guardrails);
  if (m === 0) return [];
  const alpha = guardrailAlpha / m;
  const checks: GuardrailCheck[] = [];
  for (const g of guardrails) {
    if (g.max !== undefined) checks.push(absoluteCheck(g, inputs, alpha));
    if (g.maxIncrease !== undefined) checks.push(relativeCheck(g, inputs, alpha));
  }
  return checks;
}

/** Reviewed runs per arm: the samples auto-advance's minSamples counts. */
export function guardrailSamples(inputs: GuardrailInputs): { control: number; candidate: number } {
  return { control: inputs.control.reviewed, candidate: inputs.candidate.reviewed };
}

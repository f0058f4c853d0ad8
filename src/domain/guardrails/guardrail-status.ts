/**
 * Guardrail decisions (pure): the one place that says whether a rollout's guardrail is waiting,
 * holding, breached or unevaluable. The comparison endpoint shows it; the guardrail job acts on it
 * (src/runtime/guardrail-job.ts: `evaluate` returns `evaluateGuardrails`'s checks and
 * `guardrailSamples`).
 *
 * Every metric's rules (what it reads, the limits it takes, the quantity each limit's bound is
 * about, the threshold) are in its definition (guardrail-metrics.ts); the rules shared by all are
 * here (README, "Guardrails and automatic rollback"):
 * - What a check reads: strata, never pooled arms. A stratum is a started stage with a randomized
 *   control (a split strictly below 100%), or, when no such stage exists, the all-candidate stages
 *   against their baseline (one stratum, controlArm 'baseline'). Pooling stages whose base rates
 *   differ makes an identical candidate look worse (or hides a real regression): issue 15.
 * - `maxIncrease` on a rate: breached when the finite-sample, time-uniform lower bound of the
 *   WORST stratum's (candidate − control) is above the threshold (stratified-sequence.ts);
 *   `max` on a rate: when the finite-sample lower bound of the candidate's rate over the strata
 *   is above it (rate-sequence.ts); latency `maxIncrease`: the quantile sequence of the p95
 *   difference in ms (quantile-sequence.ts), worst stratum, strata at α/plannedStrata each.
 * - Whole tenants assigned (`tenants` given): override-rate `maxIncrease` is tenant-level
 *   (tenant-level.ts: a tenant is one cluster across stages, CR2, CUPED with `preRollout`); with
 *   fewer than MIN_GUARDRAIL_TENANTS_PER_ARM tenants in an arm every relative check waits.
 * - `minSamples` counts the metric's trials in the strata read: in each arm for a relative limit,
 *   in the candidate alone for an absolute one. Below it the check is `waiting`. A relative check
 *   whose candidate has minSamples but whose control has no data at all is `unevaluable` (it would
 *   otherwise wait forever, silently).
 * - Several checks share `guardrailAlpha` by Holm's procedure over their always-valid p-values
 *   (holm.ts); a check's `alpha` is the level Holm tested it at, and its bounds are at that level.
 *   Always-valid p-values keep Holm's guarantee however often this runs.
 * `upperBound` (the matching one-sided upper bound) is what auto-advance needs: every check's
 * upper bound below its threshold is positive evidence that the candidate is within its limits.
 */
import type { Guardrail } from '../model/rollout-spec.js';
import {
  DEFAULT_DIFFERENCE_TUNING,
  DEFAULT_QUANTILE_TUNING,
  DEFAULT_TENANT_TUNING,
  differenceSequenceName,
  histogramQuantile,
  histogramQuantileBound,
  holm,
  quantileSequenceName,
  rateBound,
  ratePValue,
  rateSequenceName,
  stratifiedBound,
  stratifiedPValue,
  stratifiedRejects,
  tenantLevelBound,
  tenantLevelEstimate,
  tenantLevelMethodName,
  tenantLevelPValue,
  type BinomialCount,
  type SequenceStratum,
  type StratifiedDesign,
  type TenantStratum,
} from '../stats/index.js';
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
export type { TenantStratum } from '../stats/index.js';

export type GuardrailStatus = 'waiting' | 'holding' | 'breached' | 'unevaluable';

/** Tenants per arm below which relative guardrails wait on a tenant split (warning too_few_tenants). */
export const MIN_GUARDRAIL_TENANTS_PER_ARM = 20;

/** One stratum the guardrails read: a started stage with a randomized control (or the baseline stratum). */
export interface GuardrailStratum {
  stage: number;
  /** The stage's designed candidate share, percent / 100 (the sequences are tuned for it in advance). */
  share: number;
  control: GuardrailArmTotals;
  candidate: GuardrailArmTotals;
}

export interface GuardrailInputs {
  /** 'baseline': the control is observational (100% stages); guardrails still act on it. */
  controlArm: ControlArm;
  strata: GuardrailStratum[];
  /** Randomized stages in the rollout's spec (fixed in advance: the stratified sequences' factor count). */
  plannedStrata: number;
  /** splitBy tenant: per-stage tenant counts (x overridden, n reviewed) for the override rate. */
  tenants?: TenantStratum[];
  /** Each tenant's override counts before the rollout (CUPED for the tenant-level checks). */
  preRollout?: ReadonlyMap<string, BinomialCount>;
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
  /** The point estimate of the quantity (for a relative limit: the worst stratum's difference). */
  estimate: number | null;
  /** The denominator that minSamples counts: the smaller arm's for a relative limit. */
  samples: number;
  samplesByArm: { control: number | null; candidate: number };
  minSamples: number;
  status: GuardrailStatus;
  /** The level Holm tested this check at (a share of guardrailAlpha). */
  alpha: number;
  controlArm: ControlArm;
  /** The confidence sequence the bounds come from, with its tuning. */
  method: string;
  /** latency_p95_ms max only: the configured limit in milliseconds. */
  maxMs?: number;
  /** Tenant splits: distinct tenants with data per arm (relative checks wait under MIN_GUARDRAIL_TENANTS_PER_ARM). */
  tenants?: { control: number; candidate: number };
};

type Metric = GuardrailMetric<GuardrailMetricName, keyof GuardrailArmTotals>;
interface Spec {
  g: Guardrail;
  metric: Metric;
  limit: GuardrailLimit;
  rule: LimitRule;
  value: number;
}

/** The checks a guardrail makes: each limit it sets that its metric takes, max before maxIncrease. */
function checksOf(g: Guardrail): Spec[] {
  const metric = guardrailMetricNamed(g.metric);
  if (!metric) return [];
  return GUARDRAIL_LIMITS.flatMap((limit) => {
    const value = g[limit];
    const rule = metric.limits[limit];
    return value !== undefined && rule ? [{ g, metric, limit, rule, value }] : [];
  });
}

/** Number of checks a rollout's guardrails make (Holm's family). */
export function guardrailCheckCount(guardrails: readonly Guardrail[]): number {
  return guardrails.reduce((m, g) => m + checksOf(g).length, 0);
}

/**
 * A check evaluated up to its p-value: Holm needs every check's p-value before any level is
 * known, and the bounds are computed at the level Holm gives (`bounds`).
 */
interface Pending {
  /**
   * Always-valid p-value of "within the limit" when it is at most `screen`; above it, any value
   * above `screen` (1). Holm rejects nothing above α and ranks such checks last whatever their
   * value, so only a possible rejection pays for the exact p-value (the finite-sample sequences
   * cost a fraction of a millisecond each, the guardrail job and the planner run them per look).
   */
  pValue(screen: number): number;
  /** Whether the check may breach at all (enough samples, data in each arm it needs). */
  decides: boolean;
  bounds(level: number): { bound: number | null; upperBound: number | null };
  base: Omit<GuardrailCheck, 'bound' | 'upperBound' | 'status' | 'alpha'> & { status: GuardrailStatus };
}

const sumArm = (strata: readonly GuardrailStratum[], arm: 'control' | 'candidate', f: (a: GuardrailArmTotals) => BinomialCount) =>
  strata.reduce(
    (acc, s) => {
      const p = f(s[arm]);
      return { x: acc.x + p.x, n: acc.n + p.n };
    },
    { x: 0, n: 0 },
  );

const finiteOrNull = (v: number) => (Number.isFinite(v) ? v : null);

function common(spec: Spec, inputs: GuardrailInputs) {
  return {
    metric: spec.metric.name,
    limit: spec.limit,
    quantity: spec.rule.quantity,
    threshold: spec.rule.threshold(spec.value),
    minSamples: spec.g.minSamples,
    controlArm: inputs.controlArm,
    ...spec.rule.figures?.(spec.value),
  };
}

/** Status before Holm: waiting below minSamples, unevaluable without any control data. */
function relativeStatus(spec: Spec, c: number, t: number): GuardrailStatus {
  if (c >= spec.g.minSamples && t === 0) return 'unevaluable';
  return c >= spec.g.minSamples && t >= spec.g.minSamples ? 'holding' : 'waiting';
}

function absoluteCheck(spec: Spec, inputs: GuardrailInputs): Pending {
  const { x, n } = sumArm(inputs.strata, 'candidate', (a) => spec.metric.proportion(a, spec.value));
  const threshold = spec.rule.threshold(spec.value);
  const design = { center: threshold, tuning: DEFAULT_DIFFERENCE_TUNING };
  const decides = n > 0 && n >= spec.g.minSamples;
  return {
    pValue: () => (n > 0 ? ratePValue(x, n, threshold, 'lower', design) : 1),
    decides,
    bounds: (level) => ({
      bound: n > 0 ? rateBound(x, n, 'lower', level, design) : null,
      upperBound: n > 0 ? rateBound(x, n, 'upper', level, design) : null,
    }),
    base: {
      ...common(spec, inputs),
      estimate: n > 0 ? x / n : null,
      samples: n,
      samplesByArm: { control: null, candidate: n },
      status: decides ? 'holding' : 'waiting',
      method: rateSequenceName(design),
    },
  };
}

function rateRelativeCheck(spec: Spec, inputs: GuardrailInputs): Pending {
  const threshold = spec.rule.threshold(spec.value);
  const strata: SequenceStratum[] = inputs.strata.map((s) => ({
    share: s.share,
    candidate: spec.metric.proportion(s.candidate, spec.value),
    control: spec.metric.proportion(s.control, spec.value),
  }));
  const c = strata.reduce((n, s) => n + s.candidate.n, 0);
  const t = strata.reduce((n, s) => n + s.control.n, 0);
  const active = strata.filter((s) => s.candidate.n > 0 && s.control.n > 0);
  const design: StratifiedDesign = { tuning: DEFAULT_DIFFERENCE_TUNING, center: threshold, plannedStrata: inputs.plannedStrata };
  const status = relativeStatus(spec, c, t);
  const decides = status === 'holding' && active.length > 0;
  // The label names the sequence of the first stratum's share; strata have their own shares.
  const share = inputs.strata[0]?.share ?? 0.5;
  return {
    pValue: (screen) =>
      active.length > 0 && stratifiedRejects(strata, threshold, 'lower', screen, design)
        ? stratifiedPValue(strata, threshold, 'lower', design)
        : 1,
    decides,
    bounds: (level) =>
      active.length > 0
        ? { bound: stratifiedBound(strata, 'lower', level, design, threshold), upperBound: stratifiedBound(strata, 'upper', level, design) }
        : { bound: null, upperBound: null },
    base: {
      ...common(spec, inputs),
      estimate: active.length > 0 ? Math.max(...active.map((s) => s.candidate.x / s.candidate.n - s.control.x / s.control.n)) : null,
      samples: Math.min(c, t),
      samplesByArm: { control: t, candidate: c },
      status,
      method: `stratified-worst-stage(${inputs.plannedStrata} planned):${differenceSequenceName({ share, tuning: DEFAULT_DIFFERENCE_TUNING, center: threshold })}`,
    },
  };
}

function distinctTenants(strata: readonly TenantStratum[]): { control: number; candidate: number } {
  const of = (arm: 'control' | 'candidate') => new Set(strata.flatMap((s) => s[arm].filter((t) => t.n > 0).map((t) => t.tenant))).size;
  return { control: of('control'), candidate: of('candidate') };
}

const tooFew = (t: { control: number; candidate: number }) =>
  t.control < MIN_GUARDRAIL_TENANTS_PER_ARM || t.candidate < MIN_GUARDRAIL_TENANTS_PER_ARM;

/**
 * Override-rate maxIncrease on a tenant split: the tenant-level estimate (one cluster per tenant
 * across stages). Its p-value's mixture is tuned at `tuningAlpha` (guardrailAlpha / checks, fixed
 * in advance), its bounds at Holm's level.
 */
function tenantRelativeCheck(spec: Spec, inputs: GuardrailInputs, tenants: TenantStratum[], tuningAlpha: number): Pending {
  const threshold = spec.rule.threshold(spec.value);
  const options = inputs.preRollout && inputs.preRollout.size > 0 ? { preRollout: inputs.preRollout } : undefined;
  const e = tenantLevelEstimate(tenants, options);
  const sum = (arm: 'control' | 'candidate') => tenants.reduce((n, s) => n + s[arm].reduce((m, t) => m + t.n, 0), 0);
  const c = sum('candidate');
  const t = sum('control');
  const counts = distinctTenants(tenants);
  let status = relativeStatus(spec, c, t);
  if (status === 'holding' && tooFew(counts)) status = 'waiting';
  const decides = status === 'holding' && e.usable;
  return {
    pValue: () => (decides ? tenantLevelPValue(e, threshold, 1, 'lower', tuningAlpha, DEFAULT_TENANT_TUNING) : 1),
    decides,
    bounds: (level) => ({
      bound: e.usable ? tenantLevelBound(e, 'lower', level, DEFAULT_TENANT_TUNING) : null,
      upperBound: e.usable ? tenantLevelBound(e, 'upper', level, DEFAULT_TENANT_TUNING) : null,
    }),
    base: {
      ...common(spec, inputs),
      estimate: e.usable ? e.estimate : null,
      samples: Math.min(c, t),
      samplesByArm: { control: t, candidate: c },
      status,
      method: tenantLevelMethodName(options),
      tenants: counts,
    },
  };
}

/**
 * Latency maxIncrease: per stratum the quantile sequences' bounds of Q_c − Q_t (ms) at
 * level/plannedStrata; the worst stratum's bounds (all strata covered at once by the union bound).
 */
function quantileRelativeCheck(spec: Spec, inputs: GuardrailInputs): Pending {
  const q = spec.metric.quantile ?? 0.95;
  const threshold = spec.rule.threshold(spec.value);
  const k = Math.max(inputs.plannedStrata, inputs.strata.length, 1);
  const hist = (a: GuardrailArmTotals) => a.latencyHist;
  const total = (h: readonly number[]) => h.reduce((s, b) => s + b, 0);
  const c = inputs.strata.reduce((n, s) => n + total(hist(s.candidate)), 0);
  const t = inputs.strata.reduce((n, s) => n + total(hist(s.control)), 0);
  const active = inputs.strata.filter((s) => total(hist(s.candidate)) > 0 && total(hist(s.control)) > 0);
  const lowerAt = (s: GuardrailStratum, a: number) =>
    histogramQuantileBound(hist(s.candidate), q, 'lower', a / 2) - histogramQuantileBound(hist(s.control), q, 'upper', a / 2);
  const upperAt = (s: GuardrailStratum, a: number) =>
    histogramQuantileBound(hist(s.candidate), q, 'upper', a / 2) - histogramQuantileBound(hist(s.control), q, 'lower', a / 2);
  const lower = (level: number) => Math.max(...active.map((s) => lowerAt(s, level / k)));
  const upper = (level: number) => Math.max(...active.map((s) => upperAt(s, level / k)));
  const status = relativeStatus(spec, c, t);
  const decides = status === 'holding' && active.length > 0;
  return {
    pValue: () => (decides ? smallestLevelAbove((a) => lower(a) > threshold) : 1),
    decides,
    bounds: (level) =>
      active.length > 0 ? { bound: finiteOrNull(lower(level)), upperBound: finiteOrNull(upper(level)) } : { bound: null, upperBound: null },
    base: {
      ...common(spec, inputs),
      estimate:
        active.length > 0
          ? Math.max(...active.map((s) => (histogramQuantile(hist(s.candidate), q) ?? 0) - (histogramQuantile(hist(s.control), q) ?? 0)))
          : null,
      samples: Math.min(c, t),
      samplesByArm: { control: t, candidate: c },
      status,
      method: `stratified-worst-stage(${k} planned, union bound):${quantileSequenceName(q, DEFAULT_QUANTILE_TUNING)}`,
    },
  };
}

/**
 * The p-value of a sequence known only through "rejects at level a" (monotone in a): the
 * smallest such level, by bisection in log scale (1 when even a = 1/2 does not reject).
 */
function smallestLevelAbove(rejects: (level: number) => boolean): number {
  if (!rejects(0.5)) return 1;
  let lo = Math.log(1e-12);
  let hi = Math.log(0.5);
  if (rejects(Math.exp(lo))) return 1e-12;
  for (let i = 0; i < 30; i++) {
    const mid = 0.5 * (lo + hi);
    if (rejects(Math.exp(mid))) hi = mid;
    else lo = mid;
  }
  return Math.exp(hi);
}

function pendingOf(spec: Spec, inputs: GuardrailInputs, tuningAlpha: number): Pending {
  if (spec.limit === 'max') return absoluteCheck(spec, inputs);
  if (spec.rule.quantity === 'quantile_difference_ms') return withTenantRule(quantileRelativeCheck(spec, inputs), inputs);
  if (inputs.tenants && spec.metric.name === 'override_rate') return tenantRelativeCheck(spec, inputs, inputs.tenants, tuningAlpha);
  return withTenantRule(rateRelativeCheck(spec, inputs), inputs);
}

/** On a tenant split, every relative check waits with too few tenants per arm (per-run bounds are not calibrated there). */
function withTenantRule(p: Pending, inputs: GuardrailInputs): Pending {
  if (!inputs.tenants) return p;
  const counts = distinctTenants(inputs.tenants);
  if (!tooFew(counts) || p.base.status !== 'holding') return { ...p, base: { ...p.base, tenants: counts } };
  return { ...p, pValue: () => 1, decides: false, base: { ...p.base, status: 'waiting', tenants: counts } };
}

export interface EvaluateOptions {
  /**
   * false: leave bound and upperBound null (each is a bisection over the sequence, ~20× the cost
   * of the decision). The statuses are the same: they come from Holm on the p-values alone.
   * For simulations of many looks (calibration, the planner); default true.
   */
  bounds?: boolean;
}

/** Every check of a rollout's guardrails, in spec order (max before maxIncrease within one). */
export function evaluateGuardrails(
  guardrails: readonly Guardrail[],
  inputs: GuardrailInputs,
  alpha: number,
  options: EvaluateOptions = {},
): GuardrailCheck[] {
  const specs = guardrails.flatMap(checksOf);
  if (specs.length === 0) return [];
  const pending = specs.map((s) => pendingOf(s, inputs, alpha / specs.length));
  const { rejected, levels } = holm(
    pending.map((p) => (p.decides ? p.pValue(alpha) : 1)),
    alpha,
  );
  return pending.map((p, i): GuardrailCheck => {
    const level = levels[i] as number;
    const { bound, upperBound } = options.bounds === false ? { bound: null, upperBound: null } : p.bounds(level);
    // 'holding' needs a decision: enough samples AND data the bound can use in each arm it needs.
    const status: GuardrailStatus =
      p.base.status !== 'holding' ? p.base.status : !p.decides ? 'waiting' : rejected[i] ? 'breached' : 'holding';
    return { ...p.base, bound, upperBound, status, alpha: level };
  });
}

/** Reviewed runs per arm over the strata read: the samples auto-advance's minSamples counts. */
export function guardrailSamples(inputs: GuardrailInputs): { control: number; candidate: number } {
  const sum = (arm: 'control' | 'candidate') => inputs.strata.reduce((n, s) => n + s[arm].reviewed, 0);
  return { control: sum('control'), candidate: sum('candidate') };
}

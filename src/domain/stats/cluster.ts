/**
 * Cluster-level (tenant-level) analysis of ratio metrics, for rollouts that assign whole tenants.
 *
 * Runs of one tenant are correlated, so the independent unit is the tenant: each tenant i gives
 * a numerator mᵢ (e.g. overridden runs) and a denominator dᵢ (e.g. reviewed runs), and the arm's
 * rate is the ratio of sums R = Σm / Σd. Its variance is the delta-method variance of a ratio of
 * means over n tenants, as GrowthBook (gbstats `RatioStatistic`, `variance_of_ratios`) and Eppo
 * compute it for ratio metrics (Deng, Knoblich & Lu 2018, "Applying the delta method in metric
 * analytics", KDD):
 *   Var(R) ≈ (1/n) · ( s²_m/μ_d² − 2 μ_m s_md/μ_d³ + μ_m² s²_d/μ_d⁴ ),
 * with sample means μ, sample (co)variances s (divisor n − 1, as gbstats). Cluster sizes enter
 * through s²_d and s_md, which is what widens the interval relative to a per-run analysis when
 * tenants differ.
 *
 * Tuning. The confidence sequence's "time" here is the number of tenants, the i.i.d. unit, not the
 * number of runs; GrowthBook's N* = 5000 counts users, and no rollout has 5000 tenants, so with it
 * the sequence would stay near its widest forever (multiplier ≈ 9 at 50 tenants). The default
 * here is N* = 100 tenants (multiplier ≈ 3.1 at 50 tenants); `tuning` overrides it.
 */
import { compareProportions } from './compare.js';
import { normalSf, twoSidedCriticalValue } from './normal.js';
import { alwaysValidNormal, DEFAULT_SEQUENTIAL_TUNING, sequentialMethodName } from './sequential.js';
import type { DifferenceResult, Interval, SequentialOptions } from './types.js';

/** Default sequential tuning parameter N* for tenant-level sequences, in tenants (see above). */
export const DEFAULT_CLUSTER_SEQUENTIAL_TUNING = 100;

/** One cluster (tenant): numerator and denominator totals. */
export interface RatioUnit {
  readonly num: number;
  readonly den: number;
}

/**
 * Sufficient statistics of an arm's clusters; a read model can produce them with one SQL
 * aggregate (count, sum(num), sum(den), sum(num²), sum(den²), sum(num·den)) over per-tenant rows.
 */
export interface RatioMoments {
  readonly n: number;
  readonly sumNum: number;
  readonly sumDen: number;
  readonly sumNum2: number;
  readonly sumDen2: number;
  readonly sumNumDen: number;
}

/** The ratio of sums and its delta-method variance; `variance` is NaN when not estimable. */
export interface RatioEstimate {
  readonly ratio: number;
  readonly variance: number;
  readonly standardError: number;
  /** Number of clusters. */
  readonly n: number;
}

/** Sums the sufficient statistics of a list of clusters. */
export function ratioMoments(units: readonly RatioUnit[]): RatioMoments {
  let sumNum = 0;
  let sumDen = 0;
  let sumNum2 = 0;
  let sumDen2 = 0;
  let sumNumDen = 0;
  for (const { num, den } of units) {
    if (!Number.isFinite(num) || !Number.isFinite(den) || den < 0) throw new RangeError(`invalid cluster: num=${num}, den=${den}`);
    sumNum += num;
    sumDen += den;
    sumNum2 += num * num;
    sumDen2 += den * den;
    sumNumDen += num * den;
  }
  return { n: units.length, sumNum, sumDen, sumNum2, sumDen2, sumNumDen };
}

function toMoments(arm: RatioMoments | readonly RatioUnit[]): RatioMoments {
  return Array.isArray(arm) ? ratioMoments(arm as readonly RatioUnit[]) : (arm as RatioMoments);
}

/**
 * Ratio of sums Σm/Σd of an arm and its delta-method variance (see the file comment).
 * Σd = 0 → ratio 0 with NaN variance; fewer than 2 clusters → NaN variance (no spread to see).
 */
export function ratioOfSums(arm: RatioMoments | readonly RatioUnit[]): RatioEstimate {
  const m = toMoments(arm);
  const { n } = m;
  if (!(m.sumDen > 0)) return { ratio: 0, variance: Number.NaN, standardError: Number.NaN, n };
  const ratio = m.sumNum / m.sumDen;
  if (n < 2) return { ratio, variance: Number.NaN, standardError: Number.NaN, n };
  const muNum = m.sumNum / n;
  const muDen = m.sumDen / n;
  const varNum = (m.sumNum2 - (m.sumNum * m.sumNum) / n) / (n - 1);
  const varDen = (m.sumDen2 - (m.sumDen * m.sumDen) / n) / (n - 1);
  const cov = (m.sumNumDen - (m.sumNum * m.sumDen) / n) / (n - 1);
  const raw = (varNum / muDen ** 2 - (2 * muNum * cov) / muDen ** 3 + (muNum ** 2 * varDen) / muDen ** 4) / n;
  // The quadratic form is ≥ 0 in exact arithmetic (it is the variance of m − R·d); clip rounding.
  const variance = Math.max(0, raw);
  return { ratio, variance, standardError: Math.sqrt(variance), n };
}

export interface CompareRatiosOptions extends SequentialOptions {
  readonly confidence?: number;
  /**
   * N* in runs for the per-run fallback below (default 5000, as for per-run comparisons);
   * `tuning` itself counts tenants (default DEFAULT_CLUSTER_SEQUENTIAL_TUNING).
   */
  readonly runTuning?: number;
  /**
   * Range the difference can take, used to clip intervals and as the answer when nothing can be
   * estimated. Default [−1, 1]: our ratio metrics (override rate, error rate) are proportions.
   */
  readonly range?: Interval;
}

export interface RatioComparison extends DifferenceResult {
  readonly standardError: number;
  readonly candidate: RatioEstimate;
  readonly control: RatioEstimate;
}

function clip([lo, hi]: Interval, [min, max]: Interval): Interval {
  return [Math.max(min, Math.min(max, lo)), Math.min(max, Math.max(min, hi))];
}

/**
 * Below this the tenant-level standard error is rounding noise of an exact 0: every tenant has
 * the same rate (mᵢ = R·dᵢ for all i is what a zero delta-method variance means).
 */
const ZERO_SPREAD_SE = 1e-9;

/**
 * With zero spread every tenant has rate R, so 0 ≤ Σm ≤ Σd means each tenant is a count of events
 * out of trials and the summed counts can be analysed per run.
 */
function isProportion(m: RatioMoments): boolean {
  return m.sumNum >= 0 && m.sumNum <= m.sumDen;
}

/**
 * Difference of ratios between arms, candidate − control, with tenants as the unit:
 * `ci` and `pValue` from the Wald z on Var_c + Var_t; `alwaysValidCI` / `alwaysValidPValue` from
 * the normal-mixture confidence sequence with n = number of tenants in both arms.
 *
 * Edge cases, chosen to never overstate certainty:
 * - an arm with < 2 tenants or no denominator: nothing estimable → interval = `range`, p = 1;
 * - zero spread (every tenant has the same rate, typically all 0): the delta-method variance is 0,
 *   which would claim certainty; when the clusters are event counts we fall back to the per-run
 *   score analysis of the summed counts (method says so), otherwise the interval is `range`, p = 1.
 */
export function compareRatios(
  candidate: RatioMoments | readonly RatioUnit[],
  control: RatioMoments | readonly RatioUnit[],
  options?: CompareRatiosOptions,
): RatioComparison {
  const tuning = options?.tuning ?? DEFAULT_CLUSTER_SEQUENTIAL_TUNING;
  const range = options?.range ?? ([-1, 1] as const);
  const mc = toMoments(candidate);
  const mt = toMoments(control);
  const c = ratioOfSums(mc);
  const t = ratioOfSums(mt);
  const method = `tenant-cluster-delta-method+wald-z+${sequentialMethodName(tuning)}`;
  const standardError = Math.sqrt(c.variance + t.variance);
  const estimate = mc.sumDen > 0 && mt.sumDen > 0 ? c.ratio - t.ratio : 0;
  const uninformative = {
    estimate,
    ci: range,
    pValue: 1,
    alwaysValidCI: range,
    alwaysValidPValue: 1,
    standardError,
    candidate: c,
    control: t,
  };
  if (Number.isNaN(standardError)) return { ...uninformative, method };
  if (standardError < ZERO_SPREAD_SE) {
    if (isProportion(mc) && isProportion(mt)) {
      const perRun = compareProportions(
        { x: mc.sumNum, n: mc.sumDen },
        { x: mt.sumNum, n: mt.sumDen },
        {
          ...options,
          tuning: options?.runTuning ?? DEFAULT_SEQUENTIAL_TUNING,
        },
      );
      return { ...perRun, method: `zero-tenant-variance-fallback:${perRun.method}`, standardError, candidate: c, control: t };
    }
    return { ...uninformative, method };
  }
  const z = twoSidedCriticalValue(options?.confidence ?? 0.95);
  const av = alwaysValidNormal({ estimate, standardError, n: mc.n + mt.n }, { ...options, tuning });
  return {
    estimate,
    ci: clip([estimate - z * standardError, estimate + z * standardError], range),
    pValue: Math.min(1, 2 * normalSf(Math.abs(estimate) / standardError)),
    alwaysValidCI: clip(av.ci, range),
    alwaysValidPValue: av.pValue,
    method,
    standardError,
    candidate: c,
    control: t,
  };
}

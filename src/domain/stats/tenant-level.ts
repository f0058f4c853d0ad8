/**
 * Tenant-level (cluster) inference for rollouts that assign whole tenants (`splitBy: "tenant"`):
 * the runs of one tenant share its habits and reviewers, so the independent unit is the tenant,
 * and a tenant is ONE cluster whatever stages it appears in.
 *
 * Estimand: per stratum k (a stage with a randomized control) the difference of the arms' rates,
 * each a ratio of sums R = Σx/Σn over the arm's tenants (every run weighs the same, as in the
 * per-run analysis); strata are combined with Mantel–Haenszel-type weights w_k ∝ N_kc·N_kt/N_k.
 *
 * Variance: cluster-robust, from each tenant's influence on the weighted difference, summed
 * across the strata it appears in before squaring (Liang & Zeger 1986), with the CR2 / "HC2"
 * small-sample correction of Bell & McCaffrey (2002): a tenant's residual in an arm is divided by
 * √(1 − h), h = n_i/N its leverage in the arm's weighted mean, which makes the estimator unbiased
 * under equal residual variances (Pustejovsky & Tipton 2018, J. Bus. Econ. Stat. 36:672). Degrees
 * of freedom: Satterthwaite over the (stratum, arm) groups, each with Kish's effective number of
 * tenants minus one, (Σn)²/Σn² − 1, the Bell–McCaffrey df of a weighted mean under a working
 * model where tenants differ more than runs do. Never a zero variance: the variance is at least
 * the per-run (binomial) variance of the same counts at the pooled rate (+½ event), so an arm whose
 * tenants all had no event still carries the uncertainty of its runs.
 *
 * CUPED (Deng, Xu, Kohavi & Walker 2013, WSDM): with each tenant's rate before the rollout, a
 * tenant's events are adjusted by θ·n_i·(pre_i − p̄re), θ the pooled within-arm regression slope of
 * tenants' rates on their pre-rollout rates (weighted by runs). Tenants differ persistently, so
 * this removes most of the between-tenant variance; a tenant without history is left as is.
 *
 * Always-valid bounds: the asymptotic normal-mixture confidence sequence of sequential.ts on the
 * estimate and its cluster-robust standard error, with "time" the effective number of runs
 * (runs / design effect, so heterogeneous tenants slow the sequence down), and its multiplier
 * turned into Student's t at the df above (same tail probability). This is not a finite-sample
 * guarantee — clusters do not give one from counts — and it is calibrated by simulation instead:
 * tests/unit/stats/calibration.test.ts and `npm run calibrate` (20–200 tenants, tenant rate SD up
 * to 0.1) show false rollbacks of an identical candidate at most α.
 */
import { normalQuantile, normalSf } from './normal.js';
import { studentTQuantileUpper, studentTSf } from './beta.js';
import { alwaysValidMultiplier, alwaysValidPValueAt } from './sequential.js';
import type { BinomialCount, BoundSide, Interval } from './types.js';

/** One tenant's counts in one stratum and arm. */
export interface TenantCount {
  readonly tenant: string;
  readonly x: number;
  readonly n: number;
}

export interface TenantStratum {
  readonly candidate: readonly TenantCount[];
  readonly control: readonly TenantCount[];
}

/** A tenant stratum from tenants in either arm: each one's counts, those with reviewed runs only. */
export function tenantStratumOf<T extends { readonly arm: 'candidate' | 'control' }>(
  tenants: readonly T[],
  count: (t: T) => TenantCount,
): TenantStratum {
  const arm = (a: T['arm']) =>
    tenants
      .filter((t) => t.arm === a)
      .map(count)
      .filter((c) => c.n > 0);
  return { candidate: arm('candidate'), control: arm('control') };
}

export interface TenantLevelOptions {
  /** Each tenant's events and trials before the rollout (CUPED); tenants missing are not adjusted. */
  readonly preRollout?: ReadonlyMap<string, BinomialCount>;
  /** Normal-mixture tuning N*, in effective runs (see the file comment); default 500. */
  readonly tuning?: number;
}

/** Default tuning of the tenant-level sequences, in effective runs (chosen by calibration). */
export const DEFAULT_TENANT_TUNING = 500;

/** The estimate and what its bounds need. `usable` false: fewer than two tenants in an arm. */
export interface TenantLevelEstimate {
  readonly estimate: number;
  readonly standardError: number;
  readonly degreesOfFreedom: number;
  /** Runs divided by the design effect: the sequence's "time". */
  readonly effectiveRuns: number;
  /** Distinct tenants with trials, per arm, over the strata. */
  readonly tenants: { readonly candidate: number; readonly control: number };
  readonly cuped: boolean;
  readonly usable: boolean;
}

interface Row {
  readonly tenant: string;
  readonly x: number;
  readonly n: number;
  readonly pre: number | undefined;
}

function rowsOf(arm: readonly TenantCount[], pre: ReadonlyMap<string, BinomialCount> | undefined): Row[] {
  const out: Row[] = [];
  for (const t of arm) {
    if (!(t.n >= 0 && t.x >= 0 && t.x <= t.n) || !Number.isFinite(t.n))
      throw new RangeError(`invalid tenant count ${t.tenant}: x=${t.x}, n=${t.n}`);
    if (t.n === 0) continue;
    const p = pre?.get(t.tenant);
    out.push({ tenant: t.tenant, x: t.x, n: t.n, pre: p && p.n > 0 ? p.x / p.n : undefined });
  }
  return out;
}

/** Pooled within-arm slope of tenant rates on pre-rollout rates (runs as weights); 0 if undefined. */
function cupedSlope(groups: readonly { rows: Row[]; preMean: number }[]): number {
  let sxy = 0;
  let sxx = 0;
  for (const g of groups) {
    let n = 0;
    let xs = 0;
    let ps = 0;
    for (const r of g.rows) {
      const p = r.pre ?? g.preMean;
      n += r.n;
      xs += r.x;
      ps += r.n * p;
    }
    if (n === 0) continue;
    const rate = xs / n;
    const pm = ps / n;
    for (const r of g.rows) {
      const p = r.pre ?? g.preMean;
      sxy += r.n * (r.x / r.n - rate) * (p - pm);
      sxx += r.n * (p - pm) ** 2;
    }
  }
  return sxx > 1e-12 ? sxy / sxx : 0;
}

/** The stratified tenant-level estimate and its cluster-robust (CR2) standard error. */
export function tenantLevelEstimate(strata: readonly TenantStratum[], options?: TenantLevelOptions): TenantLevelEstimate {
  const pre = options?.preRollout;
  type Group = { rows: Row[]; sign: 1 | -1; stratum: number; preMean: number };
  const groups: Group[] = [];
  const tenantsC = new Set<string>();
  const tenantsT = new Set<string>();
  strata.forEach((s, k) => {
    const c = rowsOf(s.candidate, pre);
    const t = rowsOf(s.control, pre);
    // The pre-rollout mean over the stratum's tenants of both arms: label-free, so the
    // adjustment cannot move one arm against the other.
    let pn = 0;
    let ps = 0;
    for (const r of [...c, ...t])
      if (r.pre !== undefined) {
        pn += r.n;
        ps += r.n * r.pre;
      }
    const preMean = pn > 0 ? ps / pn : 0;
    groups.push({ rows: c, sign: 1, stratum: k, preMean }, { rows: t, sign: -1, stratum: k, preMean });
    for (const r of c) tenantsC.add(r.tenant);
    for (const r of t) tenantsT.add(r.tenant);
  });
  const tenants = { candidate: tenantsC.size, control: tenantsT.size };
  const cuped = pre !== undefined && pre.size > 0;
  const theta = cuped ? cupedSlope(groups) : 0;

  // Per stratum: totals, weights, the (adjusted) arm rates.
  const K = strata.length;
  const N = new Float64Array(2 * K);
  const X = new Float64Array(2 * K);
  const Xadj = new Float64Array(2 * K);
  const G2 = new Float64Array(2 * K); // Σ n_i²
  groups.forEach((g, gi) => {
    for (const r of g.rows) {
      const adj = r.x - theta * r.n * ((r.pre ?? g.preMean) - g.preMean);
      N[gi] = (N[gi] as number) + r.n;
      X[gi] = (X[gi] as number) + r.x;
      Xadj[gi] = (Xadj[gi] as number) + adj;
      G2[gi] = (G2[gi] as number) + r.n * r.n;
    }
  });
  let wsum = 0;
  const w = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    const nc = N[2 * k] as number;
    const nt = N[2 * k + 1] as number;
    if (nc > 0 && nt > 0) w[k] = (nc * nt) / (nc + nt);
    wsum += w[k] as number;
  }
  const empty: TenantLevelEstimate = {
    estimate: 0,
    standardError: Number.NaN,
    degreesOfFreedom: 0,
    effectiveRuns: 0,
    tenants,
    cuped,
    usable: false,
  };
  if (!(wsum > 0)) return empty;
  for (let k = 0; k < K; k++) w[k] = (w[k] as number) / wsum;

  let estimate = 0;
  let floor = 0;
  let runs = 0;
  for (let k = 0; k < K; k++) {
    const wk = w[k] as number;
    if (wk === 0) continue;
    const nc = N[2 * k] as number;
    const nt = N[2 * k + 1] as number;
    estimate += wk * ((Xadj[2 * k] as number) / nc - (Xadj[2 * k + 1] as number) / nt);
    const pooled = ((X[2 * k] as number) + (X[2 * k + 1] as number) + 0.5) / (nc + nt + 1);
    floor += wk * wk * pooled * (1 - pooled) * (1 / nc + 1 / nt);
    runs += nc + nt;
  }

  // Influence of each tenant, summed over the strata it appears in (one cluster across stages).
  const influence = new Map<string, number>();
  let satNum = 0;
  let satDen = 0;
  let usable = true;
  groups.forEach((g, gi) => {
    const wk = w[g.stratum] as number;
    if (wk === 0 || g.rows.length === 0) return;
    const total = N[gi] as number;
    const rate = (Xadj[gi] as number) / total;
    const kish = (total * total) / (G2[gi] as number);
    let groupVar = 0;
    for (const r of g.rows) {
      const h = r.n / total;
      if (h >= 1) {
        usable = false;
        return;
      }
      const adj = r.x - theta * r.n * ((r.pre ?? g.preMean) - g.preMean);
      const e = (wk * g.sign * (adj - rate * r.n)) / total / Math.sqrt(1 - h);
      influence.set(r.tenant, (influence.get(r.tenant) ?? 0) + e);
      groupVar += e * e;
    }
    if (!(kish > 1)) {
      usable = false;
      return;
    }
    satNum += groupVar;
    satDen += (groupVar * groupVar) / (kish - 1);
  });
  if (!usable) return { ...empty, estimate };
  let variance = 0;
  for (const u of influence.values()) variance += u * u;
  variance = Math.max(variance, floor);
  const df = satDen > 0 ? (satNum * satNum) / satDen : Math.max(1, tenants.candidate + tenants.control - 2);
  const effectiveRuns = runs * Math.min(1, floor / variance);
  return { estimate, standardError: Math.sqrt(variance), degreesOfFreedom: Math.max(1, df), effectiveRuns, tenants, cuped, usable: true };
}

export function tenantLevelMethodName(options?: TenantLevelOptions): string {
  const cuped = options?.preRollout && options.preRollout.size > 0 ? '+cuped' : '';
  return `tenant-cluster:cr2-satterthwaite-t${cuped}+asymptotic-cs-normal-mixture(N*=${options?.tuning ?? DEFAULT_TENANT_TUNING} effective runs)`;
}

/** The sequence's half-width multiplier in standard errors: the mixture's z turned into t at df. */
export function tenantLevelMultiplier(e: TenantLevelEstimate, sides: 1 | 2, alpha: number, tuning = DEFAULT_TENANT_TUNING): number {
  const z = alwaysValidMultiplier(Math.max(e.effectiveRuns, 1e-9), sides, { alpha, tuning });
  const tail = normalSf(z);
  if (!(tail > 0)) return z;
  return studentTQuantileUpper(tail, e.degreesOfFreedom);
}

/** One-sided always-valid bound at level α (−∞ / +∞ when not usable; callers clip to the range). */
export function tenantLevelBound(e: TenantLevelEstimate, side: BoundSide, alpha: number, tuning?: number): number {
  if (!e.usable) return side === 'lower' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  const k = tenantLevelMultiplier(e, 1, alpha, tuning);
  return side === 'lower' ? e.estimate - k * e.standardError : e.estimate + k * e.standardError;
}

/** Two-sided always-valid interval at level α. */
export function tenantLevelInterval(e: TenantLevelEstimate, alpha: number, tuning?: number): Interval {
  if (!e.usable) return [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY];
  const k = tenantLevelMultiplier(e, 2, alpha, tuning);
  return [e.estimate - k * e.standardError, e.estimate + k * e.standardError];
}

/**
 * Always-valid p-value of H₀(δ): the smallest α at which the bound (one-sided, toward `side`'s
 * alternative) or the interval (two-sided) excludes δ, with the mixture tuned at `alpha`.
 */
export function tenantLevelPValue(
  e: TenantLevelEstimate,
  delta: number,
  sides: 1 | 2,
  side: BoundSide,
  alpha: number,
  tuning = DEFAULT_TENANT_TUNING,
): number {
  if (!e.usable) return 1;
  const t = (e.estimate - delta) / e.standardError;
  const signed = sides === 2 ? Math.abs(t) : side === 'lower' ? t : -t;
  if (!(signed > 0)) return 1;
  const tail = studentTSf(signed, e.degreesOfFreedom);
  const z = tail > 0 ? -normalQuantile(tail) : 40;
  return alwaysValidPValueAt(z, Math.max(e.effectiveRuns, 1e-9), sides, { alpha, tuning });
}

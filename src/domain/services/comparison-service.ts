/**
 * The comparison read path: reads a rollout's aggregates (never its runs) and hands them to the
 * pure assembly. Also the guardrails' cheap per-arm totals and the timeseries.
 *
 * Time windows. Aggregates are hourly, so `from`/`to` are widened to whole hours (from floored,
 * to ceiled; `window` in the answer gives the effective bounds). Without them the all-time totals
 * answer (runs are selected by rollout, not by time).
 */
import { BadRequestError } from '../model/errors.js';
import { isActive, type Rollout, type RolloutEvent } from '../model/rollout.js';
import { assembleComparison, stageKind, type BaselineInput, type Comparison, type StageView } from '../comparison/assemble.js';
import { beforeBaseline, concurrentBaseline, planBaseline } from '../comparison/baseline.js';
import { sumCounts } from '../comparison/counts.js';
import { evaluateGuardrails, guardrailSamples, type GuardrailCheck, type GuardrailInputs } from '../guardrails/guardrail-status.js';
import { stageStarts, stageViews } from '../comparison/stage-starts.js';
import { timeseriesPoints, type TimeseriesBucket, type TimeseriesPoint } from '../comparison/timeseries.js';
import type { Cell, CellFilter, ComparisonReadModel, Counts } from '../comparison/types.js';
import { BASELINE_LOOKBACK_MS } from '../comparison/baseline.js';
import { rateOf } from '../comparison/differences.js';
import type { BinomialCount } from '../stats/index.js';

/** Randomized stages in the rollout's spec: fixed in advance, the stratified sequences' factor count. */
function plannedStrataOf(rollout: Rollout): number {
  return Math.max(1, rollout.spec.stages.filter((s) => stageKind(s.percent) === 'randomized').length);
}

/** Override counts (overridden of reviewed) per tenant, summed over its cells. */
function tenantOverrides(cells: readonly (Counts & { tenantId: string | null })[]): Map<string, BinomialCount> {
  const out = new Map<string, BinomialCount>();
  for (const c of cells) {
    if (c.tenantId === null) continue;
    const { x, n } = rateOf('overrideRate', c);
    const prev = out.get(c.tenantId) ?? { x: 0, n: 0 };
    out.set(c.tenantId, { x: prev.x + x, n: prev.n + n });
  }
  return out;
}

export interface ComparisonFilters {
  from?: Date;
  to?: Date;
  tenant?: string;
  environment?: string;
  stage?: number;
}

export interface ComparisonServiceDeps {
  rollouts: { get(id: string): Promise<Rollout>; events(id: string): Promise<RolloutEvent[]> };
  /** A 400 `unknown_environment` for a name the chain does not have (Catalog.requireEnvironment). */
  requireEnvironment: (chain: string, environment: string, field: string) => void;
  readModel: ComparisonReadModel;
  now: () => Date;
}

export interface Timeseries {
  bucket: TimeseriesBucket;
  from: string | null;
  to: string | null;
  points: TimeseriesPoint[];
}

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
/** Minute points: the last day with data unless from/to say otherwise; at most a week. */
const MINUTE_DEFAULT_SPAN_MS = DAY_MS;
const MINUTE_MAX_SPAN_MS = 7 * DAY_MS;

const floorTo = (d: Date, step: number) => new Date(Math.floor(d.getTime() / step) * step);
const ceilTo = (d: Date, step: number) => new Date(Math.ceil(d.getTime() / step) * step);

export class ComparisonService {
  constructor(private readonly deps: ComparisonServiceDeps) {}

  /** The rollout's life: from creation to its end (rollback or promotion), or now. */
  private span(rollout: Rollout): { from: Date; to: Date } {
    return { from: rollout.createdAt, to: isActive(rollout.status) ? this.deps.now() : rollout.updatedAt };
  }

  private async stages(rollout: Rollout): Promise<StageView[]> {
    const events = await this.deps.rollouts.events(rollout.id);
    return stageViews(rollout.spec, stageStarts(rollout.createdAt, events));
  }

  async compare(rolloutId: string, filters: ComparisonFilters = {}): Promise<Comparison> {
    const rollout = await this.deps.rollouts.get(rolloutId);
    const { spec } = rollout;
    if (filters.stage !== undefined && filters.stage >= spec.stages.length) {
      throw new BadRequestError(`query.stage: the rollout has ${spec.stages.length} stage(s), numbered from 0`, { field: 'query.stage' });
    }
    // A name the chain does not have is a typo (`production` for `prod`): a 400, not zeros that read as "no data yet".
    if (filters.environment !== undefined) this.deps.requireEnvironment(rollout.chainId, filters.environment, 'query.environment');
    const warnings: string[] = [];
    const span = this.span(rollout);
    let window: { from: Date; to: Date } | undefined;
    if (filters.from !== undefined || filters.to !== undefined) {
      const from = floorTo(filters.from ?? rollout.createdAt, HOUR_MS);
      const to = ceilTo(filters.to ?? this.deps.now(), HOUR_MS);
      const moved = (given: Date | undefined, used: Date) => given !== undefined && given.getTime() !== used.getTime();
      if (moved(filters.from, from) || moved(filters.to, to)) warnings.push('window_widened_to_hours');
      window = { from, to: new Date(Math.max(from.getTime(), to.getTime())) };
    }
    const cellFilter: CellFilter = { window, tenant: filters.tenant, environment: filters.environment, stage: filters.stage };
    const [all, cells, assignments, keysInBothArms, guardrails] = await Promise.all([
      this.stages(rollout),
      this.deps.readModel.rolloutCells(rollout.id, cellFilter),
      this.deps.readModel.assignmentCounts(rollout.id),
      this.deps.readModel.keysInBothArms(rollout.id),
      this.guardrails(rollout),
    ]);
    const selected = filters.stage !== undefined ? [all[filters.stage]!] : all.filter((s) => s.startedAt !== null);
    // A baseline only when no selected stage is randomized (the contract's case). A 100% stage
    // beside randomized ones is left out of the difference; `?stage=` shows it against its baseline.
    const started = selected.filter((s) => s.startedAt !== null);
    const baselineMode =
      !started.some((s) => stageKind(s.percent) === 'randomized') && started.some((s) => stageKind(s.percent) === 'all_candidate');
    const baseline = baselineMode
      ? await this.baseline(
          rollout,
          started.filter((s) => stageKind(s.percent) === 'all_candidate'),
          all,
          filters,
          window,
        )
      : undefined;
    // Tenant-level verdicts are adjusted by each tenant's override rate before the rollout, as the guardrails are.
    const perTenant = !baselineMode && started.some((s) => stageKind(s.percent) === 'randomized' && s.splitBy === 'tenant');
    const preRollout = perTenant ? await this.preRolloutOverrides(rollout, cells) : undefined;
    return assembleComparison({
      rolloutId: rollout.id,
      chain: rollout.chainId,
      control: rollout.control,
      candidate: rollout.candidate,
      alpha: spec.alpha,
      ...(preRollout && preRollout.size > 0 ? { preRollout } : {}),
      window: window ? { ...window, granularity: 'hour' } : { ...span, granularity: 'rollout' },
      stages: selected,
      cells,
      baseline,
      assignments,
      keysInBothArms,
      guardrails,
      warnings,
      plannedStrata: filters.stage !== undefined ? 1 : plannedStrataOf(rollout),
    });
  }

  /** The baseline control of the selected 100% stages (see baseline.ts). */
  private async baseline(
    rollout: Rollout,
    stages: StageView[],
    allStages: StageView[],
    filter: { tenant?: string; environment?: string },
    window?: { from: Date; to: Date },
  ): Promise<BaselineInput> {
    const rm = this.deps.readModel;
    const pairs = await rm.candidatePairs(rollout.id);
    const plan = planBaseline({ stages, allStages, pairs, filter, rolloutSpan: this.span(rollout), window });
    const version = rollout.control;
    const beforeRows = plan.before.length > 0 ? await rm.defaultBefore({ chainId: rollout.chainId, version, pairs: plan.before }) : [];
    const before = beforeBaseline(plan, beforeRows);
    if (before) return before;
    if (!plan.concurrent) return concurrentBaseline(plan, [], []);
    const { environments, from, to, excludeTenants } = plan.concurrent;
    const [pooled, excluded] = await Promise.all([
      rm.defaultDuring({ chainId: rollout.chainId, version, environments, from, to }),
      excludeTenants.length > 0
        ? rm.defaultDuring({ chainId: rollout.chainId, version, environments, from, to, tenants: excludeTenants })
        : [],
    ]);
    return concurrentBaseline(plan, pooled, excluded);
  }

  /**
   * What the guardrails need, over the rollout's life: per-stage strata (README, "Guardrails and
   * automatic rollback"). A stratum is a started stage with a randomized control (its all-time
   * cells); when none exists, the all-candidate stages against their baseline form one stratum.
   * The two are never pooled. Whole tenants assigned: the per-tenant override counts of each
   * stratum, and each of those tenants' override counts before the rollout (CUPED; the baseline's
   * read of default traffic in the lookback before the rollout started). Pass the row when you
   * have it (saves a read).
   */
  async guardrailInputs(rolloutOrId: string | Rollout): Promise<GuardrailInputs> {
    const rollout = typeof rolloutOrId === 'string' ? await this.deps.rollouts.get(rolloutOrId) : rolloutOrId;
    const { stages } = rollout.spec;
    const plannedStrata = plannedStrataOf(rollout);
    const started = stages.map((s, i) => ({ ...s, i })).filter((s) => s.i <= rollout.stage);
    const randomized = started.filter((s) => stageKind(s.percent) === 'randomized');
    const cells = await this.deps.readModel.rolloutCells(rollout.id, {});
    if (randomized.length === 0 && started.some((s) => stageKind(s.percent) === 'all_candidate')) {
      const all = await this.stages(rollout);
      const full = all.filter((s) => s.startedAt !== null && stageKind(s.percent) === 'all_candidate');
      const indices = new Set(full.map((s) => s.index));
      const candidate = sumCounts(cells.filter((c) => c.arm === 'candidate' && indices.has(c.stage)));
      const control = sumCounts((await this.baseline(rollout, full, all, {})).overall);
      // An observational control has no designed share; 1/2 tunes the sequence for equal arms.
      return { controlArm: 'baseline', strata: [{ stage: full[0]?.index ?? 0, share: 0.5, control, candidate }], plannedStrata: 1 };
    }
    const strata = randomized.map((s) => {
      const of = (arm: 'control' | 'candidate') => sumCounts(cells.filter((c) => c.arm === arm && c.stage === s.i));
      return { stage: s.i, share: s.percent / 100, control: of('control'), candidate: of('candidate') };
    });
    const inputs: GuardrailInputs = { controlArm: 'randomized', strata, plannedStrata };
    if (!randomized.some((s) => s.splitBy === 'tenant')) return inputs;
    const tenants = randomized.map((s) => {
      const of = (arm: 'control' | 'candidate') =>
        [...tenantOverrides(cells.filter((c) => c.arm === arm && c.stage === s.i))].map(([tenant, o]) => ({ tenant, ...o }));
      return { candidate: of('candidate'), control: of('control') };
    });
    return { ...inputs, tenants, preRollout: await this.preRolloutOverrides(rollout, cells) };
  }

  /**
   * Each tenant's override counts on the control version in the BASELINE_LOOKBACK_MS before the
   * rollout started, in the environments it is served in (one read of the default rollups).
   */
  private async preRolloutOverrides(rollout: Rollout, cells: readonly Cell[]): Promise<Map<string, BinomialCount>> {
    const pairs = new Map<string, { tenantId: string; environment: string; from: Date; to: Date }>();
    const from = new Date(rollout.createdAt.getTime() - BASELINE_LOOKBACK_MS);
    for (const c of cells) {
      if (c.tenantId === null) continue;
      pairs.set(`${c.tenantId}\u0000${c.environment}`, { tenantId: c.tenantId, environment: c.environment, from, to: rollout.createdAt });
    }
    if (pairs.size === 0) return new Map();
    const rows = await this.deps.readModel.defaultBefore({
      chainId: rollout.chainId,
      version: rollout.control,
      pairs: [...pairs.values()],
    });
    const out = tenantOverrides(rows);
    for (const [t, o] of out) if (o.n === 0) out.delete(t);
    return out;
  }

  private async guardrails(rollout: Rollout): Promise<GuardrailCheck[]> {
    const { spec } = rollout;
    if (spec.guardrails.length === 0) return [];
    return evaluateGuardrails(spec.guardrails, await this.guardrailInputs(rollout), spec.guardrailAlpha);
  }

  /**
   * The guardrail job's `evaluate` (src/runtime/guardrail-job.ts): the checks, the samples and the
   * data-quality flags that stop auto-advance (SRM per stage, review-rate imbalance per stratum).
   * The checks' bounds are null unless a breach, an unevaluable check or auto-advance needs them.
   */
  async evaluateGuardrails(rollout: Rollout): Promise<{
    guardrails: GuardrailCheck[];
    samples: { control: number; candidate: number };
    dataQuality: { srm: boolean; reviewRateImbalance: boolean };
  }> {
    const { spec } = rollout;
    const [inputs, dataQuality] = await Promise.all([this.guardrailInputs(rollout), this.dataQuality(rollout)]);
    // This runs on feedback, in the gateway's event loop: decide on the p-values alone (cheap), and
    // compute the bounds (a bisection each, ~20× the cost) only when something reads them: the
    // figures of a breach or an unevaluable check, and auto-advance's upper bounds.
    let guardrails = evaluateGuardrails(spec.guardrails, inputs, spec.guardrailAlpha, { bounds: false });
    const acting = guardrails.some((g) => g.status === 'breached' || g.status === 'unevaluable');
    const mayAdvance = spec.autoAdvance !== undefined && guardrails.length > 0 && guardrails.every((g) => g.status === 'holding');
    if (acting || mayAdvance) guardrails = evaluateGuardrails(spec.guardrails, inputs, spec.guardrailAlpha);
    return { guardrails, samples: guardrailSamples(inputs), dataQuality };
  }

  /** The comparison's data-quality checks over the started stages, as auto-advance needs them. */
  private async dataQuality(rollout: Rollout): Promise<{ srm: boolean; reviewRateImbalance: boolean }> {
    const all = await this.stages(rollout);
    const started = all.filter((s) => s.startedAt !== null && stageKind(s.percent) === 'randomized');
    // Only auto-advance reads them: a rollout without it is spared the reads.
    if (!rollout.spec.autoAdvance || started.length === 0) return { srm: false, reviewRateImbalance: false };
    const [cells, assignments, keysInBothArms] = await Promise.all([
      this.deps.readModel.rolloutCells(rollout.id, {}),
      this.deps.readModel.assignmentCounts(rollout.id),
      this.deps.readModel.keysInBothArms(rollout.id),
    ]);
    const c = assembleComparison({
      rolloutId: rollout.id,
      chain: rollout.chainId,
      control: rollout.control,
      candidate: rollout.candidate,
      alpha: rollout.spec.alpha,
      window: { ...this.span(rollout), granularity: 'rollout' },
      stages: started,
      cells,
      assignments,
      keysInBothArms,
      guardrails: [],
      plannedStrata: plannedStrataOf(rollout),
    });
    return { srm: c.srm.mismatch || c.srm.keysInBothArms > 0, reviewRateImbalance: c.reviewRateImbalance.imbalance };
  }

  async timeseries(rolloutId: string, q: { bucket: TimeseriesBucket; from?: Date; to?: Date }): Promise<Timeseries> {
    const rollout = await this.deps.rollouts.get(rolloutId);
    const rm = this.deps.readModel;
    const step = q.bucket === 'minute' ? MINUTE_MS : q.bucket === 'hour' ? HOUR_MS : DAY_MS;
    let from = q.from ? floorTo(q.from, step) : undefined;
    let to = q.to ? ceilTo(q.to, step) : undefined;
    if (q.bucket === 'minute') {
      if (!to) {
        const latest = q.from ? undefined : await rm.latestSeriesTime(rollout.id, 'minute');
        to = latest
          ? new Date(latest.getTime() + MINUTE_MS)
          : from
            ? new Date(from.getTime() + MINUTE_DEFAULT_SPAN_MS)
            : ceilTo(this.deps.now(), MINUTE_MS);
      }
      from ??= new Date(to.getTime() - MINUTE_DEFAULT_SPAN_MS);
      if (to.getTime() - from.getTime() > MINUTE_MAX_SPAN_MS) {
        throw new BadRequestError('query.from: minute buckets cover at most 7 days; use hour or day buckets for longer spans', {
          field: 'query.from',
        });
      }
    }
    const rows = await rm.series(rollout.id, q.bucket, from, to);
    return { bucket: q.bucket, from: from?.toISOString() ?? null, to: to?.toISOString() ?? null, points: timeseriesPoints(rows, q.bucket) };
  }
}

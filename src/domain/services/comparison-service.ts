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
import { emptyCounts, sumCounts } from '../comparison/counts.js';
import { evaluateGuardrails, guardrailSamples, type GuardrailCheck, type GuardrailInputs } from '../guardrails/guardrail-status.js';
import { stageStarts, stageViews } from '../comparison/stage-starts.js';
import { timeseriesPoints, type TimeseriesBucket, type TimeseriesPoint } from '../comparison/timeseries.js';
import type { CellFilter, ComparisonReadModel } from '../comparison/types.js';

export interface ComparisonFilters {
  from?: Date;
  to?: Date;
  tenant?: string;
  environment?: string;
  stage?: number;
}

export interface ComparisonServiceDeps {
  rollouts: { get(id: string): Promise<Rollout>; events(id: string): Promise<RolloutEvent[]> };
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
    const [all, cells, assignments, guardrails] = await Promise.all([
      this.stages(rollout),
      this.deps.readModel.rolloutCells(rollout.id, cellFilter),
      this.deps.readModel.assignmentCounts(rollout.id),
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
    return assembleComparison({
      rolloutId: rollout.id,
      chain: rollout.chainId,
      control: rollout.control,
      candidate: rollout.candidate,
      alpha: spec.alpha,
      window: window ? { ...window, granularity: 'hour' } : { ...span, granularity: 'rollout' },
      stages: selected,
      cells,
      baseline,
      assignments,
      guardrails,
      warnings,
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
   * What the guardrails need, over the rollout's life: per-arm totals (one two-row read of the
   * series' 'total' rows). When every started stage sends all its traffic to the candidate, the
   * control is the baseline (a few more reads). Pass the row when you have it (saves a read).
   */
  async guardrailInputs(rolloutOrId: string | Rollout): Promise<GuardrailInputs> {
    const rollout = typeof rolloutOrId === 'string' ? await this.deps.rollouts.get(rolloutOrId) : rolloutOrId;
    const started = rollout.spec.stages.map((s, i) => ({ percent: s.percent, i })).filter((s) => s.i <= rollout.stage);
    const baselineMode =
      started.every((s) => stageKind(s.percent) !== 'randomized') && started.some((s) => stageKind(s.percent) === 'all_candidate');
    const totals = await this.deps.readModel.armTotals(rollout.id);
    const candidate = totals.get('candidate') ?? emptyCounts();
    let control = totals.get('control') ?? emptyCounts();
    if (baselineMode) {
      const all = await this.stages(rollout);
      const full = all.filter((s) => s.startedAt !== null && stageKind(s.percent) === 'all_candidate');
      control = sumCounts((await this.baseline(rollout, full, all, {})).overall);
    }
    return { controlArm: baselineMode ? 'baseline' : 'randomized', control, candidate };
  }

  private async guardrails(rollout: Rollout): Promise<GuardrailCheck[]> {
    const { spec } = rollout;
    if (spec.guardrails.length === 0) return [];
    return evaluateGuardrails(spec.guardrails, await this.guardrailInputs(rollout), spec.guardrailAlpha);
  }

  /** The guardrail job's `evaluate` (src/runtime/guardrail-job.ts). */
  async evaluateGuardrails(rollout: Rollout): Promise<{ guardrails: GuardrailCheck[]; samples: { control: number; candidate: number } }> {
    const { spec } = rollout;
    const inputs = await this.guardrailInputs(rollout);
    return { guardrails: evaluateGuardrails(spec.guardrails, inputs, spec.guardrailAlpha), samples: guardrailSamples(inputs) };
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

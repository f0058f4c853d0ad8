/**
 * The counted metrics: the one table from which the read models' rollup columns, their upserts,
 * deltas and erasure, the comparison's `Counts` and the API's count fields all derive (pure; the
 * pattern of GrowthBook's gbstats `MetricSettings` and TensorZero's metric config: declare a metric
 * once, derive everything else).
 *
 * A counted metric declares
 * - `name` and `kind` (how it rolls up: metric-kinds.ts);
 * - how a run contributes (`run`) and how a feedback contributes (`feedback`), each with the facts
 *   it `reads`. A change of feedback contributes (after − before); feedback on an errored run
 *   contributes nothing (an errored run counts in errors and is never reviewed);
 * - how it is erased: by the inverse of what its run and feedback added (deltas.ts,
 *   `erasureDelta`), which is why a contribution may depend on the run and its feedback only;
 * - where it rolls up: every metric in the per-cell rollups (stage, arm, tenant, environment, hour)
 *   and the default-traffic rollups; `inSeries` ones also in the per-arm series (the timeseries and
 *   the guardrails' totals);
 * - `atMost`: the most it can be, a metric above it in the table, less another one (never more
 *   events than trials: errors ≤ runs, reviewed ≤ runs − errors), which `sanitized` enforces on a
 *   damaged row;
 * - `api`: its field name where the API shows it as a plain count (each arm of the comparison,
 *   each timeseries point).
 *
 * Adding a metric: a row here (and a fact in RunFacts if it reads a new one), the migration that
 * drizzle-kit generates for its column, the logic that uses it, and the dashboard.
 */
import type { ContributionOf, MetricKind, ValueOf } from './metric-kinds.js';

/** What a counted metric may read of a run (the store extracts them: src/store/read-models/run-facts.ts). */
export interface RunFacts {
  /** The run has an error; a fallback (candidate failed, control answered) is one. */
  errored: boolean;
  /** A candidate call that failed and was answered by the control (fallbackToControl). */
  fallback: boolean;
  /** Its latency's bucket among the stats module's log-spaced buckets, as stored. */
  latencyBucket: number;
  /** Token usage the upstream reported; null when it reported none. */
  promptTokens: number | null;
  completionTokens: number | null;
}

/** What a counted metric may read of the feedback on a run. */
export interface FeedbackFacts {
  overridden: boolean;
  /** Top-level output fields the human changed. */
  fields: readonly string[];
}

/** How a run or a feedback contributes to one metric, and which of its facts that reads. */
export interface Contributor<Facts, K extends MetricKind> {
  reads: readonly (keyof Facts)[];
  adds(facts: Facts): ContributionOf<K>;
}

/**
 * Its bound: the value of metric `of` (less metric `minus`), both above it in the table. Names,
 * not a function of `Counts`: Counts is derived from this table (a unit test checks the names).
 */
export interface Bound {
  of: string;
  minus?: string;
}

/** Where the API shows a metric as a plain count, and under which field name. */
export interface ApiExposure {
  field: string;
  /** In each arm of the comparison (and of its breakdowns). */
  arm: boolean;
  /** In each timeseries point. */
  timeseries: boolean;
}

export interface CountedMetric<
  N extends string = string,
  K extends MetricKind = MetricKind,
  S extends boolean = boolean,
  A extends ApiExposure | undefined = ApiExposure | undefined,
> {
  name: N;
  kind: K;
  /** What it counts (the OpenAPI document's description of its field). */
  description: string;
  /** Also rolled up per arm over time (rollout_series: the timeseries and the guardrails' totals). */
  inSeries: S;
  run?: Contributor<RunFacts, K>;
  feedback?: Contributor<FeedbackFacts, K>;
  atMost?: Bound;
  api: A;
}

/**
 * A table row, typed: `reads` limits what `adds` may see (so erasure, which selects only the facts
 * its metrics read, gives them all they need), and the literal name, kind and API field flow into
 * the derived types below.
 */
function counted<
  const N extends string,
  const K extends MetricKind,
  const S extends boolean,
  R extends keyof RunFacts = never,
  F extends keyof FeedbackFacts = never,
  const A extends ApiExposure | undefined = undefined,
>(m: {
  name: N;
  kind: K;
  description: string;
  inSeries: S;
  run?: { reads: readonly R[]; adds(run: Pick<RunFacts, R>): ContributionOf<K> };
  feedback?: { reads: readonly F[]; adds(feedback: Pick<FeedbackFacts, F>): ContributionOf<K> };
  atMost?: Bound;
  /** Only plain counts are shown as API fields. */
  api?: K extends 'count' | 'sum' ? A : never;
}): CountedMetric<N, K, S, A> {
  return { ...m, api: m.api as A };
}

/** In table order: `atMost` names only metrics above it. */
export const COUNTED_METRICS = [
  counted({
    name: 'runs',
    kind: 'count',
    description: 'Runs recorded, answered or failed.',
    inSeries: true,
    run: { reads: [], adds: () => 1 },
    api: { field: 'runs', arm: true, timeseries: true },
  }),
  counted({
    name: 'errors',
    kind: 'count',
    description: 'Runs with an error; a fallback (candidate failed, control answered) is one.',
    inSeries: true,
    run: { reads: ['errored'], adds: (r) => (r.errored ? 1 : 0) },
    atMost: { of: 'runs' },
    api: { field: 'errors', arm: true, timeseries: true },
  }),
  counted({
    name: 'fallbacks',
    kind: 'count',
    description: 'Candidate calls that failed and were answered by the control (fallbackToControl).',
    inSeries: true,
    run: { reads: ['fallback'], adds: (r) => (r.fallback ? 1 : 0) },
    atMost: { of: 'errors' },
    api: { field: 'fallbacks', arm: true, timeseries: true },
  }),
  counted({
    name: 'reviewed',
    kind: 'count',
    description: 'Runs without an error that have feedback.',
    inSeries: true,
    feedback: { reads: [], adds: () => 1 },
    atMost: { of: 'runs', minus: 'errors' },
    api: { field: 'reviewed', arm: true, timeseries: true },
  }),
  counted({
    name: 'overridden',
    kind: 'count',
    description: 'Reviewed runs in which the human changed at least one field.',
    inSeries: true,
    feedback: { reads: ['overridden'], adds: (f) => (f.overridden ? 1 : 0) },
    atMost: { of: 'reviewed' },
    api: { field: 'overridden', arm: true, timeseries: true },
  }),
  counted({
    name: 'latencyHist',
    kind: 'histogram',
    description: "Runs per latency bucket (the stats module's log-spaced buckets).",
    inSeries: true,
    run: { reads: ['latencyBucket'], adds: (r) => r.latencyBucket },
  }),
  counted({
    name: 'promptTokens',
    kind: 'sum',
    description: 'Prompt tokens the upstream reported.',
    inSeries: false,
    run: { reads: ['promptTokens'], adds: (r) => r.promptTokens ?? 0 },
  }),
  counted({
    name: 'completionTokens',
    kind: 'sum',
    description: 'Completion tokens the upstream reported.',
    inSeries: false,
    run: { reads: ['completionTokens'], adds: (r) => r.completionTokens ?? 0 },
  }),
  counted({
    name: 'tokenRuns',
    kind: 'count',
    description: 'Runs whose upstream reported token usage (the denominator of tokens per run).',
    inSeries: false,
    run: { reads: ['promptTokens', 'completionTokens'], adds: (r) => (r.promptTokens !== null || r.completionTokens !== null ? 1 : 0) },
    atMost: { of: 'runs' },
  }),
  counted({
    name: 'fieldOverrides',
    kind: 'keyed',
    description: 'Reviewed runs per overridden top-level field: {"total": 3}.',
    inSeries: false,
    feedback: { reads: ['fields'], adds: (f) => f.fields },
    atMost: { of: 'reviewed' },
  }),
] as const;

export type CountedMetricDef = (typeof COUNTED_METRICS)[number];
export type CountedMetricName = CountedMetricDef['name'];
type SeriesMetricDef = Extract<CountedMetricDef, { inSeries: true }>;
type ArmFieldDef = Extract<CountedMetricDef, { api: { arm: true } }>;
type TimeseriesFieldDef = Extract<CountedMetricDef, { api: { timeseries: true } }>;

/** Aggregated runs and feedback of one cell (or of a whole arm, once summed): every metric. */
export type Counts = { [M in CountedMetricDef as M['name']]: ValueOf<M['kind']> };
/** The metrics the per-arm series keeps. */
export type SeriesCounts = { [M in SeriesMetricDef as M['name']]: ValueOf<M['kind']> };
/** The plain counts each arm of the comparison shows, by API field name. */
export type ArmCountFields = { [M in ArmFieldDef as M['api']['field']]: number };
/** The plain counts each timeseries point shows, by API field name. */
export type TimeseriesCountFields = { [M in TimeseriesFieldDef as M['api']['field']]: number };

export const SERIES_METRICS: readonly SeriesMetricDef[] = COUNTED_METRICS.filter((m): m is SeriesMetricDef => m.inSeries);
/** Metrics a run adds to, and metrics feedback adds to (each kind of write touches only its own). */
export const RUN_METRICS: readonly CountedMetricDef[] = COUNTED_METRICS.filter((m) => m.run !== undefined);
export const FEEDBACK_METRICS: readonly CountedMetricDef[] = COUNTED_METRICS.filter((m) => m.feedback !== undefined);

const ARM_FIELD_METRICS = COUNTED_METRICS.filter((m): m is ArmFieldDef => m.api?.arm === true);
const TIMESERIES_FIELD_METRICS = COUNTED_METRICS.filter((m): m is TimeseriesFieldDef => m.api?.timeseries === true);

/** The API field names of the comparison arms' plain counts, in table order. */
export const ARM_COUNT_FIELDS: readonly (keyof ArmCountFields)[] = ARM_FIELD_METRICS.map((m) => m.api.field);
/** The API field names of a timeseries point's plain counts, in table order. */
export const TIMESERIES_COUNT_FIELDS: readonly (keyof TimeseriesCountFields)[] = TIMESERIES_FIELD_METRICS.map((m) => m.api.field);

/** What an API count field counts (for the OpenAPI document). */
export function describeCountField(field: string): string {
  return COUNTED_METRICS.find((m) => m.api?.field === field)?.description ?? '';
}

/** The comparison arm's plain counts, by API field name. */
export function armCountFields(c: Counts): ArmCountFields {
  return Object.fromEntries(ARM_FIELD_METRICS.map((m) => [m.api.field, c[m.name]])) as ArmCountFields;
}

/** A timeseries point's plain counts, by API field name. */
export function timeseriesCountFields(c: Counts): TimeseriesCountFields {
  return Object.fromEntries(TIMESERIES_FIELD_METRICS.map((m) => [m.api.field, c[m.name]])) as TimeseriesCountFields;
}

/**
 * The facts of a run, and of a feedback, that some metrics read (erasure selects only these).
 * Feedback contributions also read whether the run errored (deltas.ts: none on an errored run).
 */
export function factsRead(metrics: readonly CountedMetric[]): { run: (keyof RunFacts)[]; feedback: (keyof FeedbackFacts)[] } {
  const run = new Set(metrics.flatMap((m) => m.run?.reads ?? []));
  if (metrics.some((m) => m.feedback)) run.add('errored');
  return { run: [...run], feedback: [...new Set(metrics.flatMap((m) => m.feedback?.reads ?? []))] };
}

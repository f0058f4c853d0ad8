/**
 * The facts counted metrics read of a run and its feedback (src/domain/metrics/counted-metrics.ts,
 * RunFacts and FeedbackFacts), taken either from a run being inserted or, for erasure, in SQL from
 * stored rows (`r` = runs, `f` = feedback LEFT JOINed). Both ways live here, side by side, so
 * that a fact means the same at insert and at erasure: erasure subtracts exactly what was added.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { FeedbackFacts, RunFacts } from '../../domain/metrics/counted-metrics.js';
import { LATENCY_BUCKET_UPPER_BOUNDS_MS, latencyBucketIndex } from '../../domain/stats/index.js';
import type { CountedRunRow } from '../run-store.js';
import { columnOf } from './rollup-columns.js';

/**
 * The histogram bucket of a latency as stored: `runs.latency_ms` is a float4, so the value is
 * rounded to float4 first, which keeps the bucket of a run identical whether it is computed here
 * at insert or in SQL from the stored value (erasure subtracts what was added).
 */
export const latencyBucket = (ms: number): number => {
  const stored = Math.fround(ms);
  // NaN never reaches a run, but one bad value must not fail the batch (and so the writer) forever;
  // PostgreSQL's width_bucket puts a NaN latency in bucket 0 as well.
  return Number.isNaN(stored) ? 0 : latencyBucketIndex(Math.max(0, stored));
};

/** A run's facts at insert. */
export function runFactsOf(r: CountedRunRow): RunFacts {
  return {
    errored: r.error !== null && r.error !== undefined,
    fallback: r.fallback === true,
    latencyBucket: latencyBucket(r.latencyMs),
    promptTokens: r.promptTokens ?? null,
    completionTokens: r.completionTokens ?? null,
  };
}

/** width_bucket counts thresholds ≤ x; with the boundaries negated and reversed it counts bounds ≥ x. */
const NEGATED_BOUNDS = [...LATENCY_BUCKET_UPPER_BOUNDS_MS].map((b) => -b).reverse();
const BOUND_COUNT = LATENCY_BUCKET_UPPER_BOUNDS_MS.length;

interface FactSql<T> {
  /** The fact of a stored row, over `r` (runs) and `f` (its feedback). */
  sql: SQL;
  decode(value: unknown): T;
}

const bool = (v: unknown) => v === true || v === 't' || v === 'true';
const intOrNull = (v: unknown) => (v === null || v === undefined ? null : Number(v));

export const RUN_FACT_SQL: { [K in keyof RunFacts]: FactSql<RunFacts[K]> } = {
  errored: { sql: sql`r.error IS NOT NULL`, decode: bool },
  fallback: { sql: sql`r.fallback`, decode: bool },
  // The bucket from the stored float4, by the stats module's exact boundaries (as latencyBucket).
  latencyBucket: {
    sql: sql`(${BOUND_COUNT}::int - width_bucket(-(r.latency_ms::float8), ${sql.param(NEGATED_BOUNDS)}::float8[]))::int`,
    decode: (v) => Number(v),
  },
  promptTokens: { sql: sql`r.prompt_tokens`, decode: intOrNull },
  completionTokens: { sql: sql`r.completion_tokens`, decode: intOrNull },
};

export const FEEDBACK_FACT_SQL: { [K in keyof FeedbackFacts]: FactSql<FeedbackFacts[K]> } = {
  overridden: { sql: sql`f.overridden`, decode: bool },
  // As counted at feedback time (`$other` folded: src/domain/overrides/counted-fields.ts), as the upserts did.
  fields: {
    sql: sql`coalesce(f.counted_fields, f.fields)`,
    decode: (v) => (typeof v === 'string' ? (JSON.parse(v) as string[]) : ((v as string[] | null) ?? [])),
  },
};

/** Whether the run has feedback, as a selected column. */
const HAS_FEEDBACK = 'has_feedback';

/** Result column names of the facts. */
const runColumn = (fact: keyof RunFacts) => `run_${columnOf(fact)}`;
const feedbackColumn = (fact: keyof FeedbackFacts) => `feedback_${columnOf(fact)}`;

/** The select list (and GROUP BY list) of the given facts of a stored run and its feedback. */
export function factColumns(facts: { run: readonly (keyof RunFacts)[]; feedback: readonly (keyof FeedbackFacts)[] }): SQL[] {
  return [
    ...facts.run.map((k) => sql`${RUN_FACT_SQL[k].sql} AS ${sql.raw(runColumn(k))}`),
    sql`f.run_id IS NOT NULL AS ${sql.raw(HAS_FEEDBACK)}`,
    ...facts.feedback.map((k) => sql`${FEEDBACK_FACT_SQL[k].sql} AS ${sql.raw(feedbackColumn(k))}`),
  ];
}

/**
 * The facts of a result row of factColumns: only the selected ones are present (the metrics the
 * query was made for read no others), the feedback's only when the run has feedback.
 */
export function factsOfRow(
  row: Record<string, unknown>,
  facts: { run: readonly (keyof RunFacts)[]; feedback: readonly (keyof FeedbackFacts)[] },
): { run: RunFacts; feedback: FeedbackFacts | undefined } {
  const run: Partial<Record<keyof RunFacts, unknown>> = {};
  for (const k of facts.run) run[k] = RUN_FACT_SQL[k].decode(row[runColumn(k)]);
  let feedback: Partial<Record<keyof FeedbackFacts, unknown>> | undefined;
  if (bool(row[HAS_FEEDBACK])) {
    feedback = {};
    for (const k of facts.feedback) feedback[k] = FEEDBACK_FACT_SQL[k].decode(row[feedbackColumn(k)]);
  }
  return { run: run as RunFacts, feedback: feedback as FeedbackFacts | undefined };
}

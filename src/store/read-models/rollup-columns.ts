/**
 * How each kind of counted metric (src/domain/metrics/metric-kinds.ts) is stored in a rollup row,
 * added to in an upsert and read back: the drizzle column, the SQL and the decoding. Rollup
 * columns, upserts and reads iterate over the metric table with these; no list of counters is
 * written anywhere else. A metric's column is its name in snake case (latencyHist → latency_hist).
 *
 * - count:     integer; `col = t.col + excluded.col`
 * - sum:       bigint (token totals outgrow int4); read as float8
 * - histogram: numeric whose base-10^12 digits are the bucket counts, so adding numerics adds
 *              histograms (histogram-codec.ts); read in PostgreSQL's binary numeric form
 * - keyed:     jsonb {"key": n}; merged by key in the upsert, entries that reach 0 dropped
 */
import { bigint, integer, jsonb, numeric } from 'drizzle-orm/pg-core';
import type { CountedMetric, Counts } from '../../domain/metrics/counted-metrics.js';
import { emptyCounts } from '../../domain/metrics/counts.js';
import type { MetricKind } from '../../domain/metrics/metric-kinds.js';
import { decodeHistogram, encodeHistogram } from './histogram-codec.js';

/** The rollup column of a metric: its name in snake case. */
export const columnOf = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

const COLUMN_BUILDERS = {
  count: (column: string) => integer(column).notNull().default(0),
  sum: (column: string) => bigint(column, { mode: 'number' }).notNull().default(0),
  histogram: (column: string) => numeric(column).notNull().default('0'),
  keyed: (column: string) => jsonb(column).$type<Record<string, number>>().notNull().default({}),
} satisfies Record<MetricKind, (column: string) => unknown>;

type ColumnsOf<M extends CountedMetric> = { [X in M as X['name']]: ReturnType<(typeof COLUMN_BUILDERS)[X['kind']]> };

/** Drizzle columns for the given metrics, to spread into a pgTable definition (schema.ts). */
export function rollupColumns<M extends CountedMetric>(metrics: readonly M[]): ColumnsOf<M> {
  return Object.fromEntries(metrics.map((m) => [m.name, COLUMN_BUILDERS[m.kind](columnOf(m.name))])) as ColumnsOf<M>;
}

interface KindSql {
  /** The array type of its unnest() parameter in an upsert. */
  paramType: string;
  /** A delta as the element of that parameter. */
  encode(delta: unknown): string | number;
  /** The value of the unnested parameter `u.column` as the column's type. */
  unnested(column: string): string;
  /** The upsert's SET expression adding `excluded`'s value to the row's (`t`). */
  merge(column: string): string;
  /** The expression reading one row's value. */
  select(column: string): string;
  /** The same summed over the rows of a GROUP BY. */
  sum(column: string): string;
  /** The value read by either expression (drivers give numbers as strings at times, jsonb as text). */
  decode(value: unknown): unknown;
}

const json = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : v);

const numberSql = (paramType: string, select: (c: string) => string): KindSql => ({
  paramType,
  encode: (d) => (d as number | undefined) ?? 0,
  unnested: (c) => `u.${c}`,
  merge: (c) => `${c} = t.${c} + excluded.${c}`,
  select,
  sum: (c) => `sum(${c})::float8`,
  decode: (v) => Number(v ?? 0),
});

/** Adds two {"key": n} objects key by key, dropping keys that reach 0; the row's value is kept as is when the delta is empty. */
const keyedMerge = (c: string) => `${c} = CASE WHEN excluded.${c} = '{}'::jsonb THEN t.${c} ELSE (
  SELECT coalesce(jsonb_object_agg(k, n), '{}'::jsonb) FROM (
    SELECT k, sum(n)::int AS n FROM (
      SELECT key AS k, value::int AS n FROM jsonb_each_text(t.${c})
      UNION ALL SELECT key, value::int FROM jsonb_each_text(excluded.${c})) s
    GROUP BY k) a WHERE n <> 0) END`;

export const KIND_SQL: Record<MetricKind, KindSql> = {
  count: numberSql('int[]', (c) => c),
  sum: numberSql('bigint[]', (c) => `${c}::float8`),
  histogram: {
    paramType: 'numeric[]',
    encode: (d) => encodeHistogram((d as ReadonlyMap<number, number> | undefined) ?? new Map()),
    unnested: (c) => `u.${c}`,
    merge: (c) => `${c} = t.${c} + excluded.${c}`,
    select: (c) => `numeric_send(${c})`,
    sum: (c) => `numeric_send(sum(${c}))`,
    decode: (v) => decodeHistogram(v as string | Uint8Array | null | undefined),
  },
  keyed: {
    paramType: 'text[]',
    encode: (d) =>
      JSON.stringify(Object.fromEntries([...((d as ReadonlyMap<string, number> | undefined) ?? new Map())].filter(([, n]) => n !== 0))),
    unnested: (c) => `u.${c}::jsonb`,
    merge: keyedMerge,
    select: (c) => c,
    // One object per row that has any; decode adds them up.
    sum: (c) => `jsonb_agg(${c}) FILTER (WHERE ${c} <> '{}'::jsonb)`,
    decode(v) {
      const parsed = json(v) as Record<string, number> | Record<string, number>[] | null | undefined;
      const out: Record<string, number> = {};
      for (const o of Array.isArray(parsed) ? parsed : parsed ? [parsed] : []) {
        for (const [k, n] of Object.entries(json(o) as Record<string, number>)) out[k] = (out[k] ?? 0) + Number(n);
      }
      return out;
    },
  },
};

const qualified = (alias: string | undefined, column: string) => (alias ? `${alias}.${column}` : column);

/** The select list reading the given metrics of one row each (aliased as their columns). */
export function selectColumns(metrics: readonly CountedMetric[], alias?: string): string {
  return metrics.map((m) => `${KIND_SQL[m.kind].select(qualified(alias, columnOf(m.name)))} AS ${columnOf(m.name)}`).join(', ');
}

/** The select list summing the given metrics over the rows of a GROUP BY (aliased as their columns). */
export function summedColumns(metrics: readonly CountedMetric[], alias?: string): string {
  return metrics.map((m) => `${KIND_SQL[m.kind].sum(qualified(alias, columnOf(m.name)))} AS ${columnOf(m.name)}`).join(', ');
}

/** A result row of selectColumns / summedColumns as Counts; metrics not selected are zero. */
export function toCounts(row: Record<string, unknown>, metrics: readonly CountedMetric[]): Counts {
  const out = emptyCounts() as unknown as Record<string, unknown>;
  for (const m of metrics) out[m.name] = KIND_SQL[m.kind].decode(row[columnOf(m.name)]);
  return out as unknown as Counts;
}

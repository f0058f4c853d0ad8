/**
 * Multi-row upserts that add deltas to rollup rows:
 *   INSERT INTO t (keys…, counters…) SELECT … FROM unnest($1::uuid[], …) AS u(…)
 *   ON CONFLICT (keys…) DO UPDATE SET runs = t.runs + excluded.runs, …
 * One statement per table and batch, whatever the number of rows, with one array parameter per
 * column (node-postgres and PGlite both serialize JS arrays), so the bind-parameter limit never
 * bites. Rows are sorted by key so that concurrent writers (several gateways) lock rows in the same
 * order. The latency histogram is a numeric whose digits are the bucket counts, so adding it is
 * adding the histograms (histogram-codec.ts).
 * Field-override counts (jsonb {"field": n}) are merged by key; entries that reach 0 are dropped.
 */
import { sql, type SQL } from 'drizzle-orm';
import { encodeHistogram } from './histogram-codec.js';

export type KeyType = 'uuid' | 'int' | 'text' | 'timestamptz';

export type Counter =
  | 'runs'
  | 'errors'
  | 'fallbacks'
  | 'reviewed'
  | 'overridden'
  | 'prompt_tokens'
  | 'completion_tokens'
  | 'token_runs'
  | 'latency_hist'
  | 'field_overrides';

export interface RollupTable {
  name: string;
  keys: readonly (readonly [column: string, type: KeyType])[];
  /** Whether the table has token sums and field-override counts (the per-arm series has not). */
  extras: boolean;
}

/** Values of one row: keys in the table's key order, counters by name. */
export interface UpsertRow {
  key: readonly (string | number)[];
  values: Partial<Record<Counter, number | ReadonlyMap<number, number> | Record<string, number>>>;
}

const PARAM_TYPE: Record<Counter, string> = {
  runs: 'int[]',
  errors: 'int[]',
  fallbacks: 'int[]',
  reviewed: 'int[]',
  overridden: 'int[]',
  prompt_tokens: 'bigint[]',
  completion_tokens: 'bigint[]',
  token_runs: 'int[]',
  latency_hist: 'numeric[]',
  field_overrides: 'text[]',
};

const FIELDS_MERGE = `CASE WHEN excluded.field_overrides = '{}'::jsonb THEN t.field_overrides ELSE (
  SELECT coalesce(jsonb_object_agg(k, n), '{}'::jsonb) FROM (
    SELECT k, sum(n)::int AS n FROM (
      SELECT key AS k, value::int AS n FROM jsonb_each_text(t.field_overrides)
      UNION ALL SELECT key, value::int FROM jsonb_each_text(excluded.field_overrides)) s
    GROUP BY k) a WHERE n <> 0) END`;

function setClause(counter: Counter): string {
  if (counter === 'field_overrides') return `field_overrides = ${FIELDS_MERGE}`;
  return `${counter} = t.${counter} + excluded.${counter}`;
}

function selectExpr(counter: Counter): string {
  if (counter === 'field_overrides') return 'u.field_overrides::jsonb';
  return `u.${counter}`;
}

function encode(counter: Counter, v: UpsertRow['values'][Counter]): string | number {
  if (counter === 'latency_hist') return encodeHistogram((v as ReadonlyMap<number, number> | undefined) ?? new Map());
  if (counter === 'field_overrides') return JSON.stringify(v ?? {});
  return (v as number | undefined) ?? 0;
}

const compareKeys = (a: UpsertRow, b: UpsertRow): number => {
  for (let i = 0; i < a.key.length; i++) {
    const x = a.key[i]!;
    const y = b.key[i]!;
    if (x < y) return -1;
    if (x > y) return 1;
  }
  return 0;
};

/** The upsert of `rows` (distinct keys) adding `counters`; undefined when there is nothing to do. */
export function upsertRollups(table: RollupTable, counters: readonly Counter[], rows: UpsertRow[]): SQL | undefined {
  if (rows.length === 0) return undefined;
  const used = counters.filter((c) => table.extras || !['prompt_tokens', 'completion_tokens', 'token_runs', 'field_overrides'].includes(c));
  const sorted = [...rows].sort(compareKeys);
  const keyNames = table.keys.map(([c]) => c);
  const columns = [...keyNames, ...used];
  const params: SQL[] = [
    ...table.keys.map(([, type], i) => sql`${sql.param(sorted.map((r) => r.key[i]))}::${sql.raw(`${type}[]`)}`),
    ...used.map((c) => sql`${sql.param(sorted.map((r) => encode(c, r.values[c])))}::${sql.raw(PARAM_TYPE[c])}`),
  ];
  return sql.join(
    [
      sql.raw(`INSERT INTO ${table.name} AS t (${columns.join(', ')}) SELECT ${[...keyNames.map((k) => `u.${k}`), ...used.map(selectExpr)].join(', ')} FROM unnest(`),
      sql.join(params, sql.raw(', ')),
      sql.raw(`) AS u(${columns.join(', ')}) ON CONFLICT (${keyNames.join(', ')}) DO UPDATE SET ${used.map(setClause).join(', ')}`),
    ],
    sql.raw(''),
  );
}

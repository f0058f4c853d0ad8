/**
 * Multi-row upserts that add deltas to rollup rows:
 *   INSERT INTO t (keys…, counters…) SELECT … FROM unnest($1::uuid[], …) AS u(…)
 *   ON CONFLICT (keys…) DO UPDATE SET runs = t.runs + excluded.runs, …
 * One upsert per table and batch, whatever the number of rows (the tables' upserts are CTEs of
 * one statement: rollup-deltas.ts), with one array parameter per column (node-postgres and PGlite
 * both serialize JS arrays), so the bind-parameter limit never bites. Rows are sorted by key so that concurrent writers (several gateways) lock rows in the same
 * order. Counters are the metric table's (src/domain/metrics/counted-metrics.ts), each stored and
 * added by its kind (rollup-columns.ts).
 */
import { sql, type SQL } from 'drizzle-orm';
import type { CountedMetric } from '../../domain/metrics/counted-metrics.js';
import type { CountsDelta } from '../../domain/metrics/deltas.js';
import { columnOf, KIND_SQL } from './rollup-columns.js';

export type KeyType = 'uuid' | 'int' | 'text' | 'timestamptz';

export interface RollupTable {
  name: string;
  keys: readonly (readonly [column: string, type: KeyType])[];
  /** The counted metrics it keeps (the per-arm series keeps fewer). */
  metrics: readonly CountedMetric[];
}

/** One row's key (in the table's key order) and the delta to add to it. */
export interface UpsertRow {
  key: readonly (string | number)[];
  delta: CountsDelta;
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

/**
 * The upsert of `rows` (distinct keys) adding the deltas of `metrics` (those the table keeps);
 * undefined when there is nothing to do. `after`: a CTE of the same statement that must be done
 * first: the rows are read only once its rows are counted (a one-time InitPlan), which orders
 * data-modifying CTEs that PostgreSQL would otherwise run in no promised order.
 */
export function upsertRollups(table: RollupTable, metrics: readonly CountedMetric[], rows: UpsertRow[], after?: string): SQL | undefined {
  if (rows.length === 0) return undefined;
  const used = metrics.filter((m) => table.metrics.some((t) => t.name === m.name));
  const sorted = [...rows].sort(compareKeys);
  const keyNames = table.keys.map(([c]) => c);
  const counterNames = used.map((m) => columnOf(m.name));
  const columns = [...keyNames, ...counterNames];
  const deltaOf = (r: UpsertRow, m: CountedMetric) => (r.delta as unknown as Record<string, unknown>)[m.name];
  const params: SQL[] = [
    ...table.keys.map(([, type], i) => sql`${sql.param(sorted.map((r) => r.key[i]))}::${sql.raw(`${type}[]`)}`),
    ...used.map(
      (m) => sql`${sql.param(sorted.map((r) => KIND_SQL[m.kind].encode(deltaOf(r, m))))}::${sql.raw(KIND_SQL[m.kind].paramType)}`,
    ),
  ];
  const selected = [...keyNames.map((k) => `u.${k}`), ...used.map((m) => KIND_SQL[m.kind].unnested(columnOf(m.name)))];
  return sql.join(
    [
      sql.raw(`INSERT INTO ${table.name} AS t (${columns.join(', ')}) SELECT ${selected.join(', ')} FROM unnest(`),
      sql.join(params, sql.raw(', ')),
      sql.raw(
        `) AS u(${columns.join(', ')})${afterCte(after)} ON CONFLICT (${keyNames.join(', ')}) DO UPDATE SET ${used.map((m) => KIND_SQL[m.kind].merge(columnOf(m.name))).join(', ')}`,
      ),
    ],
    sql.raw(''),
  );
}

/** The WHERE clause that holds a CTE's rows until the CTE `after` (if any) is done. */
export const afterCte = (after: string | undefined): string => (after ? ` WHERE (SELECT count(*) FROM ${after}) >= 0` : '');

/**
 * A batch's deltas, summed in memory per rollup row before one upsert per table (so 2,000 runs of
 * a few tenants become a handful of row updates), all in one statement. Keys and grains:
 * - rollups:    (rollout, hour, stage, arm, tenant, environment)
 * - totals:     (rollout, stage, arm, tenant, environment)
 * - series:     (rollout, grain, t, arm), grain minute | hour | total (t = epoch for total)
 * - defaults:   (chain, version, tenant, environment, hour)     variant 'default' runs only
 * - defaultEnv: (chain, version, environment, hour)
 * Every table keeps every counted metric but the series, which keeps the `inSeries` ones.
 */
import { sql, type SQL } from 'drizzle-orm';
import { COUNTED_METRICS, SERIES_METRICS, type CountedMetric } from '../../domain/metrics/counted-metrics.js';
import { emptyDelta, type CountsDelta } from '../../domain/metrics/deltas.js';
import type { Tx } from '../run-store.js';
import { upsertRollups, type RollupTable, type UpsertRow } from './upsert-sql.js';

export const TABLES = {
  rollups: {
    name: 'rollout_rollups',
    keys: [
      ['rollout_id', 'uuid'],
      ['hour', 'timestamptz'],
      ['stage', 'int'],
      ['variant', 'text'],
      ['tenant_id', 'text'],
      ['environment', 'text'],
    ],
    metrics: COUNTED_METRICS,
  },
  totals: {
    name: 'rollout_totals',
    keys: [
      ['rollout_id', 'uuid'],
      ['stage', 'int'],
      ['variant', 'text'],
      ['tenant_id', 'text'],
      ['environment', 'text'],
    ],
    metrics: COUNTED_METRICS,
  },
  series: {
    name: 'rollout_series',
    keys: [
      ['rollout_id', 'uuid'],
      ['grain', 'text'],
      ['t', 'timestamptz'],
      ['variant', 'text'],
    ],
    metrics: SERIES_METRICS,
  },
  defaults: {
    name: 'default_rollups',
    keys: [
      ['chain_id', 'text'],
      ['version', 'text'],
      ['tenant_id', 'text'],
      ['environment', 'text'],
      ['hour', 'timestamptz'],
    ],
    metrics: COUNTED_METRICS,
  },
  defaultEnv: {
    name: 'default_env_rollups',
    keys: [
      ['chain_id', 'text'],
      ['version', 'text'],
      ['environment', 'text'],
      ['hour', 'timestamptz'],
    ],
    metrics: COUNTED_METRICS,
  },
} as const satisfies Record<string, RollupTable>;

export type TableName = keyof typeof TABLES;

export const EPOCH_ISO = new Date(0).toISOString();
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

export const hourOf = (d: Date): string => new Date(Math.floor(d.getTime() / HOUR_MS) * HOUR_MS).toISOString();
export const minuteOf = (d: Date): string => new Date(Math.floor(d.getTime() / MINUTE_MS) * MINUTE_MS).toISOString();

interface RowDelta {
  key: (string | number)[];
  delta: CountsDelta;
}

export class BatchDeltas {
  private readonly maps = new Map<TableName, Map<string, RowDelta>>();

  /** The delta of one row, created empty on first use. */
  at(table: TableName, key: (string | number)[]): CountsDelta {
    let m = this.maps.get(table);
    if (!m) this.maps.set(table, (m = new Map<string, RowDelta>()));
    const k = key.join('\u0000');
    let e = m.get(k);
    if (!e) m.set(k, (e = { key, delta: emptyDelta() }));
    return e.delta;
  }

  /** Applies `fn` to the row of each table at its key (a run or feedback lands in several tables). */
  each(targets: [TableName, (string | number)[]][], fn: (d: CountsDelta) => void): void {
    for (const [table, key] of targets) fn(this.at(table, key));
  }

  /**
   * The upserts of every table that has rows, adding `metrics` (the ones the change touched), as
   * one statement (one round trip, however many tables): each table's upsert is a CTE that starts
   * once the one before it is done (upsert-sql.ts, `after`), tables in a fixed order and rows
   * sorted within each, so that every writer locks rows in the same order. `tail`, given the name
   * of the last upsert's CTE (undefined when no table has rows), adds to the same statement.
   */
  async write(tx: Tx, metrics: readonly CountedMetric[], tail?: (after: string | undefined) => StatementTail | undefined): Promise<void> {
    const ctes: SQL[] = [];
    let last: string | undefined;
    for (const name of Object.keys(TABLES) as TableName[]) {
      const m = this.maps.get(name);
      if (!m || m.size === 0) continue;
      const rows: UpsertRow[] = [...m.values()];
      const upsert = upsertRollups(TABLES[name], metrics, rows, last);
      if (!upsert) continue;
      const cte = `upsert_${name}`;
      ctes.push(sql`${sql.raw(cte)} AS (${upsert} RETURNING 1)`);
      last = cte;
    }
    const rest = tail?.(last);
    if (rest) ctes.push(...rest.ctes);
    const main = rest?.main ?? (last ? sql.raw(`SELECT count(*) FROM ${last}`) : undefined);
    if (!main) return;
    await tx.execute(ctes.length > 0 ? sql`WITH ${sql.join(ctes, sql.raw(',\n'))}\n${main}` : main);
  }
}

/** What a statement adds after the rollup upserts: more CTEs, and its main part. */
export interface StatementTail {
  ctes: SQL[];
  main: SQL;
}

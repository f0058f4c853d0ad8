/**
 * The comparison's reads (ComparisonReadModel): each one range read on a rollup table's primary
 * key, never a scan of runs. Sizes, for a sense of cost: rollout_totals has a row per (stage, arm,
 * tenant, environment) whatever the number of runs; rollout_rollups the same per hour, read only
 * for a from/to window; rollout_series two rows per minute and hour; default rollups a row per
 * (tenant, environment, hour) with traffic, read for the hours a baseline needs.
 */
import { sql, type SQL } from 'drizzle-orm';
import type {
  Arm,
  AssignmentCount,
  Cell,
  CellFilter,
  ComparisonReadModel,
  Counts,
  DefaultBeforeQuery,
  DefaultCell,
  DefaultDuringQuery,
  SeriesGrain,
  SeriesRow,
} from '../../domain/comparison/types.js';
import type { SeriesCounts } from '../../domain/metrics/counted-metrics.js';
import type { Db } from '../db.js';
import { BOTH_ARMS_VARIANT } from '../schema.js';
import { TABLES } from './rollup-deltas.js';
import { selectColumns, summedColumns, toCounts } from './rollup-columns.js';
import { rowsOf } from './rows.js';

const arm = (variant: string): Arm | undefined => (variant === 'control' || variant === 'candidate' ? variant : undefined);
const ms = (v: number | string) => new Date(Number(v));

/** A result row: the selected metrics' columns beside the named ones. */
type CountRow = Record<string, unknown>;
type CellRow = CountRow & { stage: number; variant: string; tenant_id: string; environment: string };

const CELL_METRICS = TABLES.totals.metrics;
const SERIES_METRICS = TABLES.series.metrics;
const DEFAULT_METRICS = TABLES.defaults.metrics;

/** The series' metrics of a series row (the series keeps no others). */
function seriesCounts(c: Counts): SeriesCounts {
  return Object.fromEntries(SERIES_METRICS.map((m) => [m.name, c[m.name]])) as SeriesCounts;
}

export class ComparisonQueries implements ComparisonReadModel {
  constructor(private readonly db: Db) {}

  private async rows<T>(query: SQL): Promise<T[]> {
    return rowsOf<T>(await this.db.execute(query));
  }

  async rolloutCells(rolloutId: string, f: CellFilter): Promise<Cell[]> {
    const conds: SQL[] = [sql`rollout_id = ${rolloutId}`];
    if (f.window) conds.push(sql`hour >= ${f.window.from.toISOString()}::timestamptz AND hour < ${f.window.to.toISOString()}::timestamptz`);
    if (f.stage !== undefined) conds.push(sql`stage = ${f.stage}`);
    if (f.tenant !== undefined) conds.push(sql`tenant_id = ${f.tenant}`);
    if (f.environment !== undefined) conds.push(sql`environment = ${f.environment}`);
    // All time: one row per cell already. A window: the cell's hours add up in SQL (histograms
    // are numerics, so sum() merges them).
    const rows = f.window
      ? await this.rows<CellRow>(sql`
          SELECT stage, variant, tenant_id, environment, ${sql.raw(summedColumns(TABLES.rollups.metrics))}
          FROM rollout_rollups WHERE ${sql.join(conds, sql` AND `)}
          GROUP BY stage, variant, tenant_id, environment`)
      : await this.rows<CellRow>(sql`
          SELECT stage, variant, tenant_id, environment, ${sql.raw(selectColumns(CELL_METRICS))}
          FROM rollout_totals WHERE ${sql.join(conds, sql` AND `)}`);
    return rows.flatMap((r) => {
      const a = arm(r.variant);
      return a ? [{ ...toCounts(r, CELL_METRICS), stage: Number(r.stage), arm: a, tenantId: r.tenant_id, environment: r.environment }] : [];
    });
  }

  async candidatePairs(rolloutId: string): Promise<{ stage: number; tenantId: string; environment: string }[]> {
    const rows = await this.rows<{ stage: number; tenant_id: string; environment: string }>(sql`
      SELECT stage, tenant_id, environment FROM rollout_totals
      WHERE rollout_id = ${rolloutId} AND variant = 'candidate' AND runs > 0`);
    return rows.map((r) => ({ stage: Number(r.stage), tenantId: r.tenant_id, environment: r.environment }));
  }

  async assignmentCounts(rolloutId: string): Promise<AssignmentCount[]> {
    const rows = await this.rows<{ stage: number; variant: string; keys: number }>(
      sql`SELECT stage, variant, keys FROM rollout_assignment_counts WHERE rollout_id = ${rolloutId}`,
    );
    return rows.flatMap((r) => {
      const a = arm(r.variant);
      return a ? [{ stage: Number(r.stage), arm: a, keys: Math.max(0, Number(r.keys)) }] : [];
    });
  }

  async keysInBothArms(rolloutId: string): Promise<{ stage: number; keys: number }[]> {
    // Within one stage a key (tenant or unit) must be sticky to one arm: any key with both is a bug.
    // Counted as keys are stored (rollout-read-model.ts), not by grouping every key here.
    const rows = await this.rows<{ stage: number; keys: number }>(sql`
      SELECT stage, keys FROM rollout_assignment_counts
      WHERE rollout_id = ${rolloutId} AND variant = ${BOTH_ARMS_VARIANT} AND keys > 0`);
    return rows.map((r) => ({ stage: Number(r.stage), keys: Number(r.keys) }));
  }

  async armTotals(rolloutId: string): Promise<Map<Arm, Counts>> {
    const rows = await this.rows<CountRow & { variant: string }>(sql`
      SELECT variant, ${sql.raw(selectColumns(SERIES_METRICS))} FROM rollout_series
      WHERE rollout_id = ${rolloutId} AND grain = 'total' AND t = 'epoch'::timestamptz`);
    const out = new Map<Arm, Counts>();
    for (const r of rows) {
      const a = arm(r.variant);
      if (a) out.set(a, toCounts(r, SERIES_METRICS));
    }
    return out;
  }

  async defaultBefore(q: DefaultBeforeQuery): Promise<DefaultCell[]> {
    if (q.pairs.length === 0) return [];
    // One index range per pair on (chain, version, tenant, environment, hour), summed in SQL.
    const rows = await this.rows<CountRow & { tenant_id: string; environment: string }>(sql`
      SELECT d.tenant_id, d.environment, ${sql.raw(summedColumns(DEFAULT_METRICS, 'd'))}
      FROM unnest(${sql.param(q.pairs.map((p) => p.tenantId))}::text[], ${sql.param(q.pairs.map((p) => p.environment))}::text[],
                  ${sql.param(q.pairs.map((p) => p.from.toISOString()))}::timestamptz[], ${sql.param(q.pairs.map((p) => p.to.toISOString()))}::timestamptz[])
             AS p(tenant_id, environment, from_hour, to_hour)
      JOIN default_rollups d ON d.chain_id = ${q.chainId} AND d.version = ${q.version} AND d.tenant_id = p.tenant_id
                            AND d.environment = p.environment AND d.hour >= p.from_hour AND d.hour < p.to_hour
      GROUP BY d.tenant_id, d.environment`);
    return rows.map((r) => ({ ...toCounts(r, DEFAULT_METRICS), tenantId: r.tenant_id, environment: r.environment }));
  }

  async defaultDuring(q: DefaultDuringQuery): Promise<DefaultCell[]> {
    if (q.environments.length === 0 || q.tenants?.length === 0) return [];
    const table = sql.raw(q.tenants ? 'default_rollups' : 'default_env_rollups');
    const tenants = q.tenants ? sql` AND tenant_id = ANY(${sql.param(q.tenants)}::text[])` : sql``;
    const rows = await this.rows<CountRow & { environment: string }>(sql`
      SELECT environment, ${sql.raw(summedColumns(DEFAULT_METRICS))} FROM ${table}
      WHERE chain_id = ${q.chainId} AND version = ${q.version} AND environment = ANY(${sql.param(q.environments)}::text[])
        AND hour >= ${q.from.toISOString()}::timestamptz AND hour < ${q.to.toISOString()}::timestamptz${tenants}
      GROUP BY environment`);
    return rows.map((r) => ({ ...toCounts(r, DEFAULT_METRICS), tenantId: null, environment: r.environment }));
  }

  async series(rolloutId: string, grain: SeriesGrain | 'day', from?: Date, to?: Date): Promise<SeriesRow[]> {
    const conds: SQL[] = [sql`rollout_id = ${rolloutId}`, sql`grain = ${grain === 'day' ? 'hour' : grain}`];
    if (from) conds.push(sql`t >= ${from.toISOString()}::timestamptz`);
    if (to) conds.push(sql`t < ${to.toISOString()}::timestamptz`);
    // Minute and hour rows are points already; days are UTC days of hour rows, summed in SQL
    // (epoch arithmetic: no session time zone involved).
    const rows =
      grain === 'day'
        ? await this.rows<CountRow & { variant: string; t_ms: number | string }>(sql`
            SELECT variant, (floor(extract(epoch from t) / 86400) * 86400000)::float8 AS t_ms, ${sql.raw(summedColumns(SERIES_METRICS))}
            FROM rollout_series WHERE ${sql.join(conds, sql` AND `)}
            GROUP BY 1, 2 ORDER BY 2, 1`)
        : await this.rows<CountRow & { variant: string; t_ms: number | string }>(sql`
            SELECT variant, (extract(epoch from t) * 1000)::float8 AS t_ms, ${sql.raw(selectColumns(SERIES_METRICS))}
            FROM rollout_series WHERE ${sql.join(conds, sql` AND `)}
            ORDER BY t, variant`);
    return rows.flatMap((r) => {
      const a = arm(r.variant);
      if (!a) return [];
      return [{ t: ms(r.t_ms), arm: a, ...seriesCounts(toCounts(r, SERIES_METRICS)) }];
    });
  }

  async latestSeriesTime(rolloutId: string, grain: SeriesGrain): Promise<Date | undefined> {
    const [row] = await this.rows<{ t_ms: number | string | null }>(sql`
      SELECT (extract(epoch from max(t)) * 1000)::float8 AS t_ms FROM rollout_series WHERE rollout_id = ${rolloutId} AND grain = ${grain}`);
    return row?.t_ms === null || row?.t_ms === undefined ? undefined : ms(row.t_ms);
  }
}

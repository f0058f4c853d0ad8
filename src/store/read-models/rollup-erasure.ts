/**
 * Removing data from the read model: GDPR erasure of a tenant and retention.
 *
 * Erasure (before the tenant's runs are deleted, in the same transaction): rows keyed by the tenant
 * are deleted; the tenant's share of the aggregates without a tenant column is subtracted, so the
 * timeseries and the pooled baseline keep agreeing with the comparison:
 * - rollout_series: recomputed from the tenant's runs (minute, hour and total rows), with the
 *   latency bucket taken in SQL by width_bucket over the stats module's exact boundaries, from the
 *   same float4 value the insert path bucketed (rollup-deltas.ts, latencyBucket);
 * - default_env_rollups: minus the tenant's default_rollups rows;
 * - assignment counts: minus the tenant's keys.
 * Retention: hour and minute buckets that ended before the cutoff go, like their runs; the
 * all-time rows (rollout_totals, series 'total', assignment keys) stay, so a finished rollout's
 * comparison outlives its raw runs.
 */
import { sql } from 'drizzle-orm';
import { LATENCY_BUCKET_UPPER_BOUNDS_MS } from '../../domain/stats/index.js';
import type { Tx } from '../run-store.js';
import { addBucket, BatchDeltas, EPOCH_ISO, hourOf, type Delta } from './rollup-deltas.js';
import { COUNT_COLUMNS, EXTRA_COLUMNS, rowsOf, toCounts, type CountRow } from './rows.js';
import type { Counter } from './upsert-sql.js';

/** width_bucket counts thresholds ≤ x; with the boundaries negated and reversed it counts bounds ≥ x. */
const NEGATED_BOUNDS = [...LATENCY_BUCKET_UPPER_BOUNDS_MS].map((b) => -b).reverse();
const BOUND_COUNT = LATENCY_BUCKET_UPPER_BOUNDS_MS.length;

interface SeriesShare {
  rollout_id: string;
  variant: string;
  minute_idx: number | string;
  bucket: number;
  runs: number;
  errors: number;
  fallbacks: number;
  reviewed: number;
  overridden: number;
}

export async function eraseTenantAggregates(tx: Tx, tenantId: string, counters: readonly Counter[]): Promise<void> {
  const deltas = new BatchDeltas();

  const shares = rowsOf<SeriesShare>(
    await tx.execute(sql`
      SELECT r.rollout_id, r.variant, floor(extract(epoch from r.created_at) / 60)::float8 AS minute_idx,
             (${BOUND_COUNT}::int - width_bucket(-(r.latency_ms::float8), ${sql.param(NEGATED_BOUNDS)}::float8[]))::int AS bucket,
             count(*)::int AS runs,
             (count(*) FILTER (WHERE r.error IS NOT NULL))::int AS errors,
             (count(*) FILTER (WHERE r.fallback))::int AS fallbacks,
             (count(*) FILTER (WHERE r.error IS NULL AND f.run_id IS NOT NULL))::int AS reviewed,
             (count(*) FILTER (WHERE r.error IS NULL AND f.overridden))::int AS overridden
      FROM runs r LEFT JOIN feedback f ON f.run_id = r.id
      WHERE r.tenant_id = ${tenantId} AND r.rollout_id IS NOT NULL AND r.stage IS NOT NULL AND r.variant IN ('control', 'candidate')
      GROUP BY 1, 2, 3, 4`),
  );
  for (const s of shares) {
    const minute = new Date(Number(s.minute_idx) * 60_000);
    const keys: (string | number)[][] = [
      [s.rollout_id, 'minute', minute.toISOString(), s.variant],
      [s.rollout_id, 'hour', hourOf(minute), s.variant],
      [s.rollout_id, 'total', EPOCH_ISO, s.variant],
    ];
    for (const key of keys) {
      const d = deltas.at('series', key);
      d.runs -= s.runs;
      d.errors -= s.errors;
      d.fallbacks -= s.fallbacks;
      d.reviewed -= s.reviewed;
      d.overridden -= s.overridden;
      addBucket(d, s.bucket, -s.runs);
    }
  }

  const defaults = rowsOf<CountRow & { chain_id: string; version: string; environment: string; hour_ms: number | string }>(
    await tx.execute(sql`
      SELECT chain_id, version, environment, (extract(epoch from hour) * 1000)::float8 AS hour_ms, ${sql.raw(COUNT_COLUMNS)}, ${sql.raw(EXTRA_COLUMNS)}
      FROM default_rollups WHERE tenant_id = ${tenantId}`),
  );
  for (const row of defaults) {
    const c = toCounts(row);
    const d = deltas.at('defaultEnv', [row.chain_id, row.version, row.environment, new Date(Number(row.hour_ms)).toISOString()]);
    subtract(d, c);
  }
  await deltas.write(tx, counters);

  await tx.execute(sql`
    WITH gone AS (DELETE FROM rollout_assignment_keys WHERE tenant_id = ${tenantId} RETURNING rollout_id, stage, variant),
         n AS (SELECT rollout_id, stage, variant, count(*)::int AS k FROM gone GROUP BY rollout_id, stage, variant)
    UPDATE rollout_assignment_counts c SET keys = c.keys - n.k FROM n
    WHERE c.rollout_id = n.rollout_id AND c.stage = n.stage AND c.variant = n.variant`);
  await tx.execute(sql`DELETE FROM rollout_rollups WHERE tenant_id = ${tenantId}`);
  await tx.execute(sql`DELETE FROM rollout_totals WHERE tenant_id = ${tenantId}`);
  await tx.execute(sql`DELETE FROM default_rollups WHERE tenant_id = ${tenantId}`);
}

function subtract(d: Delta, c: ReturnType<typeof toCounts>): void {
  d.runs -= c.runs;
  d.errors -= c.errors;
  d.fallbacks -= c.fallbacks;
  d.reviewed -= c.reviewed;
  d.overridden -= c.overridden;
  d.promptTokens -= c.promptTokens;
  d.completionTokens -= c.completionTokens;
  d.tokenRuns -= c.tokenRuns;
  c.latencyHist.forEach((n, i) => {
    if (n !== 0) addBucket(d, i, -n);
  });
  for (const [f, n] of Object.entries(c.fieldOverrides)) d.fields.set(f, (d.fields.get(f) ?? 0) - n);
}

export async function expireAggregates(tx: Tx, before: Date): Promise<void> {
  const cutoff = before.toISOString();
  await tx.execute(sql`DELETE FROM rollout_rollups WHERE hour <= ${cutoff}::timestamptz - interval '1 hour'`);
  await tx.execute(sql`
    DELETE FROM rollout_series
    WHERE (grain = 'minute' AND t <= ${cutoff}::timestamptz - interval '1 minute')
       OR (grain = 'hour' AND t <= ${cutoff}::timestamptz - interval '1 hour')`);
  await tx.execute(sql`DELETE FROM default_rollups WHERE hour <= ${cutoff}::timestamptz - interval '1 hour'`);
  await tx.execute(sql`DELETE FROM default_env_rollups WHERE hour <= ${cutoff}::timestamptz - interval '1 hour'`);
}

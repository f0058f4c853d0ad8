/**
 * Removing data from the read model: GDPR erasure of a tenant and retention.
 *
 * Erasure (before the tenant's runs are deleted, in the same transaction): rows keyed by the tenant
 * are deleted; the tenant's share of the aggregates without a tenant column is subtracted, so the
 * timeseries and the pooled baseline keep agreeing with the comparison:
 * - rollout_series: minus what the tenant's runs and their feedback added (minute, hour and total
 *   rows): the inverse of each run's delta (src/domain/metrics/deltas.ts), from the facts its
 *   metrics read, taken in SQL from the stored rows (run-facts.ts: the same facts the insert path
 *   took, e.g. the latency bucket of the same float4 value);
 * - default_env_rollups: minus the tenant's default_rollups rows;
 * - assignment counts: minus the tenant's keys.
 * Retention: hour and minute buckets that ended before the cutoff go, like their runs; the
 * all-time rows (rollout_totals, series 'total', assignment keys) stay, so a finished rollout's
 * comparison outlives its raw runs.
 */
import { sql } from 'drizzle-orm';
import { COUNTED_METRICS, factsRead, SERIES_METRICS } from '../../domain/metrics/counted-metrics.js';
import { addDelta, addFeedbackChange, addRun, countsAsDelta } from '../../domain/metrics/deltas.js';
import type { Tx } from '../run-store.js';
import { BOTH_ARMS_VARIANT } from '../schema.js';
import { BatchDeltas, EPOCH_ISO, hourOf, TABLES } from './rollup-deltas.js';
import { selectColumns, toCounts } from './rollup-columns.js';
import { factColumns, factsOfRow } from './run-facts.js';
import { rowsOf } from './rows.js';

/** What the series' metrics read of a run and its feedback: the tenant's runs are grouped by these. */
const SERIES_FACTS = factsRead(SERIES_METRICS);

export async function eraseTenantAggregates(tx: Tx, tenantId: string): Promise<void> {
  const deltas = new BatchDeltas();

  // The tenant's runs in a rollout, counted per (rollout, arm, minute) and per combination of the
  // facts the series' metrics read; each group takes away n × (its run's and its feedback's delta).
  const facts = factColumns(SERIES_FACTS);
  const groups = rowsOf<Record<string, unknown> & { rollout_id: string; variant: string; minute_idx: number | string; n: number | string }>(
    await tx.execute(sql`
      SELECT r.rollout_id, r.variant, floor(extract(epoch from r.created_at) / 60)::float8 AS minute_idx, ${sql.join(facts, sql`, `)},
             count(*)::int AS n
      FROM runs r LEFT JOIN feedback f ON f.run_id = r.id
      WHERE r.tenant_id = ${tenantId} AND r.rollout_id IS NOT NULL AND r.stage IS NOT NULL AND r.variant IN ('control', 'candidate')
      GROUP BY ${sql.join(
        Array.from({ length: 3 + facts.length }, (_, i) => sql.raw(String(i + 1))),
        sql`, `,
      )}`),
  );
  for (const g of groups) {
    const { run, feedback } = factsOfRow(g, SERIES_FACTS);
    const n = Number(g.n);
    const minute = new Date(Number(g.minute_idx) * 60_000);
    const keys: (string | number)[][] = [
      [g.rollout_id, 'minute', minute.toISOString(), g.variant],
      [g.rollout_id, 'hour', hourOf(minute), g.variant],
      [g.rollout_id, 'total', EPOCH_ISO, g.variant],
    ];
    for (const key of keys) {
      const d = deltas.at('series', key);
      addRun(d, run, -n, SERIES_METRICS);
      addFeedbackChange(d, run, undefined, feedback, -n, SERIES_METRICS);
    }
  }

  // The pooled default traffic: minus the tenant's own default rows, metric by metric.
  const defaults = rowsOf<Record<string, unknown> & { chain_id: string; version: string; environment: string; hour_ms: number | string }>(
    await tx.execute(sql`
      SELECT chain_id, version, environment, (extract(epoch from hour) * 1000)::float8 AS hour_ms, ${sql.raw(selectColumns(TABLES.defaults.metrics))}
      FROM default_rollups WHERE tenant_id = ${tenantId}`),
  );
  for (const row of defaults) {
    const d = deltas.at('defaultEnv', [row.chain_id, row.version, row.environment, new Date(Number(row.hour_ms)).toISOString()]);
    addDelta(d, countsAsDelta(toCounts(row, TABLES.defaults.metrics)), -1);
  }
  await deltas.write(tx, COUNTED_METRICS);

  await tx.execute(sql`
    WITH gone AS (DELETE FROM rollout_assignment_keys WHERE tenant_id = ${tenantId} RETURNING rollout_id, stage, variant, key_hash),
         n AS (SELECT rollout_id, stage, variant, count(*)::int AS k FROM gone GROUP BY rollout_id, stage, variant
               UNION ALL
               -- A key is its tenant's: both of its arms' rows go together, and so does its count in both_arms.
               SELECT rollout_id, stage, ${BOTH_ARMS_VARIANT}::text, count(*)::int FROM (
                 SELECT rollout_id, stage FROM gone GROUP BY rollout_id, stage, key_hash HAVING count(*) > 1) b
               GROUP BY rollout_id, stage)
    UPDATE rollout_assignment_counts c SET keys = c.keys - n.k FROM n
    WHERE c.rollout_id = n.rollout_id AND c.stage = n.stage AND c.variant = n.variant`);
  await tx.execute(sql`DELETE FROM rollout_rollups WHERE tenant_id = ${tenantId}`);
  await tx.execute(sql`DELETE FROM rollout_totals WHERE tenant_id = ${tenantId}`);
  await tx.execute(sql`DELETE FROM default_rollups WHERE tenant_id = ${tenantId}`);
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

/**
 * The comparison's read model, kept in step with runs and feedback inside the transaction that
 * writes them (RunStore's ReadModelHooks). Exactly once: RunStore hands over only runs it newly
 * inserted, and feedback as (before → after), so replays and re-sent feedback add nothing twice.
 *
 * Which runs count where:
 * - a run with a rollout (variant control | candidate) → rollout_rollups (hourly), rollout_totals,
 *   rollout_series (minute, hour, total) and its assignment key (SRM);
 * - a run on variant 'default' → default_rollups (per tenant) and default_env_rollups (pooled), the
 *   raw material of the baseline control;
 * - an errored run (error not null; a fallback is one) counts in `errors` and never as reviewed;
 * - feedback counts in the hour and minute of its run's creation, never of its arrival, so
 *   feedback after a rollback lands in its run's arm.
 */
import { sql } from 'drizzle-orm';
import type { CountedRunRow, FeedbackChange, ReadModelHooks, Tx } from '../run-store.js';
import { BOTH_ARMS_VARIANT } from '../schema.js';
import { COUNTED_METRICS, FEEDBACK_METRICS, RUN_METRICS } from '../../domain/metrics/counted-metrics.js';
import { addDelta, addFeedbackChange, addRun, emptyDelta, isZeroDelta, type CountsDelta } from '../../domain/metrics/deltas.js';
import { eraseTenantAggregates, expireAggregates } from './rollup-erasure.js';
import { BatchDeltas, EPOCH_ISO, hourOf, minuteOf, type StatementTail, type TableName } from './rollup-deltas.js';
import { afterCte } from './upsert-sql.js';
import { runFactsOf } from './run-facts.js';

type Target = [TableName, (string | number)[]];

interface AssignmentKey {
  rolloutId: string;
  stage: number;
  variant: string;
  key: string;
  tenantId: string;
}

interface RunPlace {
  rolloutId: string | null;
  stage: number | null;
  variant: string;
  tenantId: string;
  environment: string;
  chainId: string;
  version: string;
  createdAt: Date;
}

/** The rows a run (and its feedback) adds to. */
export function targetsOf(r: RunPlace): Target[] {
  const hour = hourOf(r.createdAt);
  if (r.rolloutId !== null && r.stage !== null && (r.variant === 'control' || r.variant === 'candidate')) {
    return [
      ['rollups', [r.rolloutId, hour, r.stage, r.variant, r.tenantId, r.environment]],
      ['totals', [r.rolloutId, r.stage, r.variant, r.tenantId, r.environment]],
      ['series', [r.rolloutId, 'minute', minuteOf(r.createdAt), r.variant]],
      ['series', [r.rolloutId, 'hour', hour, r.variant]],
      ['series', [r.rolloutId, 'total', EPOCH_ISO, r.variant]],
    ];
  }
  if (r.variant === 'default') {
    return [
      ['defaults', [r.chainId, r.version, r.tenantId, r.environment, hour]],
      ['defaultEnv', [r.chainId, r.version, r.environment, hour]],
    ];
  }
  return [];
}

/**
 * The places of a batch's runs and feedback: runs of a batch share a few (same rollout, arm,
 * tenant, environment, chain version and minute), so deltas are summed per place, then added once
 * to each of the place's target rows.
 */
class Places {
  private readonly map = new Map<string, { targets: Target[]; delta: CountsDelta }>();

  of(r: Omit<RunPlace, 'rolloutId' | 'stage'> & { rolloutId?: string | null; stage?: number | null }): {
    targets: Target[];
    delta: CountsDelta;
  } {
    const minute = Math.floor(r.createdAt.getTime() / 60_000);
    const key = `${r.rolloutId}\u0000${r.stage}\u0000${r.variant}\u0000${r.tenantId}\u0000${r.environment}\u0000${r.chainId}\u0000${r.version}\u0000${minute}`;
    let place = this.map.get(key);
    if (!place) {
      const where: RunPlace = {
        rolloutId: r.rolloutId ?? null,
        stage: r.stage ?? null,
        variant: r.variant,
        tenantId: r.tenantId,
        environment: r.environment,
        chainId: r.chainId,
        version: r.version,
        createdAt: new Date(minute * 60_000),
      };
      this.map.set(key, (place = { targets: targetsOf(where), delta: emptyDelta() }));
    }
    return place;
  }

  all(): Iterable<{ targets: Target[]; delta: CountsDelta }> {
    return this.map.values();
  }
}

export class RolloutReadModel implements ReadModelHooks {
  /**
   * Runs and feedback changes of a batch, summed per place and then per target row, added with one
   * upsert per table (tables in a fixed order, rows sorted: the lock order of every writer).
   */
  async onBatchWritten(tx: Tx, inserted: CountedRunRow[], changes: FeedbackChange[]): Promise<void> {
    const places = new Places();
    const keys: AssignmentKey[] = [];
    for (const r of inserted) {
      const place = places.of(r);
      if (place.targets.length === 0) continue;
      addRun(place.delta, runFactsOf(r), 1, RUN_METRICS);
      if (
        r.rolloutId &&
        r.stage !== null &&
        r.stage !== undefined &&
        r.assignmentKey &&
        (r.variant === 'control' || r.variant === 'candidate')
      ) {
        keys.push({ rolloutId: r.rolloutId, stage: r.stage, variant: r.variant, key: r.assignmentKey, tenantId: r.tenantId });
      }
    }
    for (const { run, before, after } of changes) {
      const place = places.of(run);
      // Feedback on an errored run adds nothing (deltas.ts); re-sent feedback that changes nothing adds zero.
      if (place.targets.length > 0) addFeedbackChange(place.delta, run, before, after, 1, FEEDBACK_METRICS);
    }
    const deltas = new BatchDeltas();
    for (const { targets, delta } of places.all()) {
      if (targets.length > 0 && !isZeroDelta(delta)) deltas.each(targets, (d) => addDelta(d, delta));
    }
    // The assignment keys in the same statement, after the rollups (one round trip per batch).
    await deltas.write(tx, inserted.length === 0 ? FEEDBACK_METRICS : changes.length === 0 ? RUN_METRICS : COUNTED_METRICS, (after) =>
      assignmentKeys(keys, after),
    );
  }

  /** GDPR: the tenant's rows go, and its share of the tenant-less aggregates is subtracted. */
  async onTenantErased(tx: Tx, tenantId: string): Promise<void> {
    await eraseTenantAggregates(tx, tenantId);
  }

  /** Retention: time buckets that ended before `before` go (all-time totals stay). */
  async onRunsExpired(tx: Tx, before: Date): Promise<void> {
    await expireAggregates(tx, before);
  }
}

/**
 * Distinct keys per (rollout, stage, arm): a key stored for the first time (ON CONFLICT DO
 * NOTHING ... RETURNING) bumps its counter. The same statement counts the keys that now have both
 * arms (row `both_arms`, see schema.ts), so that the comparison reads that count instead of
 * grouping every key of the rollout on each call: a key has both arms once its second arm's row
 * is stored, either beside a row stored before (the statement's snapshot holds none of `fresh`)
 * or with its other arm in this same batch (counted once).
 * The other arm is looked up by a scalar subquery (LIMIT 1), one primary-key probe per new key:
 * written as EXISTS, the planner made it a hash semi-join over a sequential scan of every key
 * of every rollout (no estimate of the CTE's rows), 120 ms per 4,000-run batch at 200,000 keys
 * and growing with the table.
 * The CTEs and main part of the statement, its keys inserted once the CTE `after` is done. The
 * keys go as one JSON parameter (no driver array encoding of five columns), duplicates and all:
 * DO NOTHING skips a row proposed twice in one command.
 */
function assignmentKeys(keys: AssignmentKey[], after: string | undefined): StatementTail | undefined {
  if (keys.length === 0) return undefined;
  return {
    ctes: [
      sql`fresh AS (
        INSERT INTO rollout_assignment_keys (rollout_id, stage, variant, key_hash, tenant_id)
        SELECT u."rolloutId", u.stage, u.variant, md5(u.key)::uuid, u."tenantId"
        FROM json_to_recordset(${JSON.stringify(keys)}::json) AS u("rolloutId" uuid, stage int, variant text, key text, "tenantId" text)${sql.raw(afterCte(after))}
        ORDER BY 1, 2, 3, 4
        ON CONFLICT DO NOTHING
        RETURNING rollout_id, stage, variant, key_hash)`,
      sql`both_arms AS (
        SELECT rollout_id, stage, count(*)::int AS keys FROM (
          SELECT f.rollout_id, f.stage FROM fresh f
          WHERE (
            SELECT true FROM rollout_assignment_keys o
            WHERE o.rollout_id = f.rollout_id AND o.stage = f.stage AND o.key_hash = f.key_hash
              AND o.variant = CASE f.variant WHEN 'control' THEN 'candidate' ELSE 'control' END
            LIMIT 1)
          UNION ALL
          SELECT rollout_id, stage FROM fresh GROUP BY rollout_id, stage, key_hash HAVING count(*) > 1) k
        GROUP BY rollout_id, stage)`,
      sql`counted AS (
        SELECT rollout_id, stage, variant, count(*)::int AS keys FROM fresh GROUP BY rollout_id, stage, variant
        UNION ALL
        SELECT rollout_id, stage, ${BOTH_ARMS_VARIANT}::text, keys FROM both_arms)`,
    ],
    main: sql`INSERT INTO rollout_assignment_counts AS c (rollout_id, stage, variant, keys)
      SELECT rollout_id, stage, variant, keys FROM counted ORDER BY rollout_id, stage, variant
      ON CONFLICT (rollout_id, stage, variant) DO UPDATE SET keys = c.keys + excluded.keys`,
  };
}

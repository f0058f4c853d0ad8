/**
 * Runs and feedback in the database: the RunRepository port (src/domain/ports/run-repository.ts).
 * Writes come in batches from the RunWriter and are idempotent (keyed by run id), so replaying the
 * spool after a crash stores each run once. Read models that keep aggregates hook into the same
 * transaction (see ReadModelHooks). Database errors leave as the domain's (refusedAsData).
 */
import { and, desc, eq, gte, inArray, lt, or, sql, type SQL } from 'drizzle-orm';
import { PreviousBatchFailedError } from '../domain/model/errors.js';
import type { Feedback, Run, RunWithFeedback } from '../domain/model/run.js';
import type { BatchPipeline, CountedRun, RunCursor, RunFilters, RunRepository } from '../domain/ports/run-repository.js';
import type { Db } from './db.js';
import { refusedAsData, unavailableAs } from './db-errors.js';
import { jsonArray, jsonArrayBytes, recordsetInsert } from './json-recordset.js';
import { rowsOf } from './read-models/rows.js';
import { feedback, runs } from './schema.js';
import type { FeedbackRow, RunInsert, RunRow } from './schema.js';

export type { BatchPipeline, RunCursor, RunFilters } from '../domain/ports/run-repository.js';
export { PreviousBatchFailedError } from '../domain/model/errors.js';

export type FeedbackInsert = typeof feedback.$inferInsert;

/*
 * Row converters. The table's columns are typed with the domain's types (schema.ts), so a row is
 * a Run as it is (and a Run is a row to insert: `implements RunRepository` checks that): these
 * are compile-time checks more than copies, and cost the read path nothing.
 */
const toRun = (row: RunRow): Run => row;
const toFeedback = (row: FeedbackRow): Feedback => row;
const withFeedback = (row: { runs: RunRow; feedback: FeedbackRow | null }): RunWithFeedback => ({
  ...toRun(row.runs),
  feedback: row.feedback && toFeedback(row.feedback),
});

/**
 * A run as a feedback change needs it for aggregates: where it counts, and whether it errored (a
 * fallback has an output and can be reviewed, but counts as an error, not as reviewed).
 */
export type RunKeyFields = Pick<
  RunRow,
  'id' | 'rolloutId' | 'stage' | 'variant' | 'tenantId' | 'environment' | 'createdAt' | 'chainId' | 'version'
> & {
  errored: boolean;
};

export interface FeedbackChange {
  run: RunKeyFields;
  before?: Pick<FeedbackRow, 'overridden' | 'fields'>;
  after: Pick<FeedbackRow, 'overridden' | 'fields'>;
}

export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** Aggregates kept in step with runs and feedback, inside the writing transaction. */
export interface ReadModelHooks {
  /**
   * A batch is written: the runs it newly inserted and its feedback changes (before → after), in
   * one call, so that a read model adds both to each aggregate row with one statement per table.
   */
  onBatchWritten(tx: Tx, inserted: CountedRunRow[], changes: FeedbackChange[]): Promise<void>;
  /** GDPR erasure of a tenant, before its runs and feedback are deleted (same transaction). */
  onTenantErased?(tx: Tx, tenantId: string): Promise<void>;
  /** Retention: runs created before `before` are about to be deleted (same transaction). */
  onRunsExpired?(tx: Tx, before: Date): Promise<void>;
}

/** A run as the read models count it (the port's CountedRun), or a row with those columns. */
export type CountedRunRow = Pick<RunInsert, keyof CountedRun>;

/**
 * A batch as this store takes it: the port's RecordBatch, or rows as the table takes them (the
 * store's own tests and the bench write sparse rows and let the columns' defaults fill in).
 */
export type RecordBatch =
  | { runs: CountedRunRow[]; runJson: string[]; feedback: FeedbackInsert[] }
  | { runs: RunInsert[]; runJson?: undefined; feedback: FeedbackInsert[] };

const insertRuns = recordsetInsert(runs);
const insertFeedback = recordsetInsert(feedback);
const FEEDBACK_UPSERT =
  'ON CONFLICT (run_id) DO UPDATE SET overridden = excluded.overridden, fields = excluded.fields, reviewer = excluded.reviewer, at = excluded.at, corrections = excluded.corrections, tracked = excluded.tracked, counted_fields = excluded.counted_fields';

export interface RunStoreOptions {
  /**
   * Sends a batch's runs as one UTF-8 buffer instead of one string (jsonArrayBytes): node-postgres
   * takes it, PGlite does not.
   */
  batchJsonAsBytes?: boolean;
}

export class RunStore implements RunRepository {
  private readonly batchJson: (items: readonly string[]) => string | Uint8Array;

  constructor(
    private readonly db: Db,
    private readonly hooks?: ReadModelHooks,
    opts: RunStoreOptions = {},
  ) {
    this.batchJson = opts.batchJsonAsBytes ? jsonArrayBytes : jsonArray;
  }

  /** Stores a batch; runs already stored are skipped, feedback replaces earlier feedback. */
  async writeBatch(batch: RecordBatch, pipeline: BatchPipeline = {}): Promise<void> {
    try {
      await this.db.transaction(async (tx) => {
        const inserted =
          batch.runs.length > 0 ? await this.insertRuns(tx, batch.runs, batch.runJson ?? batch.runs.map((r) => JSON.stringify(r))) : [];
        pipeline.runsInserted?.();
        if (pipeline.after) await pipeline.after.then(undefined, (err: unknown) => Promise.reject(new PreviousBatchFailedError(err)));
        const changes = batch.feedback.length > 0 ? await this.writeFeedback(tx, batch.feedback) : [];
        if (inserted.length > 0 || changes.length > 0) await this.hooks?.onBatchWritten(tx, inserted, changes);
      });
    } catch (err) {
      throw refusedAsData(err);
    }
  }

  /** Inserts the runs not stored yet and returns them: only those reach the read models, so a replayed run is counted once. */
  private async insertRuns(tx: Tx, list: CountedRunRow[], json: string[]): Promise<CountedRunRow[]> {
    if (!this.hooks) {
      await tx.execute(insertRuns(this.batchJson(json), 'ON CONFLICT DO NOTHING'));
      return [];
    }
    const ids = rowsOf<{ id: string }>(await tx.execute(insertRuns(this.batchJson(json), 'ON CONFLICT DO NOTHING RETURNING id')));
    if (ids.length === list.length) return list;
    const fresh = new Set(ids.map((r) => r.id));
    return list.filter((r) => fresh.delete(r.id));
  }

  /** Upserts the feedback; returns its changes for the read models (none without them). */
  private async writeFeedback(tx: Tx, items: FeedbackInsert[]): Promise<FeedbackChange[]> {
    // Last received wins within the batch too.
    const latest = new Map<string, FeedbackInsert>();
    for (const f of items) latest.set(f.runId, f);
    // In run id order, as `prev` locks them: two replicas upserting feedback on the same runs
    // take the rows' locks in one order and cannot deadlock.
    const list = [...latest.values()].sort((a, b) => (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0));
    const json = JSON.stringify(list);
    if (!this.hooks) {
      await tx.execute(insertFeedback(json, FEEDBACK_UPSERT));
      return [];
    }
    const found = await upsertFeedbackLookingUp(tx, [...latest.keys()], json);
    const changes: FeedbackChange[] = [];
    for (const f of list) {
      const hit = found.get(f.runId);
      if (!hit) continue; // the run was erased (GDPR) meanwhile
      changes.push({
        run: hit.run,
        before: hit.before,
        // The read models count the fields as folded at feedback time (`$other`), never the raw names.
        after: { overridden: f.overridden, fields: f.countedFields ?? f.fields },
      });
    }
    return changes;
  }

  /** Throws DatabaseUnavailableError when the database is away (feedback falls back on recent runs). */
  async getRun(id: string): Promise<RunWithFeedback | undefined> {
    let rows;
    try {
      rows = await this.db.select().from(runs).leftJoin(feedback, eq(feedback.runId, runs.id)).where(eq(runs.id, id));
    } catch (err) {
      throw unavailableAs(err);
    }
    const row = rows[0];
    return row ? withFeedback(row) : undefined;
  }

  async latestByExternalId(chainId: string, externalId: string, tenantId?: string): Promise<Run | undefined> {
    const conds = [eq(runs.chainId, chainId), eq(runs.externalId, externalId)];
    if (tenantId !== undefined) conds.push(eq(runs.tenantId, tenantId));
    const [row] = await this.db
      .select()
      .from(runs)
      .where(and(...conds))
      .orderBy(desc(runs.createdAt), desc(runs.id))
      .limit(1);
    return row && toRun(row);
  }

  /** Throws DatabaseUnavailableError when the database is away (the invoke goes on without it). */
  async byIdempotencyKey(tenantId: string, chainId: string, key: string): Promise<Run | undefined> {
    try {
      const [row] = await this.db
        .select()
        .from(runs)
        .where(and(eq(runs.tenantId, tenantId), eq(runs.chainId, chainId), eq(runs.idempotencyKey, key)));
      return row && toRun(row);
    } catch (err) {
      throw unavailableAs(err);
    }
  }

  /** Newest first, keyset-paged on (createdAt, id). */
  async listRuns(filters: RunFilters, limit: number, cursor?: RunCursor): Promise<RunWithFeedback[]> {
    const conds: SQL[] = [];
    if (filters.chain !== undefined) conds.push(eq(runs.chainId, filters.chain));
    if (filters.tenant !== undefined) conds.push(eq(runs.tenantId, filters.tenant));
    if (filters.environment !== undefined) conds.push(eq(runs.environment, filters.environment));
    if (filters.variant !== undefined) conds.push(eq(runs.variant, filters.variant));
    if (typeof filters.externalId === 'string') conds.push(eq(runs.externalId, filters.externalId));
    else if (filters.externalId !== undefined) conds.push(inArray(runs.externalId, [...filters.externalId]));
    if (filters.rolloutId !== undefined) conds.push(eq(runs.rolloutId, filters.rolloutId));
    if (filters.from !== undefined) conds.push(gte(runs.createdAt, filters.from));
    if (filters.to !== undefined) conds.push(lt(runs.createdAt, filters.to));
    if (filters.overridden !== undefined) conds.push(eq(feedback.overridden, filters.overridden));
    if (cursor) {
      conds.push(or(lt(runs.createdAt, cursor.createdAt), and(eq(runs.createdAt, cursor.createdAt), lt(runs.id, cursor.id)))!);
    }
    const rows = await this.db
      .select()
      .from(runs)
      .leftJoin(feedback, eq(feedback.runId, runs.id))
      .where(conds.length ? and(...conds) : undefined)
      .orderBy(desc(runs.createdAt), desc(runs.id))
      .limit(limit);
    return rows.map(withFeedback);
  }

  /** GDPR erasure of one tenant's runs and their feedback. */
  async eraseTenant(tenantId: string): Promise<number> {
    return this.db.transaction(async (tx) => {
      await this.hooks?.onTenantErased?.(tx, tenantId);
      await tx.execute(sql`DELETE FROM feedback f USING runs r WHERE f.run_id = r.id AND r.tenant_id = ${tenantId}`);
      const deleted = await tx.delete(runs).where(eq(runs.tenantId, tenantId)).returning({ id: runs.id });
      return deleted.length;
    });
  }

  async hasTenantRunsBefore(tenantId: string, before: Date): Promise<boolean> {
    const rows = await this.db
      .select({ id: runs.id })
      .from(runs)
      .where(and(eq(runs.tenantId, tenantId), lt(runs.createdAt, before)))
      .limit(1);
    return rows.length > 0;
  }

  /** Retention: deletes runs (and their feedback) created before `before`. */
  async deleteOlderThan(before: Date): Promise<number> {
    return this.db.transaction(async (tx) => {
      await this.hooks?.onRunsExpired?.(tx, before);
      await tx.execute(sql`DELETE FROM feedback f USING runs r WHERE f.run_id = r.id AND r.created_at < ${before}`);
      const deleted = await tx.delete(runs).where(lt(runs.createdAt, before)).returning({ id: runs.id });
      return deleted.length;
    });
  }
}

/**
 * Upserts a batch's feedback and returns the runs it is for, with the feedback each had, in one
 * statement (one round trip on the writer's critical path): `prev` locks the earlier feedback
 * until commit (so that concurrent feedback on one run counts its change once) and is read,
 * with the runs, before the upsert runs (a one-time InitPlan on `found`), the way a queue's
 * `SELECT ... FOR UPDATE` CTE feeds an UPDATE. One array parameter rather than an IN list of a
 * parameter per id. The feedback's fields as the read models count them (`$other` folded:
 * src/domain/overrides/counted-fields.ts). created_at comes as epoch milliseconds, which both
 * drivers read as a number (runs are created with millisecond times).
 */
async function upsertFeedbackLookingUp(
  tx: Tx,
  runIds: string[],
  json: string,
): Promise<Map<string, { run: RunKeyFields; before?: FeedbackChange['before'] }>> {
  const ids = sql.param(runIds);
  const rows = rowsOf<{
    id: string;
    rollout_id: string | null;
    stage: number | null;
    variant: RunRow['variant'];
    tenant_id: string;
    environment: string;
    created_ms: number | string;
    chain_id: string;
    version: string;
    errored: boolean;
    had: boolean;
    overridden: boolean | null;
    fields: unknown;
  }>(
    await tx.execute(sql`
      WITH prev AS MATERIALIZED (
        SELECT run_id, overridden, coalesce(counted_fields, fields) AS fields FROM feedback
        WHERE run_id = ANY(${ids}::uuid[]) ORDER BY run_id FOR UPDATE),
      found AS MATERIALIZED (
        SELECT r.id, r.rollout_id, r.stage, r.variant, r.tenant_id, r.environment,
               (extract(epoch FROM r.created_at) * 1000)::float8 AS created_ms, r.chain_id, r.version,
               r.error IS NOT NULL AS errored, p.run_id IS NOT NULL AS had, p.overridden, p.fields
        FROM runs r LEFT JOIN prev p ON p.run_id = r.id
        WHERE r.id = ANY(${ids}::uuid[])),
      upserted AS (${insertFeedback(json, `WHERE (SELECT count(*) FROM found) >= 0 ${FEEDBACK_UPSERT}`)})
      SELECT * FROM found`),
  );
  const out = new Map<string, { run: RunKeyFields; before?: FeedbackChange['before'] }>();
  for (const r of rows) {
    out.set(r.id, {
      run: {
        id: r.id,
        rolloutId: r.rollout_id,
        stage: r.stage === null ? null : Number(r.stage),
        variant: r.variant,
        tenantId: r.tenant_id,
        environment: r.environment,
        createdAt: new Date(Number(r.created_ms)),
        chainId: r.chain_id,
        version: r.version,
        errored: r.errored,
      },
      before: r.had ? { overridden: r.overridden === true, fields: jsonValue<string[]>(r.fields) } : undefined,
    });
  }
  return out;
}

/** A jsonb column as either driver returns it (parsed, or as its text). */
const jsonValue = <T>(v: unknown): T => (typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));

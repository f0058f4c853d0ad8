/**
 * Runs and feedback in the database. Writes come in batches from the RunWriter and are
 * idempotent (keyed by run id), so replaying the spool after a crash stores each run once.
 * Read models that keep aggregates hook into the same transaction (see ReadModelHooks).
 */
import { and, desc, eq, gte, lt, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from './db.js';
import { jsonArray, recordsetInsert } from './json-recordset.js';
import { rowsOf } from './read-models/rows.js';
import { feedback, runs } from './schema.js';
import type { FeedbackRow, RunInsert, RunRow } from './schema.js';

export type FeedbackInsert = typeof feedback.$inferInsert;

/**
 * A run as a feedback change needs it for aggregates: where it counts, and whether it errored (a
 * fallback has an output and can be reviewed, but counts as an error, not as reviewed).
 */
export type RunKeyFields = Pick<RunRow, 'id' | 'rolloutId' | 'stage' | 'variant' | 'tenantId' | 'environment' | 'createdAt' | 'chainId' | 'version'> & {
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
  onRunsInserted(tx: Tx, inserted: RunInsert[]): Promise<void>;
  onFeedbackChanged(tx: Tx, changes: FeedbackChange[]): Promise<void>;
  /** GDPR erasure of a tenant, before its runs and feedback are deleted (same transaction). */
  onTenantErased?(tx: Tx, tenantId: string): Promise<void>;
  /** Retention: runs created before `before` are about to be deleted (same transaction). */
  onRunsExpired?(tx: Tx, before: Date): Promise<void>;
}

export interface RunFilters {
  chain?: string;
  tenant?: string;
  environment?: string;
  variant?: string;
  overridden?: boolean;
  externalId?: string;
  from?: Date;
  to?: Date;
  rolloutId?: string;
}

export interface RunCursor {
  createdAt: Date;
  id: string;
}

export type RunWithFeedback = RunRow & { feedback: FeedbackRow | null };

/**
 * How a batch takes part in the writer's pipeline (RunWriter): the next batch inserts its runs
 * while this one updates the read models, and waits for this one's commit before its own read
 * models and feedback, so it sees this batch's runs and counts nothing twice.
 */
export interface BatchPipeline {
  /** Called once the batch's runs are inserted (its transaction still open). */
  runsInserted?: () => void;
  /** The previous batch's transaction: awaited after the runs insert; its failure aborts this batch. */
  after?: Promise<unknown>;
}

/** A batch for writeBatch. */
export interface RecordBatch {
  runs: RunInsert[];
  feedback: FeedbackInsert[];
  /** JSON.stringify of each run, when the caller has it already (the spool's line): not encoded twice. */
  runJson?: string[];
}

/** A pipelined batch rolled back because the batch before it did not commit; it is retried after it. */
export class PreviousBatchFailedError extends Error {
  constructor(readonly previous: unknown) {
    super('the previous batch did not commit');
  }
}

const insertRuns = recordsetInsert(runs);
const insertFeedback = recordsetInsert(feedback);
const FEEDBACK_UPSERT =
  'ON CONFLICT (run_id) DO UPDATE SET overridden = excluded.overridden, fields = excluded.fields, reviewer = excluded.reviewer, at = excluded.at, corrections = excluded.corrections, tracked = excluded.tracked';

export class RunStore {
  constructor(
    private readonly db: Db,
    private readonly hooks?: ReadModelHooks,
  ) {}

  /** Stores a batch; runs already stored are skipped, feedback replaces earlier feedback. */
  async writeBatch(batch: RecordBatch, pipeline: BatchPipeline = {}): Promise<void> {
    await this.db.transaction(async (tx) => {
      const inserted = batch.runs.length > 0 ? await this.insertRuns(tx, batch.runs, batch.runJson ?? batch.runs.map((r) => JSON.stringify(r))) : [];
      pipeline.runsInserted?.();
      if (pipeline.after) await pipeline.after.then(undefined, (err: unknown) => Promise.reject(new PreviousBatchFailedError(err)));
      if (inserted.length > 0) await this.hooks?.onRunsInserted(tx, inserted);
      if (batch.feedback.length > 0) await this.writeFeedback(tx, batch.feedback);
    });
  }

  /** Inserts the runs not stored yet and returns them: only those reach the read models, so a replayed run is counted once. */
  private async insertRuns(tx: Tx, list: RunInsert[], json: string[]): Promise<RunInsert[]> {
    if (!this.hooks) {
      await tx.execute(insertRuns(jsonArray(json), 'ON CONFLICT DO NOTHING'));
      return [];
    }
    const ids = rowsOf<{ id: string }>(await tx.execute(insertRuns(jsonArray(json), 'ON CONFLICT DO NOTHING RETURNING id')));
    if (ids.length === list.length) return list;
    const fresh = new Set(ids.map((r) => r.id));
    return list.filter((r) => fresh.delete(r.id));
  }

  private async writeFeedback(tx: Tx, items: FeedbackInsert[]): Promise<void> {
    // Last received wins within the batch too.
    const latest = new Map<string, FeedbackInsert>();
    for (const f of items) latest.set(f.runId, f);
    const list = [...latest.values()];
    const ids = list.map((f) => f.runId);
    const before = new Map<string, FeedbackRow>();
    const keyFields = new Map<string, RunKeyFields>();
    if (this.hooks) {
      // One array parameter rather than an IN list of a parameter per id.
      const idList = sql.param(ids);
      const prev = await tx.select().from(feedback).where(sql`${feedback.runId} = ANY(${idList}::uuid[])`).for('update');
      for (const p of prev) before.set(p.runId, p);
      const rs = await tx
        .select({
          id: runs.id,
          rolloutId: runs.rolloutId,
          stage: runs.stage,
          variant: runs.variant,
          tenantId: runs.tenantId,
          environment: runs.environment,
          createdAt: runs.createdAt,
          chainId: runs.chainId,
          version: runs.version,
          errored: sql<boolean>`${runs.error} IS NOT NULL`,
        })
        .from(runs)
        .where(sql`${runs.id} = ANY(${idList}::uuid[])`);
      for (const r of rs) keyFields.set(r.id, r);
    }
    await tx.execute(insertFeedback(JSON.stringify(list), FEEDBACK_UPSERT));
    if (this.hooks) {
      const changes: FeedbackChange[] = [];
      for (const f of list) {
        const run = keyFields.get(f.runId);
        if (!run) continue; // the run was erased (GDPR) meanwhile
        const prev = before.get(f.runId);
        changes.push({ run, before: prev ? { overridden: prev.overridden, fields: prev.fields } : undefined, after: { overridden: f.overridden, fields: f.fields } });
      }
      if (changes.length > 0) await this.hooks.onFeedbackChanged(tx, changes);
    }
  }

  async getRun(id: string): Promise<RunWithFeedback | undefined> {
    const rows = await this.db.select().from(runs).leftJoin(feedback, eq(feedback.runId, runs.id)).where(eq(runs.id, id));
    const row = rows[0];
    return row ? { ...row.runs, feedback: row.feedback } : undefined;
  }

  async latestByExternalId(chainId: string, externalId: string, tenantId?: string): Promise<RunRow | undefined> {
    const conds = [eq(runs.chainId, chainId), eq(runs.externalId, externalId)];
    if (tenantId !== undefined) conds.push(eq(runs.tenantId, tenantId));
    const [row] = await this.db
      .select()
      .from(runs)
      .where(and(...conds))
      .orderBy(desc(runs.createdAt), desc(runs.id))
      .limit(1);
    return row;
  }

  async byIdempotencyKey(tenantId: string, key: string): Promise<RunRow | undefined> {
    const [row] = await this.db
      .select()
      .from(runs)
      .where(and(eq(runs.tenantId, tenantId), eq(runs.idempotencyKey, key)));
    return row;
  }

  /** Newest first, keyset-paged on (createdAt, id). */
  async listRuns(filters: RunFilters, limit: number, cursor?: RunCursor): Promise<RunWithFeedback[]> {
    const conds: SQL[] = [];
    if (filters.chain !== undefined) conds.push(eq(runs.chainId, filters.chain));
    if (filters.tenant !== undefined) conds.push(eq(runs.tenantId, filters.tenant));
    if (filters.environment !== undefined) conds.push(eq(runs.environment, filters.environment));
    if (filters.variant !== undefined) conds.push(eq(runs.variant, filters.variant));
    if (filters.externalId !== undefined) conds.push(eq(runs.externalId, filters.externalId));
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
    return rows.map((r) => ({ ...r.runs, feedback: r.feedback }));
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

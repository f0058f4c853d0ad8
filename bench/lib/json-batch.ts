/**
 * The batch insert proposed for src/store/run-store.ts, measured here before anyone changes src:
 * one statement per table per batch whose single parameter is the JSON of the whole batch,
 * unpacked by PostgreSQL (`json_to_recordset`), instead of drizzle's multi-row VALUES with one
 * bound parameter per value. The profile shows drizzle building a 1,000-row runs insert (23,000
 * parameters, an `is()` prototype walk per chunk) costs ~0.2-0.3 ms of the gateway's main thread
 * per run; JSON.stringify of the batch costs a few microseconds per run. The SQL text is built once
 * from the drizzle table, so it follows the schema. Works the same on node-postgres and PGlite.
 *
 * `patchRunStore()` swaps RunStore.prototype.writeBatch for this one (same transaction, same
 * read-model hooks, same idempotency: ON CONFLICT DO NOTHING for runs, last-wins upsert for
 * feedback); the bench uses it only when BENCH_PATCH=json-batch.
 */
import { getTableColumns, inArray, sql, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { RunStore, type FeedbackChange, type FeedbackInsert, type ReadModelHooks, type RunKeyFields, type Tx } from '../../src/store/run-store.js';
import { feedback, runs, type FeedbackRow, type RunInsert } from '../../src/store/schema.js';

function recordset(table: PgTable): { columns: string; select: string; from: string } {
  const cols = Object.entries(getTableColumns(table)) as [string, PgColumn][];
  const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
  return {
    columns: cols.map(([, c]) => q(c.name)).join(', '),
    select: cols
      .map(([key, c]) => {
        const d = (c as unknown as { default?: unknown }).default;
        return typeof d === 'boolean' || typeof d === 'number' ? `COALESCE(x.${q(key)}, ${String(d)})` : `x.${q(key)}`;
      })
      .join(', '),
    from: `json_to_recordset($1::json) AS x(${cols.map(([key, c]) => `${q(key)} ${c.getSQLType()}`).join(', ')})`,
  };
}

const R = recordset(runs);
const F = recordset(feedback);
const INSERT_RUNS = `INSERT INTO runs (${R.columns}) SELECT ${R.select} FROM ${R.from} ON CONFLICT DO NOTHING`;
const UPSERT_FEEDBACK =
  `INSERT INTO feedback (${F.columns}) SELECT ${F.select} FROM ${F.from} ON CONFLICT (run_id) DO UPDATE SET ` +
  'overridden = excluded.overridden, fields = excluded.fields, reviewer = excluded.reviewer, at = excluded.at';

/** `$1` bound to one JSON text: drizzle's sql with a single Param. */
function withJson(text: string, json: string, returning = ''): SQL {
  const [head, tail] = text.split('$1');
  return sql.join([sql.raw(head!), sql.param(json), sql.raw(tail! + returning)]);
}

export async function jsonWriteBatch(tx: Tx, hooks: ReadModelHooks | undefined, batch: { runs: RunInsert[]; feedback: FeedbackInsert[] }): Promise<void> {
  if (batch.runs.length > 0) {
    if (hooks) {
      const res = (await tx.execute(withJson(INSERT_RUNS, JSON.stringify(batch.runs), ' RETURNING id'))) as unknown as { rows: { id: string }[] };
      const fresh = new Set(res.rows.map((r) => r.id));
      const inserted = batch.runs.filter((r) => fresh.has(r.id));
      if (inserted.length > 0) await hooks.onRunsInserted(tx, inserted);
    } else {
      await tx.execute(withJson(INSERT_RUNS, JSON.stringify(batch.runs)));
    }
  }
  await writeFeedbackJson(tx, hooks, batch.feedback);
}

/** Feedback of a batch: last received wins, the read models told of each change (as RunStore does). */
export async function writeFeedbackJson(tx: Tx, hooks: ReadModelHooks | undefined, items: FeedbackInsert[]): Promise<void> {
  if (items.length === 0) return;
  const latest = new Map<string, FeedbackInsert>();
  for (const f of items) latest.set(f.runId, f);
  const list = [...latest.values()];
  if (!hooks) {
    await tx.execute(withJson(UPSERT_FEEDBACK, JSON.stringify(list)));
    return;
  }
  const ids = list.map((f) => f.runId);
  const before = new Map<string, FeedbackRow>();
  for (const p of await tx.select().from(feedback).where(inArray(feedback.runId, ids)).for('update')) before.set(p.runId, p);
  const keyFields = new Map<string, RunKeyFields>();
  const rs = await tx
    .select({ id: runs.id, rolloutId: runs.rolloutId, stage: runs.stage, variant: runs.variant, tenantId: runs.tenantId, environment: runs.environment, createdAt: runs.createdAt, chainId: runs.chainId })
    .from(runs)
    .where(inArray(runs.id, ids));
  for (const r of rs) keyFields.set(r.id, r);
  await tx.execute(withJson(UPSERT_FEEDBACK, JSON.stringify(list)));
  const changes: FeedbackChange[] = [];
  for (const f of list) {
    const run = keyFields.get(f.runId);
    if (!run) continue;
    const prev = before.get(f.runId);
    changes.push({ run, before: prev ? { overridden: prev.overridden, fields: prev.fields } : undefined, after: { overridden: f.overridden, fields: f.fields } });
  }
  if (changes.length > 0) await hooks.onFeedbackChanged(tx, changes);
}

/** Replaces RunStore.prototype.writeBatch with the JSON batch insert (bench only). */
export function patchRunStore(): void {
  RunStore.prototype.writeBatch = async function (this: RunStore, batch: { runs: RunInsert[]; feedback: FeedbackInsert[] }) {
    const self = this as unknown as { db: { transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> }; hooks?: ReadModelHooks };
    await self.db.transaction((tx) => jsonWriteBatch(tx, self.hooks, batch));
  };
}

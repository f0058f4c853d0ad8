/**
 * The other batch insert measured for src/store/run-store.ts (PostgreSQL only): the batch's runs
 * go by COPY ... FROM STDIN into a temporary staging table (created once per connection, emptied
 * at commit), then one INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING id moves them into
 * runs, which keeps writes idempotent for spool replays. COPY's text format is the cheapest way
 * into PostgreSQL on both sides (no per-value parameters, no JSON to parse per row). Feedback goes
 * as in lib/json-batch.ts. PGlite would need its own path (COPY FROM '/dev/blob').
 *
 * `patchRunStoreCopy()` swaps RunStore.prototype.writeBatch (bench only: BENCH_PATCH=copy-batch).
 */
import { getTableColumns, sql } from 'drizzle-orm';
import type pg from 'pg';
import { RunStore, type FeedbackInsert, type ReadModelHooks, type Tx } from '../../src/store/run-store.js';
import { runs, type RunInsert } from '../../src/store/schema.js';
import { writeFeedbackJson } from './json-batch.js';
import { copyRows } from './pg-copy.js';

const COLUMNS = Object.entries(getTableColumns(runs)).map(([key, c]) => ({ key: key as keyof RunInsert, name: c.name }));
const NAMES = COLUMNS.map((c) => `"${c.name}"`).join(', ');
const staged = new WeakSet<object>();

export async function copyWriteBatch(tx: Tx, hooks: ReadModelHooks | undefined, batch: { runs: RunInsert[]; feedback: FeedbackInsert[] }): Promise<void> {
  if (batch.runs.length > 0) {
    const client = (tx as unknown as { session: { client: pg.Client } }).session.client;
    if (!staged.has(client)) {
      await client.query('CREATE TEMP TABLE IF NOT EXISTS runs_stage (LIKE runs INCLUDING DEFAULTS) ON COMMIT DELETE ROWS');
      staged.add(client);
    }
    await copyRows(client, 'runs_stage', COLUMNS.map((c) => c.name), batch.runs.map((r) => COLUMNS.map((c) => (c.key === 'fallback' ? (r.fallback ?? false) : r[c.key]))));
    const moved = await tx.execute(sql.raw(`INSERT INTO runs (${NAMES}) SELECT ${NAMES} FROM runs_stage ON CONFLICT DO NOTHING${hooks ? ' RETURNING id' : ''}`));
    if (hooks) {
      const fresh = new Set((moved as unknown as { rows: { id: string }[] }).rows.map((r) => r.id));
      const inserted = batch.runs.filter((r) => fresh.has(r.id));
      if (inserted.length > 0) await hooks.onRunsInserted(tx, inserted);
    }
  }
  await writeFeedbackJson(tx, hooks, batch.feedback);
}

export function patchRunStoreCopy(): void {
  RunStore.prototype.writeBatch = async function (this: RunStore, batch: { runs: RunInsert[]; feedback: FeedbackInsert[] }) {
    const self = this as unknown as { db: { transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> }; hooks?: ReadModelHooks };
    await self.db.transaction((tx) => copyWriteBatch(tx, self.hooks, batch));
  };
}

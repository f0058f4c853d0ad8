/**
 * An alternative to RunStore's runs insert (json_to_recordset), measured here (PostgreSQL only):
 * the batch's runs go by COPY ... FROM STDIN into a temporary staging table (created once per
 * connection, emptied at commit), then one INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING
 * id moves them into runs, which keeps writes idempotent for spool replays. Feedback goes through
 * RunStore as usual. PGlite would need its own path (COPY FROM '/dev/blob').
 *
 * `patchRunStoreCopy()` swaps RunStore's runs insert (bench only: ingestion mode `copy`).
 */
import { getTableColumns, sql } from 'drizzle-orm';
import type pg from 'pg';
import { RunStore, type ReadModelHooks, type Tx } from '../../src/store/run-store.js';
import { runs, type RunInsert } from '../../src/store/schema.js';
import { copyRows } from './pg-copy.js';

const COLUMNS = Object.entries(getTableColumns(runs)).map(([key, c]) => ({ key: key as keyof RunInsert, name: c.name }));
const NAMES = COLUMNS.map((c) => `"${c.name}"`).join(', ');
const staged = new WeakSet<object>();

async function copyRuns(tx: Tx, hooks: ReadModelHooks | undefined, list: RunInsert[]): Promise<RunInsert[]> {
  const client = (tx as unknown as { session: { client: pg.Client } }).session.client;
  if (!staged.has(client)) {
    await client.query('CREATE TEMP TABLE IF NOT EXISTS runs_stage (LIKE runs INCLUDING DEFAULTS) ON COMMIT DELETE ROWS');
    staged.add(client);
  }
  await copyRows(
    client,
    'runs_stage',
    COLUMNS.map((c) => c.name),
    list.map((r) => COLUMNS.map((c) => (c.key === 'fallback' ? (r.fallback ?? false) : r[c.key]))),
  );
  const moved = await tx.execute(
    sql.raw(`INSERT INTO runs (${NAMES}) SELECT ${NAMES} FROM runs_stage ON CONFLICT DO NOTHING${hooks ? ' RETURNING id' : ''}`),
  );
  if (!hooks) return [];
  const fresh = new Set((moved as { rows: { id: string }[] }).rows.map((r) => r.id));
  return list.filter((r) => fresh.delete(r.id));
}

/** Swaps RunStore's runs insert (it returns the runs newly inserted, for the read models). */
export function patchRunStoreCopy(): void {
  const proto = RunStore.prototype as unknown as {
    insertRuns: (this: { hooks?: ReadModelHooks }, tx: Tx, list: RunInsert[]) => Promise<RunInsert[]>;
  };
  proto.insertRuns = function (tx, list) {
    return copyRuns(tx, this.hooks, list);
  };
}

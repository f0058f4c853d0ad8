/**
 * Batch inserts whose one bound parameter is the JSON of the whole batch, unpacked by PostgreSQL
 * (`json_to_recordset`), instead of a multi-row VALUES with a parameter per value. Building a
 * 1,000-row VALUES insert (23,000 parameters) cost the gateway's event loop ~80 µs per run and
 * PostgreSQL 137 µs per run to bind and plan; one JSON text costs neither (bench/README.md).
 * The statement text is built once from the drizzle table, so it follows the schema; it runs the
 * same on node-postgres and PGlite.
 *
 * The records' JSON is their JSON.stringify (keys are the table's property names, dates ISO
 * strings), so the spool's line and the insert share one encoding of a run.
 */
import { getTableColumns, getTableName, sql, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * `INSERT INTO t (cols) SELECT ... FROM json_to_recordset(<json>)` for the table: a function of
 * the batch's JSON array text and the statement's tail (ON CONFLICT ..., RETURNING ...).
 */
export function recordsetInsert(table: PgTable): (json: string, tail: string) => SQL {
  const cols = Object.entries(getTableColumns(table)) as [string, PgColumn][];
  const select = cols.map(([key, c]) => {
    // An absent key is NULL in the recordset; a column with a literal default takes it (as a
    // VALUES insert would with DEFAULT). Columns with SQL defaults are always set by our code.
    const d = (c as unknown as { default?: unknown }).default;
    return typeof d === 'boolean' || typeof d === 'number' ? `COALESCE(x.${quote(key)}, ${String(d)})` : `x.${quote(key)}`;
  });
  const shape = cols.map(([key, c]) => `${quote(key)} ${c.getSQLType()}`);
  const head = sql.raw(
    `INSERT INTO ${quote(getTableName(table))} (${cols.map(([, c]) => quote(c.name)).join(', ')}) SELECT ${select.join(', ')} FROM json_to_recordset(`,
  );
  const shapeSql = sql.raw(`) AS x(${shape.join(', ')}) `);
  return (json, tail) => sql.join([head, sql`${json}::json`, shapeSql, sql.raw(tail)]);
}

/** `[a,b,...]` of JSON texts. */
export function jsonArray(items: readonly string[]): string {
  return '[' + items.join(',') + ']';
}

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
export function recordsetInsert(table: PgTable): (json: string | Uint8Array, tail: string) => SQL {
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

/**
 * The same array as UTF-8 bytes, each text written straight into one buffer outside the V8 heap.
 * node-postgres sends a Buffer as a binary parameter, and json's binary form is its text, so the
 * insert takes it as it takes the string. The string, by contrast, is built on the heap twice (the
 * join, then node-postgres's flattening of `'[' + … + ']'`) and held while the insert is under way,
 * long enough on a busy gateway to outlive a young-generation collection or two: about 1 KB per run
 * copied and promoted (bench/README.md). PGlite takes the string only.
 */
export function jsonArrayBytes(items: readonly string[]): Buffer {
  let size = 2 + Math.max(0, items.length - 1);
  for (const item of items) size += Buffer.byteLength(item);
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  out[at++] = 0x5b; // [
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out[at++] = 0x2c; // ,
    at += out.write(items[i]!, at);
  }
  out[at] = 0x5d; // ]
  return out;
}

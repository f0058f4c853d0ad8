/**
 * The messages between the gateway's thread and the embedded database's worker thread
 * (pglite-proxy.ts ↔ pglite-worker.ts). Everything in them survives structured cloning: SQL,
 * parameters, rows, and errors as plain fields.
 */

/** Query options that can cross a thread: parsers become the list of types to leave as text. */
export interface WireQueryOptions {
  rowMode?: 'array' | 'object';
  /** Type OIDs whose values stay as PostgreSQL's text (drizzle's identity parsers). */
  rawTypes?: number[];
}

export type WorkerRequest =
  | { id: number; op: 'query'; sql: string; params: unknown[]; options: WireQueryOptions; tx?: number }
  | { id: number; op: 'begin' }
  | { id: number; op: 'end'; tx: number; commit: boolean }
  | { id: number; op: 'close' };

/** A database error as its fields (SQLSTATE `code`, `detail`, `constraint`...), for db-errors.ts. */
export interface WireError {
  message: string;
  name: string;
  fields: Record<string, string | number>;
}

export type WorkerReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WireError };

/** The first message of a worker: opened (or the error that stopped it). */
export type WorkerHello = { ready: true } | { ready: false; error: WireError };

export function toWireError(err: unknown): WireError {
  const e = err instanceof Error ? err : new Error(String(err));
  const fields: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(e)) if (typeof v === 'string' || typeof v === 'number') fields[k] = v;
  return { message: e.message, name: e.name, fields };
}

export function fromWireError(w: WireError): Error {
  const e = new Error(w.message);
  e.name = w.name;
  return Object.assign(e, w.fields);
}

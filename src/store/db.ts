/**
 * The database factory: node-postgres when DATABASE_URL is set, PGlite in DATA_DIR when not.
 * Both speak PostgreSQL and take the same migrations folder.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import * as schema from './schema.js';
import { migrationError, waitForPostgres, type WaitOptions } from './postgres-startup.js';

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export interface Database {
  db: Db;
  kind: 'postgres' | 'pglite';
  /** Runs the committed migrations (idempotent). */
  migrate(): Promise<void>;
  /** A trivial query: is the database answering? */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const migrationsFolder = fileURLToPath(new URL('../../migrations', import.meta.url));

export interface OpenDatabaseOptions {
  databaseUrl?: string;
  dataDir: string;
  poolSize?: number;
  /** How long start-up waits for a PostgreSQL that is not up yet (DATABASE_CONNECT_TIMEOUT_MS); default 30 s. */
  connectTimeoutMs?: number;
  /** Told about each failed attempt while waiting. */
  onRetry?: WaitOptions['onRetry'];
}

/**
 * Opens the database. With PostgreSQL it first waits for the server (see postgres-startup.ts):
 * a failure is a DatabaseStartupError whose message is one line naming host, port, database,
 * user and the cause.
 */
/**
 * postgresql.conf of the embedded database (PGlite writes it at every start). Its buffer cache
 * lives inside the process's WASM memory and is never returned, so the default 128 MB would sit
 * in the gateway's RSS for good; the files are ordinary files under DATA_DIR, so the operating
 * system's page cache still holds what is read often. PGlite is for trying things out (README,
 * Production setup).
 */
const EMBEDDED_POSTGRES_CONF = ['shared_buffers = 16MB'];

export async function openDatabase(opts: OpenDatabaseOptions): Promise<Database> {
  if (opts.databaseUrl) {
    const databaseUrl = opts.databaseUrl;
    await waitForPostgres(databaseUrl, { timeoutMs: opts.connectTimeoutMs ?? 30_000, onRetry: opts.onRetry });
    const { default: pg } = await import('pg');
    const { drizzle } = await import('drizzle-orm/node-postgres');
    const { migrate } = await import('drizzle-orm/node-postgres/migrator');
    const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: opts.poolSize ?? 10 });
    // An idle client losing its connection (database restart) must not crash the process.
    pool.on('error', () => {});
    // A checked-out client (between statements of a transaction) has no pool listener: its
    // connection ending (database restart) would be an uncaught 'error' and crash the process.
    // The statement in flight fails on its own, and the pool drops the broken client on release.
    pool.on('connect', (client) => client.on('error', () => {}));
    const db = drizzle(pool, { schema });
    return {
      db: db as unknown as Db,
      kind: 'postgres',
      migrate: async () => {
        try {
          await migrate(db, { migrationsFolder });
        } catch (err) {
          throw migrationError(databaseUrl, err);
        }
      },
      ping: async () => {
        await pool.query('select 1');
      },
      close: () => pool.end(),
    };
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  const dir = join(opts.dataDir, 'pgdata');
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(dir, 'PG_VERSION'))) {
    // First start: initdb and the first migrations run inside the WASM instance and grow its
    // memory by some 500 MB, which a WASM memory never gives back. Do both in a throwaway
    // instance, let it go, and serve from a fresh one, whose migrate() then finds nothing to do
    // (bench/idle-memory.ts measures the idle RSS this keeps down).
    const init = new PGlite(dir, { postgresqlconf: EMBEDDED_POSTGRES_CONF });
    try {
      await migrate(drizzle(init, { schema }), { migrationsFolder });
    } finally {
      await init.close();
    }
  }
  const client = new PGlite(dir, { postgresqlconf: EMBEDDED_POSTGRES_CONF });
  const db = drizzle(client, { schema });
  return {
    db: db as unknown as Db,
    kind: 'pglite',
    migrate: () => migrate(db, { migrationsFolder }),
    ping: async () => {
      await client.query('select 1');
    },
    close: () => client.close(),
  };
}

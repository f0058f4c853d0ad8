/**
 * The database factory: node-postgres when DATABASE_URL is set, PGlite in DATA_DIR when not.
 * Both speak PostgreSQL and take the same migrations folder.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
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

/**
 * postgresql.conf of the embedded database: sized for a gateway's working set rather than
 * PostgreSQL's defaults, so that the zero-setup mode stays small when left running (README:
 * Performance).
 */
const EMBEDDED_POSTGRESQL_CONF = [
  // PGlite's default is 128 MB of shared buffers, all of it resident once touched; the gateway's
  // hot set (catalog, rollouts, the rollup rows being upserted) is a few MB.
  'shared_buffers=16MB',
  'maintenance_work_mem=16MB',
];

export const migrationsFolder = fileURLToPath(new URL('../../migrations', import.meta.url));

export interface OpenDatabaseOptions {
  databaseUrl?: string;
  dataDir: string;
  poolSize?: number;
  /** How long start-up waits for a PostgreSQL that is not up yet (DATABASE_CONNECT_TIMEOUT_MS); default 30 s. */
  connectTimeoutMs?: number;
  /** Told about each failed attempt while waiting. */
  onRetry?: WaitOptions['onRetry'];
  /**
   * False: do not wait for the server first (the recorder thread's pool: a server that is away
   * fails its batches, which the run writer retries).
   */
  waitForServer?: boolean;
}

/**
 * Opens the database. With PostgreSQL it first waits for the server (see postgres-startup.ts):
 * a failure is a DatabaseStartupError whose message is one line naming host, port, database,
 * user and the cause.
 */
export async function openDatabase(opts: OpenDatabaseOptions): Promise<Database> {
  if (opts.databaseUrl) {
    const databaseUrl = opts.databaseUrl;
    if (opts.waitForServer !== false)
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
  const { PgliteProxy } = await import('./pglite-proxy.js');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  const dir = join(opts.dataDir, 'pgdata');
  mkdirSync(dir, { recursive: true });
  // PGlite runs in a worker thread (pglite-proxy.ts): its queries never hold the event loop.
  const client = await PgliteProxy.open({ dir, postgresqlconf: EMBEDDED_POSTGRESQL_CONF });
  // drizzle's PGlite driver calls only `query` and `transaction`, which the proxy has.
  const db = drizzle(client as unknown as PGlite, { schema });
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

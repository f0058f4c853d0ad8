/**
 * Real PostgreSQL for tests: the global setup migrates a template database once per run;
 * each test file clones it (CREATE DATABASE ... TEMPLATE), which is fast and isolates files.
 * (Unleash src/test-setup.ts; Immich server/test/medium/globalSetup.ts.)
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const PG_ADMIN_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** One template per test run (the global setup names it), so parallel runs never collide. */
export function templateDb(): string {
  return process.env.TEST_PG_TEMPLATE ?? 'chain_canary_template';
}

export function urlFor(database: string): string {
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${database}`;
  return u.toString();
}

export async function pgAvailable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A fresh database: a clone of the migrated template, or empty with `empty: true`. */
export async function createTestDatabase(opts: { empty?: boolean; prefix?: string } = {}): Promise<TestDatabase> {
  const name = `${opts.prefix ?? 'cc_test'}_${randomBytes(6).toString('hex')}`;
  await adminQuery(opts.empty ? `CREATE DATABASE ${name}` : `CREATE DATABASE ${name} TEMPLATE ${templateDb()}`);
  return {
    name,
    url: urlFor(name),
    drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

/**
 * Once per test run: migrate the template database that e2e files clone.
 * Without a reachable PostgreSQL (a laptop without one) the PostgreSQL suites skip themselves;
 * in CI (CI=true) that is an error, since nothing may be skipped there.
 */
import { adminQuery, pgAvailable, urlFor } from './support/pg.js';
import { openDatabase } from '../src/store/db.js';

export default async function setup(): Promise<() => Promise<void>> {
  const available = await pgAvailable();
  if (!available) {
    if (process.env.CI) throw new Error('PostgreSQL is not reachable at 127.0.0.1:5432 and CI=true: refusing to skip its suites');
    process.env.CC_TEST_NO_PG = '1';
    console.warn('[tests] PostgreSQL is not reachable: suites that need it are skipped (PGlite suites still run).');
    return async () => {};
  }
  const TEMPLATE_DB = `cc_template_${process.pid}_${Date.now().toString(36)}`;
  // Read by the test files' workers, forked after this setup.
  process.env.TEST_PG_TEMPLATE = TEMPLATE_DB;
  await adminQuery(`CREATE DATABASE ${TEMPLATE_DB}`);
  const database = await openDatabase({ databaseUrl: urlFor(TEMPLATE_DB), dataDir: '.tmp', poolSize: 1 });
  await database.migrate();
  // CREATE DATABASE ... TEMPLATE fails while any connection to the template is open.
  await database.close();
  return async () => {
    await adminQuery(`DROP DATABASE IF EXISTS ${TEMPLATE_DB} WITH (FORCE)`).catch(() => {});
  };
}

/**
 * A fresh PostgreSQL test database (pg.ts createTestDatabase) opened as the gateway opens it;
 * `close()` closes the handle and drops the database, for a test file's afterAll.
 */
import { openDatabase, type Database } from '../../src/store/db.js';
import { createTestDatabase } from './pg.js';

export interface OpenedTestDatabase {
  url: string;
  database: Database;
  close(): Promise<void>;
}

export async function openTestDatabase(): Promise<OpenedTestDatabase> {
  const testDb = await createTestDatabase();
  let database: Database;
  try {
    database = await openDatabase({ databaseUrl: testDb.url, dataDir: '' });
  } catch (err) {
    await testDb.drop();
    throw err;
  }
  return {
    url: testDb.url,
    database,
    close: async () => {
      try {
        await database.close();
      } finally {
        await testDb.drop();
      }
    },
  };
}

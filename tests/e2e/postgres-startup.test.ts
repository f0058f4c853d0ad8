/**
 * Start-up against real PostgreSQL: a database that is not up yet is waited for (with backoff,
 * bounded); one that cannot be used stops the start with one line naming host, port, database,
 * user and the cause (README: Production setup).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/db.js';
import { DatabaseStartupError } from '../../src/store/postgres-startup.js';
import { noPostgres } from '../support/gateway.js';
import { createTestDatabase, urlFor, type TestDatabase } from '../support/pg.js';
import { freePort, privatePostgresAvailable, startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** A child process that loads the app through tsx: minutes on a busy shared machine, not seconds. */
const CHILD_TIMEOUT = 300_000;

async function startupError(databaseUrl: string, connectTimeoutMs: number): Promise<DatabaseStartupError> {
  const err = await openDatabase({ databaseUrl, dataDir: '', connectTimeoutMs }).then(
    async (db) => {
      await db.close();
      throw new Error('opened, but should not have');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DatabaseStartupError);
  return err as DatabaseStartupError;
}

describe.skipIf(noPostgres)('start-up against PostgreSQL: one line per cause', () => {
  // A generous wait: a configuration error must stop at once, not after it (the test would time out).
  const LONG_WAIT = 120_000;

  it('unknown database: stops at once, naming it', async () => {
    const err = await startupError(urlFor('cc_no_such_database'), LONG_WAIT);
    expect(err.message).toBe(
      'Cannot connect to PostgreSQL at 127.0.0.1:5432 (database "cc_no_such_database", user "postgres"): unknown database "cc_no_such_database" (create it, or fix the database name in DATABASE_URL)',
    );
  });

  it('unknown user: authentication failed, at once', async () => {
    const err = await startupError('postgres://cc_no_such_role:secret-password@127.0.0.1:5432/postgres', LONG_WAIT);
    expect(err.message).toMatch(
      /^Cannot connect to PostgreSQL at 127\.0\.0\.1:5432 \(database "postgres", user "cc_no_such_role"\): authentication failed \(.*cc_no_such_role.*\)$/,
    );
    // The password never appears.
    expect(err.message).not.toContain('secret-password');
  });

  it('a closed loopback port: connection refused, retried with backoff until the deadline', async () => {
    const port = await freePort();
    const attempts: number[] = [];
    const err = await openDatabase({
      databaseUrl: `postgres://postgres@127.0.0.1:${port}/chain_canary`,
      dataDir: '',
      connectTimeoutMs: 1500,
      onRetry: ({ attempt, cause }) => {
        attempts.push(attempt);
        expect(cause).toMatch(/^connection refused/);
      },
    }).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(DatabaseStartupError);
    expect((err as Error).message).toBe(
      `Cannot connect to PostgreSQL at 127.0.0.1:${port} (database "chain_canary", user "postgres"): connection refused (is PostgreSQL running and listening there?); gave up after 2 s (DATABASE_CONNECT_TIMEOUT_MS)`,
    );
    expect(attempts.length).toBeGreaterThanOrEqual(1);
    expect(attempts).toEqual(attempts.map((_, i) => i + 1));
  });

  describe('the start command', () => {
    let dataDir: string;
    beforeAll(() => {
      dataDir = mkdtempSync(join(tmpdir(), 'cc-startup-'));
    });
    afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

    /** Runs `chain-canary serve` until it exits; its exit code and what it wrote to stderr. */
    const serve = (env: Record<string, string>) =>
      new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
          cwd: ROOT,
          env: {
            PATH: process.env.PATH ?? '',
            HOME: process.env.HOME ?? '/tmp',
            DATA_DIR: dataDir,
            PORT: '0',
            LOG_LEVEL: 'warn',
            ADMIN_TOKEN: 'startup-test-token-123',
            ...env,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stderr = '';
        let stdout = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.on('exit', (code) => resolve({ code, stderr, stdout }));
      });

    it(
      'serve --json prints where it listens as JSON, then serves until SIGTERM',
      async () => {
        const db = await createTestDatabase();
        try {
          const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve', '--json'], {
            cwd: ROOT,
            env: {
              PATH: process.env.PATH ?? '',
              HOME: process.env.HOME ?? '/tmp',
              DATA_DIR: dataDir,
              PORT: '0',
              LOG_LEVEL: 'warn',
              DATABASE_URL: db.url,
            },
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
          let out = '';
          const info = await new Promise<any>((resolve, reject) => {
            child.stdout.on('data', (d: Buffer) => {
              out += d.toString();
              try {
                resolve(JSON.parse(out));
              } catch {
                /* not all of it yet */
              }
            });
            void exited.then((code) => reject(new Error(`exited ${code}: ${out}`)));
          });
          expect(info).toMatchObject({
            url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
            storage: 'postgres',
            flags: 'embedded',
            adminTokenFile: `${dataDir}/admin-token`,
          });
          expect(JSON.stringify(info)).not.toContain('cc_admin_');
          expect((await fetch(`${info.url}/healthz`)).status).toBe(200);
          child.kill('SIGTERM');
          expect(await exited).toBe(0);
        } finally {
          await db.drop();
        }
      },
      CHILD_TIMEOUT,
    );

    it(
      'prints one line and exits 1 when the database is unknown (not a "Failed query" stack)',
      async () => {
        const { code, stderr } = await serve({ DATABASE_URL: urlFor('cc_no_such_database') });
        expect(code).toBe(1);
        expect(stderr).toBe(
          'Cannot connect to PostgreSQL at 127.0.0.1:5432 (database "cc_no_such_database", user "postgres"): unknown database "cc_no_such_database" (create it, or fix the database name in DATABASE_URL)\n',
        );
      },
      CHILD_TIMEOUT,
    );

    it(
      'logs each retry, then prints one line when nothing listens within DATABASE_CONNECT_TIMEOUT_MS',
      async () => {
        const port = await freePort();
        const { code, stderr, stdout } = await serve({
          DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/chain_canary`,
          DATABASE_CONNECT_TIMEOUT_MS: '1000',
        });
        expect(code).toBe(1);
        expect(stderr.split('\n').filter(Boolean)).toEqual([
          `Cannot connect to PostgreSQL at 127.0.0.1:${port} (database "chain_canary", user "postgres"): connection refused (is PostgreSQL running and listening there?); gave up after 1 s (DATABASE_CONNECT_TIMEOUT_MS)`,
        ]);
        expect(stdout).toContain('PostgreSQL not reachable yet: connection refused');
      },
      CHILD_TIMEOUT,
    );
  });
});

describe.skipIf(!privatePostgresAvailable())('start-up waits for a PostgreSQL that comes up (private PostgreSQL)', () => {
  let pg: PrivatePostgres;
  beforeAll(async () => {
    pg = await startPrivatePostgres();
    await pg.stop();
  });
  afterAll(async () => {
    await pg?.destroy();
  });

  it('retries while it is down, then migrates and uses it', async () => {
    const causes: string[] = [];
    let starting: Promise<void> | undefined;
    const database = await openDatabase({
      databaseUrl: pg.url,
      dataDir: '',
      connectTimeoutMs: 120_000,
      // The server starts after the first refused attempt: within the retry window.
      onRetry: ({ cause }) => {
        causes.push(cause);
        starting ??= pg.start();
      },
    });
    try {
      await starting;
      expect(causes[0]).toMatch(/^connection refused/);
      await database.migrate();
      await database.ping();
      // The migrations' journal is there: it ran on this server.
      const { rows } = (await database.db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`)) as unknown as {
        rows: { n: number }[];
      };
      expect(rows[0]!.n).toBeGreaterThan(0);
    } finally {
      await database.close();
    }
  });
});

describe.skipIf(noPostgres)('a migration that fails on a reachable server', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ empty: true, prefix: 'cc_startup' });
  });
  afterAll(async () => db?.drop());

  it('names the target and the driver\'s reason, not "Failed query"', async () => {
    // A role without CREATE on the database cannot make the "drizzle" schema.
    const { adminQuery } = await import('../support/pg.js');
    const role = `cc_weak_${db.name.slice(-6)}`;
    await adminQuery(`CREATE ROLE ${role} LOGIN`);
    await adminQuery(`REVOKE CREATE ON DATABASE ${db.name} FROM PUBLIC`);
    try {
      const url = new URL(db.url);
      url.username = role;
      const database = await openDatabase({ databaseUrl: url.toString(), dataDir: '', connectTimeoutMs: 0 });
      try {
        const err = await database.migrate().catch((e: unknown) => e as Error);
        expect(err).toBeInstanceOf(DatabaseStartupError);
        expect((err as Error).message).toBe(
          `Cannot migrate PostgreSQL at 127.0.0.1:5432 (database "${db.name}", user "${role}"): permission denied for database ${db.name} (42501)`,
        );
      } finally {
        await database.close();
      }
    } finally {
      await db.drop();
      await adminQuery(`DROP ROLE IF EXISTS ${role}`);
    }
  });
});

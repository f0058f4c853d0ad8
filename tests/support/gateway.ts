/**
 * A real gateway for e2e tests: the composition root on a fresh PostgreSQL database (cloned from
 * the migrated template) or on PGlite in a temporary DATA_DIR, answering through inject() and,
 * when asked, on an ephemeral loopback port.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { LOG_REDACT, LOG_SERIALIZERS } from '../../src/app.js';
import { compose, type Gateway } from '../../src/composition.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import { createTestDatabase, type TestDatabase } from './pg.js';

export const ADMIN = 'test-admin-token-0123456789';

export interface TestGateway {
  gateway: Gateway;
  config: Config;
  database?: TestDatabase;
  dataDir: string;
  /** Set when started with listen: true. */
  url?: string;
  services(): Gateway['services'];
  request(method: string, url: string, body?: unknown, token?: string | null, headers?: Record<string, string>): Promise<TestResponse>;
  close(): Promise<void>;
}

export interface TestResponse {
  status: number;
  body: any;
  headers: Record<string, string | string[] | undefined>;
}

export async function startTestGateway(
  opts: {
    storage?: 'postgres' | 'pglite';
    env?: Record<string, string>;
    listen?: boolean;
    databaseUrl?: string;
    dataDir?: string;
    /** Where the gateway logs (at TEST_LOG_LEVEL, default trace here), with the app's redaction: for tests that read the logs. */
    logStream?: NodeJS.WritableStream;
    /** Time per rollout plan (the planner's budget; default the contract's 30 s). */
    planBudgetMs?: number;
  } = {},
): Promise<TestGateway> {
  const storage = opts.storage ?? 'postgres';
  const database = storage === 'postgres' && !opts.databaseUrl ? await createTestDatabase() : undefined;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'cc-test-'));
  const config = loadConfig({
    ADMIN_TOKEN: ADMIN,
    DATA_DIR: dataDir,
    PORT: '0',
    LOG_LEVEL: 'silent',
    ...(storage === 'postgres' ? { DATABASE_URL: opts.databaseUrl ?? database!.url } : {}),
    ...opts.env,
  });
  const logOptions = { redact: { paths: LOG_REDACT, censor: '[redacted]' }, serializers: LOG_SERIALIZERS };
  const log = opts.logStream
    ? pino({ level: process.env.TEST_LOG_LEVEL ?? 'trace', ...logOptions }, opts.logStream)
    : pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent', ...logOptions });
  const gateway = await compose(config, { log, ...(opts.planBudgetMs !== undefined ? { planBudgetMs: opts.planBudgetMs } : {}) });
  let url: string | undefined;
  if (opts.listen) {
    await gateway.app.listen({ port: 0, host: '127.0.0.1' });
    const addr = gateway.app.server.address();
    url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  } else {
    await gateway.app.ready();
  }
  let closed = false;
  return {
    gateway,
    config,
    database,
    dataDir,
    url,
    services: () => gateway.services,
    async request(method: string, path: string, body?: unknown, token: string | null = ADMIN, headers: Record<string, string> = {}) {
      const res = await gateway.app.inject({
        method: method as 'GET',
        url: path,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        payload: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      let parsed: unknown = res.body;
      try {
        parsed = res.body ? JSON.parse(res.body) : undefined;
      } catch {
        /* not JSON */
      }
      return { status: res.statusCode, body: parsed, headers: res.headers as TestResponse['headers'] };
    },
    async close() {
      if (closed) return;
      closed = true;
      // Bounded like the gateway's own shutdown steps: a request stuck in flight must not hang the suite.
      await Promise.race([gateway.app.close(), new Promise((r) => setTimeout(r, 15_000).unref())]);
      await gateway.close();
      await database?.drop();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Skips a PostgreSQL suite when the global setup found no PostgreSQL (never in CI). */
export const noPostgres = process.env.CC_TEST_NO_PG === '1';

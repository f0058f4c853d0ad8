/**
 * Keys never reach the logs: the gateway logs at trace level into a captured stream while keys
 * are created, used, refused and revoked, requests fail and the database refuses a query; neither
 * a created key nor a bearer token (admin or tenant) appears anywhere in the output. The app's
 * redaction (LOG_REDACT) and error serializer (LOG_SERIALIZERS) are also checked on the shapes
 * that would carry a secret or a run's input.
 */
import { Writable } from 'node:stream';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../../support/fake-upstream.js';
import { ADMIN, noPostgres, startTestGateway, type TestGateway } from '../../support/gateway.js';

describe.skipIf(noPostgres)('key secrecy in logs', () => {
  let gw: TestGateway;
  let upstream: FakeUpstream;
  let logs = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs += chunk.toString();
      done();
    },
  });

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    gw = await startTestGateway({ logStream: sink, env: { LOG_LEVEL: 'trace' } });
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it('never logs a created key or a bearer token, whatever happens', async () => {
    await gw.request('PUT', '/v1/tenants/acme', {});
    const created = await gw.request('POST', '/v1/tenants/acme/keys', { name: 'app' });
    const key: string = created.body.key;
    expect(key).toMatch(/^cc_/);
    const other = (await gw.request('POST', '/v1/tenants/acme/keys', {})).body;

    await gw.request('PUT', '/v1/chains/c', {});
    await gw.request('POST', '/v1/chains/c/versions', { version: 'v1', adapter: { type: 'http', url: upstream.url } });
    expect(
      (await gw.request('POST', '/v1/chains/c/invoke', { environment: 'prod', input: { marker: 'INPUT-MARKER-1' } }, key)).status,
    ).toBe(200);
    // Refusals and failures: a wrong token, a tenant key on an admin route, an upstream error.
    expect((await gw.request('GET', '/v1/tenants', undefined, `${key}x`)).status).toBe(401);
    expect((await gw.request('GET', '/v1/tenants', undefined, key)).status).toBe(403);
    upstream.setBehaviour({ status: 500 });
    expect((await gw.request('POST', '/v1/chains/c/invoke', { environment: 'prod', input: {} }, key)).status).toBe(502);
    upstream.setBehaviour({});
    expect((await gw.request('DELETE', `/v1/tenants/acme/keys/${other.id}`)).status).toBe(204);
    expect((await gw.request('GET', '/v1/runs', undefined, other.key)).status).toBe(401);
    await gw.gateway.services.writer.flush();

    // The database refusing queries (tables gone for a moment): each failure is logged with its error.
    const admin = new pg.Client({ connectionString: gw.config.DATABASE_URL });
    await admin.connect();
    try {
      await admin.query('ALTER TABLE api_keys RENAME TO api_keys_away; ALTER TABLE runs RENAME TO runs_away');
      expect((await gw.request('POST', '/v1/tenants/acme/keys', { name: 'while-away' })).status).toBe(500);
      expect((await gw.request('GET', '/v1/runs', undefined, key)).status).toBe(500);
      // A run batch the database refuses: the writer logs the failure, not the runs' inputs.
      expect(
        (await gw.request('POST', '/v1/chains/c/invoke', { environment: 'prod', input: { marker: 'INPUT-MARKER-2' } }, key)).status,
      ).toBe(200);
      for (let i = 0; i < 50 && !logs.includes('run batch not written yet'); i++) await new Promise((r) => setTimeout(r, 50));
      expect(logs).toContain('run batch not written yet');
    } finally {
      await admin.query('ALTER TABLE api_keys_away RENAME TO api_keys; ALTER TABLE runs_away RENAME TO runs');
      await admin.end();
    }

    expect(logs.length).toBeGreaterThan(0);
    expect(logs).toMatch(/"level":50/); // errors were logged: the check below is not vacuous
    // Requests get no child logger (hot path): a request's error log names its request id itself.
    expect(logs).toMatch(/"level":50[^\n]*"reqId":"req-[^"]+"[^\n]*"msg":"unhandled error"/);
    for (const secret of [key, key.slice(3), other.key, ADMIN]) expect(logs).not.toContain(secret);
    expect(logs).not.toContain('INPUT-MARKER');
    await gw.gateway.services.writer.flush(); // and the refused run is stored once the table is back
  });

  it('redacts the shapes that carry secrets, and database errors lose their parameters', () => {
    let out = '';
    const capture = new Writable({
      write(chunk: Buffer, _enc, done) {
        out += chunk.toString();
        done();
      },
    });
    // The same configuration as the gateway's logger (tests/support/gateway.ts, src/server.ts).
    return import('pino').then(async ({ pino }) => {
      const { LOG_REDACT, LOG_SERIALIZERS } = await import('../../../src/app.js');
      const log = pino({ level: 'trace', redact: { paths: LOG_REDACT, censor: '[redacted]' }, serializers: LOG_SERIALIZERS }, capture);
      log.info({ req: { headers: { authorization: 'Bearer SECRET-1' } } }, 'request');
      log.info({ headers: { authorization: 'Bearer SECRET-2' } }, 'headers');
      log.info({ key: 'SECRET-3', created: { key: 'SECRET-4' }, adminToken: 'SECRET-5', config: { adminToken: 'SECRET-6' } }, 'keys');
      const dbError = new DrizzleQueryError(
        'insert into "runs" values ($1)',
        ['SECRET-INPUT-7'],
        Object.assign(new Error('value too long'), { code: '22001' }),
      );
      log.error({ err: dbError }, 'batch failed');
      for (let i = 1; i <= 7; i++) expect(out).not.toContain(`SECRET-${i}`);
      expect(out).toContain('[redacted]');
      const line = JSON.parse(out.trim().split('\n').pop()!);
      expect(line.err).toMatchObject({
        type: 'DrizzleQueryError',
        message: 'Failed query: insert into "runs" values ($1)',
        cause: { code: '22001', message: 'value too long' },
      });
      expect(line.err.stack).toMatch(/^DrizzleQueryError: Failed query\n {4}at /);
    });
  });
});

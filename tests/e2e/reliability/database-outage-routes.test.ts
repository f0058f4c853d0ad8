/**
 * Issue 19 item 6: what each route answers while PostgreSQL is stopped (README "Outages"), on a
 * private PostgreSQL (never the shared one):
 * - invokes keep working, with an Idempotency-Key too (a key this gateway has not seen is a new
 *   call; the key it answered during the outage is replayed from memory);
 * - feedback on a run answered during the outage (still queued) is taken, and so is feedback on a
 *   run this gateway wrote before it (kept in memory a while); feedback on a stored run it does
 *   not hold (another replica's), reads and admin writes are a 503 `database_unavailable` with
 *   Retry-After, in the error format, never a 500;
 * - once the database is back, everything answered is stored and the same routes answer again.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../../support/fake-upstream.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { privatePostgresAvailable, startPrivatePostgres, type PrivatePostgres } from '../../support/private-postgres.js';
import { api, eventually, setupChain, storedRuns } from './helpers.js';

describe.skipIf(!privatePostgresAvailable())('routes during a database outage (private PostgreSQL)', () => {
  let postgres: PrivatePostgres;
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let key: string;

  beforeAll(async () => {
    [postgres, upstream] = await Promise.all([startPrivatePostgres(), startFakeUpstream({ record: false })]);
    gw = await startTestGateway({ databaseUrl: postgres.url, listen: true });
    ({ key } = await setupChain(gw.url!, upstream.url));
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
    await postgres?.destroy();
  });

  const invoke = (idempotencyKey?: string) =>
    fetch(`${gw.url}/v1/chains/extract/invoke`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
      },
      body: JSON.stringify({ environment: 'prod', input: { doc: 1 } }),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as any, headers: r.headers }));

  it('keeps invokes and queued feedback working and answers 503 database_unavailable elsewhere, never a 500', async () => {
    const base = gw.url!;
    const before = await invoke();
    expect(before.status).toBe(200);
    await gw.services().writer.flush();
    const storedRun = before.body.runId as string;
    // A run another replica wrote: a copy of it under a new id, inserted behind this gateway's back.
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    const othersRun = (
      await client.query<{ id: string }>(
        `INSERT INTO runs SELECT (json_populate_record(null::runs, (to_jsonb(r) || jsonb_build_object('id', gen_random_uuid()))::json)).*
         FROM runs r WHERE id = $1 RETURNING id::text AS id`,
        [storedRun],
      )
    ).rows[0]!.id;
    await client.end();

    const answered: string[] = [];
    await postgres.stop();
    try {
      // Invokes, with and without an Idempotency-Key.
      const plain = await invoke();
      expect(plain.status).toBe(200);
      const first = await invoke('outage-key-1');
      answered.push(plain.body.runId, first.body.runId);
      expect(first.status).toBe(200);
      const again = await invoke('outage-key-1');
      expect(again.status).toBe(200);
      expect(again.body.runId).toBe(first.body.runId);
      expect(again.headers.get('idempotent-replayed')).toBe('true');

      // Feedback on a run answered during the outage: the run is still queued here.
      const queued = await api(base, 'POST', `/v1/runs/${first.body.runId}/feedback`, { final: { doc: 2 } }, key);
      expect(queued.status).toBe(200);

      // Needs the database: a 503 in the error format, with Retry-After.
      const expect503 = async (method: string, path: string, body?: unknown, token?: string) => {
        const res = await api(base, method, path, body, token);
        expect({ path, status: res.status, code: res.body?.error?.code }).toEqual({ path, status: 503, code: 'database_unavailable' });
        expect(res.headers.get('retry-after')).toBe('5');
      };
      // A stored run this gateway wrote a moment ago: taken from memory.
      const written = await api(base, 'POST', `/v1/runs/${storedRun}/feedback`, { final: { doc: 3 } }, key);
      expect(written.status).toBe(200);
      await expect503('POST', `/v1/runs/${othersRun}/feedback`, { final: { doc: 3 } }, key);
      await expect503('GET', `/v1/runs/${storedRun}`, undefined, key);
      await expect503('GET', '/v1/runs?limit=5', undefined, key);
      await expect503('PUT', '/v1/tenants/newco', { name: 'New' });
      await expect503('POST', '/v1/tenants/acme/keys', {});
      await expect503('PUT', '/v1/chains/another', {});
    } finally {
      await postgres.start();
    }

    // Back: everything answered is stored once, and the routes answer again.
    await eventually('the spool to drain', () => gw.services().writer.backlog === 0, 30_000);
    const stored = await storedRuns(postgres.url, answered);
    expect([...stored.found.keys()].sort()).toEqual([...answered].sort());
    expect(stored.feedback.has(answered[1]!)).toBe(true);
    expect((await storedRuns(postgres.url, [storedRun])).feedback.has(storedRun)).toBe(true);
    await eventually(
      'reads to answer again',
      async () => (await api(base, 'GET', `/v1/runs/${storedRun}`, undefined, key)).status === 200,
      30_000,
    );
    expect((await api(base, 'POST', `/v1/runs/${othersRun}/feedback`, { final: { doc: 3 } }, key)).status).toBe(200);
  });
});

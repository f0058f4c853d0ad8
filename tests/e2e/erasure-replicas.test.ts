/**
 * Issue 19 item 5: erasure reaches what the gateway keeps besides the runs, on every replica. Two
 * replicas on one database: after `DELETE /v1/tenants/acme/runs` on one, either replica answers
 * for the erasure (its status is in the database), and a retry with an Idempotency-Key answered
 * before the erasure no longer gets the erased output, on the replica that erased and on the other.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { noPostgres, startTestGateway, type TestGateway } from '../support/gateway.js';

describe.skipIf(noPostgres)('erasure across replicas', () => {
  let a: TestGateway;
  let b: TestGateway;
  let upstream: FakeUpstream;

  beforeAll(async () => {
    upstream = await startFakeUpstream({ behaviour: { output: (input) => ({ echo: input }) } });
    a = await startTestGateway();
    for (const t of ['acme', 'globex']) await a.request('PUT', `/v1/tenants/${t}`, {});
    await a.request('PUT', '/v1/chains/kyc', {});
    await a.request('POST', '/v1/chains/kyc/versions', { version: 'v1', adapter: { type: 'http', url: upstream.url } });
    b = await startTestGateway({ databaseUrl: a.database!.url });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await upstream?.close();
  });

  const call = (gw: TestGateway, tenant: string, key: string, input: unknown) =>
    gw.request('POST', '/v1/chains/kyc/invoke', { tenant, environment: 'prod', input }, undefined, { 'idempotency-key': key });

  it('shows the erasure on every replica and forgets the erased answers of Idempotency-Key retries', async () => {
    const onA = await call(a, 'acme', 'key-a', { email: 'ann@acme.example' });
    const onB = await call(b, 'acme', 'key-b', { email: 'bob@acme.example' });
    const globex = await call(b, 'globex', 'key-b', { email: 'eve@globex.example' });
    expect([onA.status, onB.status, globex.status]).toEqual([200, 200, 200]);
    expect((await call(b, 'acme', 'key-b', 'ignored')).headers['idempotent-replayed']).toBe('true');

    // B's runs are in the database before the erasure (an erasure flushes its own replica's writer only).
    await b.services().writer.flush();
    const erase = await a.request('DELETE', '/v1/tenants/acme/runs');
    expect(erase.status).toBe(202);
    // The other replica answers for it at once, and both see it finish.
    expect((await b.request('GET', erase.body.statusUrl)).status).toBe(200);
    let status = '';
    for (let i = 0; i < 200 && status !== 'done'; i++) {
      status = (await b.request('GET', erase.body.statusUrl)).body.status;
      if (status !== 'done') await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe('done');
    expect((await a.request('GET', erase.body.statusUrl)).body).toMatchObject({ tenantId: 'acme', status: 'done', deletedRuns: 2 });

    // On the replica that erased: a retry is a new call.
    const retryA = await call(a, 'acme', 'key-a', { email: 'new@acme.example' });
    expect(retryA.headers['idempotent-replayed']).toBeUndefined();
    expect(retryA.body.output).toEqual({ echo: { email: 'new@acme.example' } });
    // On the other replica, once it has seen the erasure (within its 2 s watch).
    let retryB = await call(b, 'acme', 'key-b', { email: 'new@acme.example' });
    for (let i = 0; i < 100 && retryB.headers['idempotent-replayed'] === 'true'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      retryB = await call(b, 'acme', 'key-b', { email: 'new@acme.example' });
    }
    expect(retryB.headers['idempotent-replayed']).toBeUndefined();
    expect(JSON.stringify(retryB.body)).not.toContain('bob@acme.example');
    // Another tenant's cached answer stays.
    const globexAgain = await call(b, 'globex', 'key-b', 'ignored');
    expect(globexAgain.headers['idempotent-replayed']).toBe('true');
    expect(globexAgain.body.runId).toBe(globex.body.runId);
  });
});

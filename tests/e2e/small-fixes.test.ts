/**
 * The smaller findings of issue 19 (item 13), each through the real gateway:
 * - revoking a key under the wrong tenant's path is a 404 and leaves the key working;
 * - an Idempotency-Key is scoped per tenant and chain: the same key on another chain is another
 *   call with its own run, across the in-memory cache and the database;
 * - a DELETE with `content-type: application/json` and no body is accepted (the README's `api`
 *   helper sends exactly that);
 * - @fastify/static's 403 is in the contract's error format with the code `forbidden`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { noPostgres, startTestGateway, type TestGateway } from '../support/gateway.js';

describe.skipIf(noPostgres)('small fixes', () => {
  let gw: TestGateway;
  let upstream: FakeUpstream;

  beforeAll(async () => {
    upstream = await startFakeUpstream({ behaviour: { output: (input) => ({ echo: input }) } });
    gw = await startTestGateway({ listen: true });
    for (const t of ['acme', 'globex']) await gw.request('PUT', `/v1/tenants/${t}`, {});
    for (const c of ['one', 'two']) {
      await gw.request('PUT', `/v1/chains/${c}`, {});
      await gw.request('POST', `/v1/chains/${c}/versions`, { version: 'v1', adapter: { type: 'http', url: upstream.url } });
    }
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it('revoking a key under another tenant is a 404 and the key keeps working', async () => {
    const key = (await gw.request('POST', '/v1/tenants/acme/keys', {})).body;
    const wrong = await gw.request('DELETE', `/v1/tenants/globex/keys/${key.id}`);
    expect(wrong.status).toBe(404);
    expect((await gw.request('GET', '/v1/runs', undefined, key.key)).status).toBe(200);
    expect((await gw.request('DELETE', `/v1/tenants/acme/keys/${key.id}`)).status).toBe(204);
    expect((await gw.request('GET', '/v1/runs', undefined, key.key)).status).toBe(401);
  });

  it('scopes an Idempotency-Key per tenant and chain, in memory and in the database', async () => {
    const call = (chain: string, tenant: string, input: unknown) =>
      gw.request('POST', `/v1/chains/${chain}/invoke`, { tenant, environment: 'prod', input }, undefined, {
        'idempotency-key': 'same-key',
      });
    const a = await call('one', 'acme', 'first');
    const b = await call('two', 'acme', 'second');
    const c = await call('one', 'globex', 'third');
    expect([a.status, b.status, c.status]).toEqual([200, 200, 200]);
    expect(b.body.output).toEqual({ echo: 'second' });
    expect(c.body.output).toEqual({ echo: 'third' });
    expect(new Set([a.body.runId, b.body.runId, c.body.runId]).size).toBe(3);
    // A retry on the first chain still gets the first answer.
    const again = await call('one', 'acme', 'ignored');
    expect(again.body.runId).toBe(a.body.runId);
    expect(again.headers['idempotent-replayed']).toBe('true');
    // All three runs are stored (the database's unique index is per tenant and chain too).
    await gw.services().writer.flush();
    for (const r of [a, b, c]) expect((await gw.request('GET', `/v1/runs/${r.body.runId}`)).status).toBe(200);
  });

  it('the database lookup is per chain too (a replica whose cache has not seen the first call)', async () => {
    const store = gw.services().runStore;
    const first = await gw.request('POST', '/v1/chains/one/invoke', { tenant: 'acme', environment: 'prod', input: 1 }, undefined, {
      'idempotency-key': 'db-key',
    });
    await gw.services().writer.flush();
    expect((await store.byIdempotencyKey('acme', 'one', 'db-key'))?.id).toBe(first.body.runId);
    expect(await store.byIdempotencyKey('acme', 'two', 'db-key')).toBeUndefined();
  });

  it('accepts a DELETE with content-type application/json and no body', async () => {
    const key = (await gw.request('POST', '/v1/tenants/acme/keys', {})).body;
    const res = await fetch(`${gw.url}/v1/tenants/acme/keys/${key.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${gw.config.ADMIN_TOKEN}`, 'content-type': 'application/json' },
    });
    expect(res.status).toBe(204);
    const erase = await fetch(`${gw.url}/v1/tenants/globex/runs`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${gw.config.ADMIN_TOKEN}`, 'content-type': 'application/json' },
    });
    expect(erase.status).toBe(202);
  });

  it("answers the static handler's 403 in the contract's error format", async () => {
    const res = await fetch(`${gw.url}/dashboard/..%5C..%5Cpackage.json`);
    expect(res.status).toBe(403);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('forbidden');
    expect(body.error.message).not.toBe('Forbidden');
    expect(body.error.message.length).toBeGreaterThan(20);
  });
});

/**
 * The walking skeleton end to end through the HTTP API: tenants and keys, chains and versions,
 * invoke, runs, feedback — on real PostgreSQL and on embedded PGlite alike.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { ADMIN, noPostgres, startTestGateway, type TestGateway } from '../support/gateway.js';

const storages = [...(noPostgres ? [] : (['postgres'] as const)), ...(process.env.CC_SKIP_PGLITE ? [] : (['pglite'] as const))];

describe.each(storages)('core gateway on %s', (storage) => {
  let gw: TestGateway;
  let upstream: FakeUpstream;
  let acmeKey: string;
  let acmeKeyId: string;
  let globexKey: string;

  beforeAll(async () => {
    upstream = await startFakeUpstream({
      behaviour: {
        output: (input: any) => (input?.kind === 'text' ? 'plain answer' : { total: 42, vendor: 'ACME GmbH', date: '2026-01-31' }),
      },
    });
    gw = await startTestGateway({ storage });
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it('answers health without a token', async () => {
    expect((await gw.request('GET', '/healthz', undefined, null)).body).toEqual({ status: 'ok' });
    const ready = await gw.request('GET', '/readyz', undefined, null);
    expect(ready.status).toBe(200);
    expect(['ok', 'degraded']).toContain(ready.body.status);
    const doc = await gw.request('GET', '/openapi.json', undefined, null);
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.body.paths)).toContain('/v1/chains/{chain}/invoke');
  });

  it('creates tenants (201, then 200) and named keys', async () => {
    expect((await gw.request('PUT', '/v1/tenants/acme', { name: 'ACME' })).status).toBe(201);
    const again = await gw.request('PUT', '/v1/tenants/acme', { name: 'ACME Corp' });
    expect(again.status).toBe(200);
    expect(again.body.name).toBe('ACME Corp');
    expect((await gw.request('PUT', '/v1/tenants/globex', {})).status).toBe(201);
    const key = await gw.request('POST', '/v1/tenants/acme/keys', { name: 'review-ui' });
    expect(key.status).toBe(201);
    expect(key.body.key).toMatch(/^cc_[A-Za-z0-9_-]{43}$/);
    expect(key.body.name).toBe('review-ui');
    acmeKey = key.body.key;
    acmeKeyId = key.body.id;
    globexKey = (await gw.request('POST', '/v1/tenants/globex/keys', {})).body.key;
    const list = await gw.request('GET', '/v1/tenants');
    expect(list.body.items.map((t: any) => t.id)).toEqual(['acme', 'globex']);
  });

  it('enforces the id pattern', async () => {
    const bad = await gw.request('PUT', `/v1/tenants/${encodeURIComponent("x'; drop table runs;--")}`, {});
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_failed');
    expect(bad.body.error.message).toContain('params.tenantId');
  });

  it('registers a chain with immutable versions; the first becomes current', async () => {
    expect((await gw.request('PUT', '/v1/chains/invoice-extraction', { description: 'Invoices' })).status).toBe(201);
    const v1 = { version: 'v1', adapter: { type: 'http', url: upstream.url, timeoutMs: 2000 } };
    expect((await gw.request('POST', '/v1/chains/invoice-extraction/versions', v1)).status).toBe(201);
    expect((await gw.request('POST', '/v1/chains/invoice-extraction/versions', v1)).status).toBe(200);
    const changed = await gw.request('POST', '/v1/chains/invoice-extraction/versions', {
      ...v1,
      adapter: { ...v1.adapter, timeoutMs: 3000 },
    });
    expect(changed.status).toBe(409);
    const v2 = {
      version: 'v2',
      adapter: { type: 'http', url: upstream.url, headers: { authorization: { env: 'CC_TEST_UPSTREAM_TOKEN' } } },
    };
    expect((await gw.request('POST', '/v1/chains/invoice-extraction/versions', v2)).status).toBe(201);
    const chain = await gw.request('GET', '/v1/chains/invoice-extraction');
    expect(chain.body.current).toBe('v1');
    expect(chain.body.versions.map((v: any) => v.version)).toEqual(['v1', 'v2']);
    expect(chain.body.versions[1].adapter.headers.authorization).toEqual({ env: 'CC_TEST_UPSTREAM_TOKEN' });
    const missing = await gw.request('POST', '/v1/chains/nope/versions', v1);
    expect(missing.status).toBe(404);
  });

  let runId: string;

  it('invokes the current version, records the run, and carries Server-Timing', async () => {
    const res = await gw.request(
      'POST',
      '/v1/chains/invoice-extraction/invoke',
      { environment: 'staging', input: { doc: 'inv-1' }, externalId: 'INV-1' },
      acmeKey,
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ chain: 'invoice-extraction', version: 'v1', variant: 'default', output: { total: 42 } });
    expect(res.body.runId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers['server-timing']).toMatch(/^gateway;dur=\d+\.\d+, upstream;dur=\d+\.\d+$/);
    runId = res.body.runId;
    // Readable at once, before the batch reaches the database, and after.
    const read = await gw.request('GET', `/v1/runs/${runId}`, undefined, acmeKey);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({
      runId,
      tenant: 'acme',
      environment: 'staging',
      externalId: 'INV-1',
      input: { doc: 'inv-1' },
      variant: 'default',
    });
    await gw.gateway.services.writer.flush();
    const stored = await gw.request('GET', `/v1/runs/${runId}`);
    expect(stored.body.output).toEqual({ total: 42, vendor: 'ACME GmbH', date: '2026-01-31' });
  });

  it('keeps tenants apart', async () => {
    expect(
      (await gw.request('POST', '/v1/chains/invoice-extraction/invoke', { tenant: 'globex', environment: 'prod', input: {} }, acmeKey))
        .status,
    ).toBe(403);
    expect((await gw.request('GET', `/v1/runs/${runId}`, undefined, globexKey)).status).toBe(404);
    expect((await gw.request('POST', `/v1/runs/${runId}/feedback`, { overrides: [] }, globexKey)).status).toBe(404);
    expect((await gw.request('GET', '/v1/runs?tenant=acme', undefined, globexKey)).status).toBe(403);
    const own = await gw.request('GET', '/v1/runs', undefined, globexKey);
    expect(own.body.items).toEqual([]);
    expect((await gw.request('PUT', '/v1/chains/x', { description: 'nope' }, acmeKey)).status).toBe(403);
    expect((await gw.request('GET', '/v1/tenants', undefined, 'cc_nonsense')).status).toBe(401);
    expect((await gw.request('GET', '/v1/tenants', undefined, null)).status).toBe(401);
    // Authorization before validation: a tenant key on an admin route is 403 whatever the body.
    expect((await gw.request('POST', '/v1/chains/x/versions', '{not json', acmeKey)).status).toBe(403);
  });

  it("computes overrides from the final record by the contract's rules", async () => {
    const fb = await gw.request(
      'POST',
      `/v1/runs/${runId}/feedback`,
      { final: { total: 43, vendor: 'ACME GmbH' }, reviewer: 'ann' },
      acmeKey,
    );
    expect(fb.status).toBe(200);
    expect(fb.body).toEqual({ runId, overridden: true, fields: ['total'] });
    // Absent fields are unchanged; null clears; a field the AI left out and the human filled counts.
    const again = await gw.request('POST', `/v1/runs/${runId}/feedback`, { final: { date: null, currency: 'EUR' } }, acmeKey);
    expect(again.body.fields).toEqual(['currency', 'date']);
    await gw.gateway.services.writer.flush();
    const run = await gw.request('GET', `/v1/runs/${runId}`);
    // Re-sending replaces the earlier feedback.
    expect(run.body.feedback).toMatchObject({ overridden: true, fields: ['currency', 'date'] });
    expect(run.body.feedback.reviewer).toBeUndefined();
    const unchanged = await gw.request('POST', `/v1/runs/${runId}/feedback`, { overrides: [] }, acmeKey);
    expect(unchanged.body).toEqual({ runId, overridden: false, fields: [] });
  });

  it('rejects both forms at once, and neither', async () => {
    const both = await gw.request('POST', `/v1/runs/${runId}/feedback`, { final: {}, overrides: [] });
    expect(both.status).toBe(400);
    expect(both.body.error.message).toMatch(/either final or overrides/);
    expect((await gw.request('POST', `/v1/runs/${runId}/feedback`, {})).status).toBe(400);
  });

  it('treats a non-object output as the one field "$"', async () => {
    const res = await gw.request('POST', '/v1/chains/invoice-extraction/invoke', {
      tenant: 'acme',
      environment: 'staging',
      input: { kind: 'text' },
    });
    const fb = await gw.request('POST', `/v1/runs/${res.body.runId}/feedback`, { final: 'edited answer' });
    expect(fb.body).toMatchObject({ overridden: true, fields: ['$'] });
  });

  it('sends feedback by external id to the latest run', async () => {
    const later = await gw.request(
      'POST',
      '/v1/chains/invoice-extraction/invoke',
      { environment: 'staging', input: { doc: 'inv-1b' }, externalId: 'INV-1' },
      acmeKey,
    );
    const fb = await gw.request(
      'POST',
      '/v1/feedback',
      { chain: 'invoice-extraction', externalId: 'INV-1', overrides: [{ field: 'vendor', value: 'ACME AG' }] },
      acmeKey,
    );
    expect(fb.status).toBe(200);
    expect(fb.body).toEqual({ runId: later.body.runId, overridden: true, fields: ['vendor'] });
    expect(
      (await gw.request('POST', '/v1/feedback', { chain: 'invoice-extraction', externalId: 'INV-404', overrides: [] }, acmeKey)).status,
    ).toBe(404);
    expect(
      (
        await gw.request(
          'POST',
          '/v1/feedback',
          { chain: 'invoice-extraction', externalId: 'INV-1', tenant: 'globex', overrides: [] },
          acmeKey,
        )
      ).status,
    ).toBe(403);
  });

  it('stores a failed call with its error, answers 502 with the run id, and refuses feedback on it', async () => {
    upstream.setBehaviour({ status: 500 });
    const res = await gw.request('POST', '/v1/chains/invoice-extraction/invoke', { tenant: 'acme', environment: 'staging', input: {} });
    upstream.setBehaviour({ output: () => ({ total: 1 }) });
    expect(res.status).toBe(502);
    expect(res.body.runId).toBeTruthy();
    expect(res.body.error.code).toBe('upstream_failed');
    const fb = await gw.request('POST', `/v1/runs/${res.body.runId}/feedback`, { overrides: [] });
    expect(fb.status).toBe(409);
    await gw.gateway.services.writer.flush();
    const run = await gw.request('GET', `/v1/runs/${res.body.runId}`);
    expect(run.body.error.code).toBe('upstream_failed');
    expect(run.body.output).toBeUndefined();
  });

  it('answers 504 when the upstream is too slow', async () => {
    await gw.request('PUT', '/v1/chains/slow', {});
    await gw.request('POST', '/v1/chains/slow/versions', { version: 'v1', adapter: { type: 'http', url: upstream.url, timeoutMs: 100 } });
    upstream.setBehaviour({ delayMs: 1000 });
    const res = await gw.request('POST', '/v1/chains/slow/invoke', { tenant: 'acme', environment: 'dev', input: {} });
    upstream.setBehaviour({});
    expect(res.status).toBe(504);
    expect(res.body.error.code).toBe('upstream_timeout');
  });

  it('404s an unknown tenant, chain or run', async () => {
    expect(
      (await gw.request('POST', '/v1/chains/invoice-extraction/invoke', { tenant: 'initech', environment: 'prod', input: {} })).status,
    ).toBe(404);
    expect((await gw.request('POST', '/v1/chains/nope/invoke', { tenant: 'acme', environment: 'prod', input: {} })).status).toBe(404);
    expect((await gw.request('GET', '/v1/runs/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await gw.request('POST', '/v1/chains/invoice-extraction/invoke', { tenant: 'acme', input: {} })).body.error.message).toContain(
      'body.environment',
    );
  });

  it('lists runs with filters and cursor paging', async () => {
    for (let i = 0; i < 5; i++)
      await gw.request('POST', '/v1/chains/invoice-extraction/invoke', { environment: 'prod', input: { i } }, acmeKey);
    await gw.gateway.services.writer.flush();
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await gw.request('GET', `/v1/runs?tenant=acme&environment=prod&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((r: any) => r.runId));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen.length).toBe(5);
    expect(new Set(seen).size).toBe(5);
    const overridden = await gw.request('GET', '/v1/runs?overridden=true&chain=invoice-extraction');
    expect(overridden.body.items.every((r: any) => r.feedback?.overridden === true)).toBe(true);
    expect(overridden.body.items.length).toBeGreaterThan(0);
    expect((await gw.request('GET', '/v1/runs?cursor=garbage')).status).toBe(400);
    expect((await gw.request('GET', '/v1/runs?from=yesterday')).status).toBe(400);
  });

  it('gives a retry with the same Idempotency-Key the first answer, with no second call', async () => {
    const before = upstream.calls;
    const body = { tenant: 'acme', environment: 'prod', input: { once: true } };
    const a = await gw.request('POST', '/v1/chains/invoice-extraction/invoke', body, ADMIN, { 'idempotency-key': 'k-1' });
    const b = await gw.request('POST', '/v1/chains/invoice-extraction/invoke', body, ADMIN, { 'idempotency-key': 'k-1' });
    expect(b.body.runId).toBe(a.body.runId);
    expect(upstream.calls - before).toBe(1);
  });

  it('revokes a key at once', async () => {
    expect((await gw.request('DELETE', `/v1/tenants/acme/keys/${acmeKeyId}`)).status).toBe(204);
    expect((await gw.request('GET', '/v1/runs', undefined, acmeKey)).status).toBe(401);
  });

  it('maps malformed JSON and oversized bodies to the error shape', async () => {
    const bad = await gw.request('POST', '/v1/chains/invoice-extraction/invoke', '{"tenant": ');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_json');
    const proto = await gw.request(
      'POST',
      '/v1/chains/invoice-extraction/invoke',
      '{"tenant":"acme","environment":"prod","input":{},"__proto__":{"x":1}}',
    );
    expect(proto.status).toBe(400);
  });
});

/**
 * Guards on the way to upstreams (issue 19 item 9):
 * - a version pointing back at the gateway (here through the LangServe route, whose tenant and
 *   environment come from headers, so each call would call itself again) makes one run and a 502
 *   whose admin details show the 508 `loop_detected` that stopped it;
 * - UPSTREAM_ALLOW refuses a version naming another host when it is registered (400) and when it
 *   is called on a replica with that list (the upstream sees no call);
 * - upstream and provider error text reaches admins only: a tenant key gets a generic message on
 *   /v1 invoke, LangServe invoke and batch, and when it reads the run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.js';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { ADMIN, noPostgres, startTestGateway, type TestGateway } from '../support/gateway.js';

const SECRET_TEXT = 'Incorrect API key provided: Bearer sk-test-SECRET123';

describe.skipIf(noPostgres)('upstream guards', () => {
  let gw: TestGateway;
  let upstream: FakeUpstream;
  let openai: FakeOpenAI;
  let tenantKey: string;

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    openai = await startFakeOpenAI();
    gw = await startTestGateway({ listen: true, env: { OPENAI_API_KEY: 'sk-test-SECRET123', OPENAI_BASE_URL: openai.baseURL } });
    await gw.request('PUT', '/v1/tenants/acme', {});
    tenantKey = (await gw.request('POST', '/v1/tenants/acme/keys', {})).body.key;
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
    await openai?.close();
  });

  const runsOf = async (chain: string) => {
    await gw.services().writer.flush();
    return (await gw.request('GET', `/v1/runs?chain=${chain}&limit=500`)).body.items as any[];
  };

  it('stops a version that calls the gateway itself after one hop: one run, a 502, the 508 in its details', async () => {
    await gw.request('PUT', '/v1/chains/loop', {});
    const created = await gw.request('POST', '/v1/chains/loop/versions', {
      version: 'v1',
      adapter: {
        type: 'http',
        url: `${gw.url}/chains/loop/invoke`,
        timeoutMs: 5000,
        headers: { authorization: `Bearer ${tenantKey}`, 'x-tenant': 'acme', 'x-environment': 'prod' },
      },
    });
    expect(created.status).toBe(201);
    const res = await gw.request('POST', '/v1/chains/loop/invoke', { tenant: 'acme', environment: 'prod', input: { n: 1 } });
    expect(res.status).toBe(502);
    expect(res.body.error.details.status).toBe(508);
    expect(res.body.error.details.body).toContain('loop_detected');
    expect(await runsOf('loop')).toHaveLength(1);
    // A version may not hide the hop header.
    const hiding = await gw.request('POST', '/v1/chains/loop/versions', {
      version: 'v2',
      adapter: { type: 'http', url: upstream.url, headers: { 'X-Chain-Canary-Hop': 'x' } },
    });
    expect(hiding.status).toBe(400);
  });

  it('refuses a call carrying another tag, and serves one carrying none', async () => {
    await gw.request('PUT', '/v1/chains/plain', {});
    await gw.request('POST', '/v1/chains/plain/versions', { version: 'v1', adapter: { type: 'http', url: upstream.url } });
    const other = await gw.request('POST', '/v1/chains/plain/invoke', { tenant: 'acme', environment: 'prod', input: 1 }, ADMIN, {
      'x-chain-canary-hop': 'some-other-gateway',
    });
    expect(other.status).toBe(200);
    // The upstream saw this gateway's tag on the call.
    expect(upstream.requests.at(-1)!.headers['x-chain-canary-hop']).toMatch(/^[A-Za-z0-9_-]{10,}$/);
    const own = upstream.requests.at(-1)!.headers['x-chain-canary-hop'] as string;
    const looped = await gw.request('POST', '/v1/chains/plain/invoke', { tenant: 'acme', environment: 'prod', input: 1 }, ADMIN, {
      'x-chain-canary-hop': `elsewhere, ${own}`,
    });
    expect(looped.status).toBe(508);
    expect(looped.body.error.code).toBe('loop_detected');
  });

  it('UPSTREAM_ALLOW refuses other hosts at registration and at call time', async () => {
    // The same database, a replica with an allow-list that does not name the upstream's host.
    const strict = await startTestGateway({
      databaseUrl: gw.config.DATABASE_URL,
      env: { UPSTREAM_ALLOW: 'chains.internal, *.svc.cluster.local:8000' },
    });
    try {
      const refused = await strict.request('POST', '/v1/chains/plain/versions', {
        version: 'v9',
        adapter: { type: 'http', url: 'http://169.254.169.254/latest/meta-data' },
      });
      expect(refused.status).toBe(400);
      expect(refused.body.error.code).toBe('upstream_not_allowed');
      expect(refused.body.error.message).toContain('UPSTREAM_ALLOW');
      expect(
        (
          await strict.request('POST', '/v1/chains/plain/versions', {
            version: 'v8',
            adapter: { type: 'http', url: 'http://a.svc.cluster.local:8000/invoke' },
          })
        ).status,
      ).toBe(201);

      const before = upstream.calls;
      const called = await strict.request('POST', '/v1/chains/plain/invoke', { tenant: 'acme', environment: 'prod', input: 1 });
      expect(called.status).toBe(502);
      expect(called.body.error.message).toContain('UPSTREAM_ALLOW');
      expect(called.body.error.details.reason).toBe('upstream_not_allowed');
      expect(upstream.calls).toBe(before);
    } finally {
      await strict.close();
    }
  });

  it("keeps an upstream's error text from tenant keys on every route, and shows it to admins", async () => {
    await gw.request('PUT', '/v1/chains/leaky', {});
    await gw.request('POST', '/v1/chains/leaky/versions', { version: 'v1', adapter: { type: 'http', url: upstream.url } });
    upstream.setBehaviour({ status: 401, rawBody: JSON.stringify({ error: SECRET_TEXT }) });
    try {
      const body = { environment: 'prod', input: { q: 1 } };
      const asTenant = await gw.request('POST', '/v1/chains/leaky/invoke', body, tenantKey);
      expect(asTenant.status).toBe(502);
      expect(asTenant.body.error.code).toBe('upstream_failed');
      expect(asTenant.body.error.details).toEqual({ status: 401 });
      expect(JSON.stringify(asTenant.body)).not.toContain('sk-test');

      const lsInvoke = await gw.request(
        'POST',
        '/chains/leaky/invoke',
        { input: 1, config: { configurable: { environment: 'prod' } } },
        tenantKey,
      );
      expect(lsInvoke.status).toBe(502);
      expect(JSON.stringify(lsInvoke.body)).not.toContain('sk-test');
      const lsBatch = await gw.request(
        'POST',
        '/chains/leaky/batch',
        { inputs: [1, 2], config: { configurable: { environment: 'prod' } } },
        tenantKey,
      );
      expect(lsBatch.status).toBe(502);
      expect(JSON.stringify(lsBatch.body)).not.toContain('sk-test');

      const read = await gw.request('GET', `/v1/runs/${asTenant.body.runId}`, undefined, tenantKey);
      expect(read.status).toBe(200);
      expect(read.body.error.code).toBe('upstream_failed');
      expect(JSON.stringify(read.body)).not.toContain('sk-test');
      await gw.services().writer.flush();
      const list = await gw.request('GET', '/v1/runs?chain=leaky', undefined, tenantKey);
      expect(list.body.items.length).toBe(4);
      expect(JSON.stringify(list.body)).not.toContain('sk-test');

      const asAdmin = await gw.request('POST', '/v1/chains/leaky/invoke', { ...body, tenant: 'acme' });
      expect(asAdmin.body.error.details.body).toContain('sk-test-SECRET123');
      expect(JSON.stringify((await gw.request('GET', `/v1/runs/${asTenant.body.runId}`)).body)).toContain('sk-test-SECRET123');
    } finally {
      upstream.setBehaviour({});
    }
  });

  it("keeps a model provider's error text from tenant keys", async () => {
    openai.setBehaviour({ status: 401, errorMessage: SECRET_TEXT });
    try {
      await gw.request('PUT', '/v1/chains/prompt', {});
      await gw.request('POST', '/v1/chains/prompt/versions', {
        version: 'v1',
        adapter: { type: 'openai', model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] },
      });
      const asTenant = await gw.request('POST', '/v1/chains/prompt/invoke', { environment: 'prod', input: {} }, tenantKey);
      expect(asTenant.status).toBe(502);
      expect(JSON.stringify(asTenant.body)).not.toContain('sk-test');
      const asAdmin = await gw.request('POST', '/v1/chains/prompt/invoke', { tenant: 'acme', environment: 'prod', input: {} });
      expect(JSON.stringify(asAdmin.body)).toContain('sk-test-SECRET123');
    } finally {
      openai.setBehaviour({});
    }
  });
});

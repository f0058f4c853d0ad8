/**
 * Timestamps that parse but lie past what PostgreSQL and Date's ISO form can hold (issue 19 item
 * 8): `9999-12-31T23:59:59-14:00` is year 10000 in UTC, and a window widened up to the hour or day
 * crosses into it too. Each is a 400 naming the parameter, reachable with a tenant key, never a 500.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { noPostgres, startTestGateway, type TestGateway } from '../support/gateway.js';

const PAST_9999 = ['9999-12-31T23:59:59-14:00', '9999-12-31T23:59:59Z', '+010000-01-01T00:00:00Z'];
const b64 = (s: string) => Buffer.from(s).toString('base64url');

describe.skipIf(noPostgres)('timestamps at the end of year 9999', () => {
  let gw: TestGateway;
  let upstream: FakeUpstream;
  let tenantKey: string;
  let rolloutId: string;

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    gw = await startTestGateway();
    await gw.request('PUT', '/v1/tenants/acme', {});
    tenantKey = (await gw.request('POST', '/v1/tenants/acme/keys', {})).body.key;
    await gw.request('PUT', '/v1/chains/c', {});
    await gw.request('POST', '/v1/chains/c/versions', { version: 'v1', adapter: { type: 'http', url: upstream.url } });
    await gw.request('POST', '/v1/chains/c/versions', { version: 'v2', adapter: { type: 'http', url: upstream.url } });
    rolloutId = (
      await gw.request('POST', '/v1/rollouts', {
        chain: 'c',
        control: 'v1',
        candidate: 'v2',
        stages: [{ environments: ['prod'], percent: 50, splitBy: 'unit' }],
      })
    ).body.id;
    expect(rolloutId).toBeTypeOf('string');
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  const expect400 = (res: { status: number; body: any }, param: string) => {
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(JSON.stringify(res.body.error)).toContain(param);
  };

  it.each(PAST_9999)('GET /v1/runs?from|to=%s with a tenant key is a 400', async (t) => {
    expect400(await gw.request('GET', `/v1/runs?from=${encodeURIComponent(t)}`, undefined, tenantKey), 'from');
    expect400(await gw.request('GET', `/v1/runs?to=${encodeURIComponent(t)}`, undefined, tenantKey), 'to');
  });

  it('a cursor holding a timestamp past 9999 is a 400', async () => {
    const cursor = b64(JSON.stringify(['9999-12-31T23:59:59-14:00', '3f1c2a4e-9b7d-4c1e-8f00-123456789abc']));
    const res = await gw.request('GET', `/v1/runs?cursor=${cursor}`, undefined, tenantKey);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('cursor');
  });

  it.each(PAST_9999)('the comparison and timeseries windows refuse %s', async (t) => {
    for (const p of ['from', 'to']) {
      expect400(await gw.request('GET', `/v1/rollouts/${rolloutId}/comparison?${p}=${encodeURIComponent(t)}`), p);
      for (const bucket of ['minute', 'hour', 'day']) {
        expect400(await gw.request('GET', `/v1/rollouts/${rolloutId}/timeseries?bucket=${bucket}&${p}=${encodeURIComponent(t)}`), p);
      }
    }
  });

  it('the last accepted instant still answers, also when the window is widened to the day', async () => {
    const last = encodeURIComponent('9999-12-30T23:59:59.999Z');
    expect((await gw.request('GET', `/v1/runs?from=${last}`, undefined, tenantKey)).status).toBe(200);
    expect((await gw.request('GET', `/v1/rollouts/${rolloutId}/comparison?to=${last}`)).status).toBe(200);
    for (const bucket of ['minute', 'hour', 'day']) {
      expect((await gw.request('GET', `/v1/rollouts/${rolloutId}/timeseries?bucket=${bucket}&to=${last}`)).status).toBe(200);
    }
    const cursor = b64(JSON.stringify(['9999-12-30T23:59:59.999Z', '3f1c2a4e-9b7d-4c1e-8f00-123456789abc']));
    expect((await gw.request('GET', `/v1/runs?cursor=${cursor}`, undefined, tenantKey)).status).toBe(200);
  });
});

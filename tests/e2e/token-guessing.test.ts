/**
 * Token guessing is throttled per client address (issue 19 item 10): once an address has presented
 * AUTH_FAILURES_PER_MINUTE invalid tokens, every token it presents is a 429 with Retry-After,
 * a valid one included (else "429" would mean "wrong" and guessing would go on). Other addresses
 * are not affected; behind a proxy (TRUST_PROXY) the address is the forwarded client's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, noPostgres, startTestGateway, type TestGateway } from '../support/gateway.js';

describe.skipIf(noPostgres)('token guessing', () => {
  let gw: TestGateway;

  const get = (token: string | undefined, remoteAddress = '127.0.0.1', headers: Record<string, string> = {}) =>
    gw.gateway.app
      .inject({
        method: 'GET',
        url: '/v1/tenants',
        remoteAddress,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      })
      .then((r) => ({ status: r.statusCode, body: r.json(), headers: r.headers }));

  beforeAll(async () => {
    // The setting: a per-key limit of 20, which bad tokens (no key) never reached.
    gw = await startTestGateway({ env: { RATE_LIMIT_PER_MINUTE: '20', AUTH_FAILURES_PER_MINUTE: '10', TRUST_PROXY: '127.0.0.9' } });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('answers 429 after the allowed number of invalid tokens, with Retry-After and the error JSON', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 100; i++) statuses.push((await get(`guess-${i}-aaaaaaaaaaaa`, '10.1.1.1')).status);
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(10).every((s) => s === 429)).toBe(true);
    const refused = await get('one-more-guess-xxxxxxx', '10.1.1.1');
    expect(refused.body.error.code).toBe('rate_limited');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
  });

  it('refuses even the right token from a blocked address, and serves other addresses', async () => {
    expect((await get(ADMIN, '10.1.1.1')).status).toBe(429);
    expect((await get(ADMIN, '10.2.2.2')).status).toBe(200);
    // A request without a token is no guess: still a plain 401.
    expect((await get(undefined, '10.1.1.1')).status).toBe(401);
  });

  it('counts the forwarded client behind a trusted proxy, not the proxy', async () => {
    for (let i = 0; i < 10; i++)
      expect((await get(`bad-${i}-xxxxxxxxxxxx`, '127.0.0.9', { 'x-forwarded-for': '203.0.113.7' })).status).toBe(401);
    expect((await get(ADMIN, '127.0.0.9', { 'x-forwarded-for': '203.0.113.7' })).status).toBe(429);
    expect((await get(ADMIN, '127.0.0.9', { 'x-forwarded-for': '203.0.113.8' })).status).toBe(200);
    // An untrusted peer cannot pick its address by header.
    for (let i = 0; i < 10; i++) await get(`bad-${i}-yyyyyyyyyyyy`, '10.3.3.3', { 'x-forwarded-for': '198.51.100.1' });
    expect((await get(ADMIN, '10.3.3.3', { 'x-forwarded-for': '198.51.100.2' })).status).toBe(429);
  });
});

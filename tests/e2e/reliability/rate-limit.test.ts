/**
 * Rate limiting per key (RATE_LIMIT_PER_MINUTE): each key has its own budget; the request over it
 * gets a 429 with Retry-After and the contract's error JSON; public routes count per client
 * address; health probes are never limited; 0 turns limiting off.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noPostgres, startTestGateway, type TestGateway } from '../../support/gateway.js';

const LIMIT = 10;

describe.skipIf(noPostgres)('rate limiting per key', () => {
  let gw: TestGateway;
  let keyA: string;
  let keyB: string;

  beforeAll(async () => {
    gw = await startTestGateway({ env: { RATE_LIMIT_PER_MINUTE: String(LIMIT) } });
    await gw.request('PUT', '/v1/tenants/a', {});
    await gw.request('PUT', '/v1/tenants/b', {});
    keyA = (await gw.request('POST', '/v1/tenants/a/keys', {})).body.key;
    keyB = (await gw.request('POST', '/v1/tenants/b/keys', {})).body.key;
  });
  afterAll(async () => {
    await gw?.close();
  });

  /** How many calls pass before the first 429, and that 429. */
  async function untilLimited(call: () => ReturnType<TestGateway['request']>) {
    for (let passed = 0; passed <= LIMIT + 1; passed++) {
      const r = await call();
      if (r.status === 429) return { passed, refused: r };
      expect(r.status).toBeLessThan(400);
    }
    throw new Error('never limited');
  }

  it('gives each key its own budget and answers 429 with Retry-After and the error JSON', async () => {
    const a = await untilLimited(() => gw.request('GET', '/v1/runs', undefined, keyA));
    expect(a.passed).toBe(LIMIT);
    expect(a.refused.body).toEqual({ error: { code: 'rate_limited', message: expect.stringContaining(`at most ${LIMIT} per minute`) } });
    const retryAfter = Number(a.refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(a.refused.headers['content-type']).toMatch(/application\/json/);

    // Another key of another tenant is not affected; nor is the admin (4 calls spent in setup).
    expect((await untilLimited(() => gw.request('GET', '/v1/runs', undefined, keyB))).passed).toBe(LIMIT);
    expect((await untilLimited(() => gw.request('GET', '/v1/tenants'))).passed).toBe(LIMIT - 4);
  });

  it('limits every route a key can reach, invoke and feedback included, before reading the body', async () => {
    // keyA is spent: an invoke with a body that would be a 400 is refused first.
    const r = await gw.request('POST', '/v1/chains/x/invoke', { nonsense: true }, keyA);
    expect(r.status).toBe(429);
    expect((await gw.request('POST', '/v1/feedback', {}, keyA)).status).toBe(429);
  });

  it('counts public routes per client address and never limits health probes', async () => {
    for (let i = 0; i < LIMIT * 2; i++) {
      expect((await gw.request('GET', '/healthz', undefined, null)).status).toBe(200);
      expect((await gw.request('GET', '/readyz', undefined, null)).status).toBe(200);
    }
    const pub = await untilLimited(() => gw.request('GET', '/openapi.json', undefined, null));
    expect(pub.passed).toBe(LIMIT);
    expect(pub.refused.body.error.code).toBe('rate_limited');
  });

  it('is off with RATE_LIMIT_PER_MINUTE=0', async () => {
    const off = await startTestGateway({ env: { RATE_LIMIT_PER_MINUTE: '0' } });
    try {
      for (let i = 0; i < 50; i++) expect((await off.request('GET', '/v1/tenants')).status).toBe(200);
      expect((await off.request('GET', '/v1/tenants')).headers['x-ratelimit-limit']).toBeUndefined();
    } finally {
      await off.close();
    }
  });
});

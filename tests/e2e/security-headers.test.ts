/**
 * Security headers: pages (Swagger UI, the dashboard) carry helmet's set with a CSP that lets
 * them load their own scripts; every API response, errors included, carries the fixed REST set.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_SECURITY_HEADERS } from '../../src/http/plugins/security-headers.js';
import { noPostgres, startTestGateway, type TestGateway, type TestResponse } from '../support/gateway.js';

describe('security headers', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ storage: noPostgres ? 'pglite' : 'postgres' });
  });
  afterAll(async () => {
    await gw?.close();
  });

  const expectApiHeaders = (res: TestResponse): void => {
    for (const [name, value] of Object.entries(API_SECURITY_HEADERS)) expect(res.headers[name], name).toBe(value);
    expect(res.headers['strict-transport-security']).toBeUndefined();
  };

  const expectPageHeaders = (res: TestResponse): void => {
    expect(res.status).toBe(200);
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toMatch(/max-age=/);
    expect(res.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(res.headers['cache-control']).not.toBe('no-store');
  };

  it('gives pages helmet headers and a CSP for pages, public', async () => {
    const dashboard = await gw.request('GET', '/dashboard', undefined, null);
    expectPageHeaders(dashboard);
    expect(dashboard.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expectPageHeaders(await gw.request('GET', '/dashboard/app.js', undefined, null));
    // Swagger UI sets its own CSP (staticCSP); it must be reachable without a token.
    expectPageHeaders(await gw.request('GET', '/docs/', undefined, null));
    expectPageHeaders(await gw.request('GET', '/docs/static/swagger-initializer.js', undefined, null));
  });

  it('gives every API response, successes and errors, the REST set', async () => {
    const ok = await gw.request('GET', '/v1/tenants');
    expect(ok.status).toBe(200);
    expectApiHeaders(ok);
    for (const [path, token, status] of [
      ['/v1/tenants', null, 401],
      ['/v1/no-such-route', null, 404],
      ['/healthz', null, 200],
      ['/openapi.json', null, 200],
    ] as const) {
      const res = await gw.request('GET', path, undefined, token);
      expect(res.status, path).toBe(status);
      expectApiHeaders(res);
    }
    const bad = await gw.request('POST', '/v1/tenants', '{"id":', undefined);
    expect(bad.status).toBe(400);
    expectApiHeaders(bad);
  });
});

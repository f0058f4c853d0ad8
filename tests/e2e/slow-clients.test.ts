/**
 * Slow and broken clients over real sockets (issue 19, items 2 and 13): a body that stops coming,
 * headers that never finish, an idle keep-alive connection, headers over Node's limit. Each is
 * cut off with the contract's error JSON (when a status can still be sent) and the socket closed.
 * No timing is asserted: each test waits for the close, and vitest's timeout is the bound.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream } from '../support/fake-upstream.js';
import { ADMIN, noPostgres, startTestGateway, type TestGateway } from '../support/gateway.js';

interface RawExchange {
  /** Everything the server sent before it closed the connection. */
  text: string;
  status?: number;
  body?: any;
}

/** Writes `chunks` on a fresh connection and resolves with what came back once the server closes. */
function rawExchange(url: string, chunks: string[]): Promise<RawExchange> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (text += d));
    socket.on('error', (err) => (text ? undefined : reject(err)));
    socket.on('close', () => {
      const status = /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];
      const at = text.indexOf('\r\n\r\n');
      let body: unknown;
      try {
        body = at >= 0 ? JSON.parse(text.slice(at + 4)) : undefined;
      } catch {
        body = undefined;
      }
      resolve({ text, status: status ? Number(status) : undefined, body });
    });
    socket.on('connect', () => {
      for (const c of chunks) socket.write(c);
    });
  });
}

describe.skipIf(noPostgres)('slow clients', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway({
      listen: true,
      env: { HEADERS_TIMEOUT_MS: '300', REQUEST_TIMEOUT_MS: '600', KEEP_ALIVE_TIMEOUT_MS: '300' },
    });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('cuts off a body that stops coming (Content-Length 1000, 5 bytes sent) with a 408 in the error format', async () => {
    const res = await rawExchange(gw.url!, [
      `POST /v1/tenants/acme HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`,
      '{"nam',
    ]);
    expect(res.status).toBe(408);
    expect(res.body.error.code).toBe('request_timeout');
    expect(res.body.error.message).toContain('REQUEST_TIMEOUT_MS');
    // Nothing half-received was acted on.
    expect((await gw.request('GET', '/v1/tenants')).body.items).toEqual([]);
  });

  it('cuts off headers that never finish with a 408', async () => {
    const res = await rawExchange(gw.url!, ['GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: 1']);
    expect(res.status).toBe(408);
    expect(res.body.error.code).toBe('request_timeout');
  });

  it('closes an idle keep-alive connection', async () => {
    const res = await rawExchange(gw.url!, ['GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n']);
    // The one answer, then the server closed the idle connection by itself.
    expect(res.status).toBe(200);
    expect(res.text).toContain('"status":"ok"');
    expect(res.text.match(/HTTP\/1\.1/g)).toHaveLength(1);
  });

  it('answers headers over the size limit with a 431 in the error format', async () => {
    const res = await rawExchange(gw.url!, [`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`]);
    expect(res.status).toBe(431);
    expect(res.body.error.code).toBe('headers_too_large');
    expect(typeof res.body.error.message).toBe('string');
  });

  it('answers bytes that are not HTTP with a 400 in the error format', async () => {
    const res = await rawExchange(gw.url!, ['HELLO THERE\r\n\r\n']);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('bad_http');
  });

  it('does not cut an upstream call that takes longer than the request timeout (the request had arrived)', async () => {
    const upstream = await startFakeUpstream({ behaviour: { delayMs: 1500 } });
    try {
      await gw.request('PUT', '/v1/tenants/acme', {});
      await gw.request('PUT', '/v1/chains/slow', {});
      await gw.request('POST', '/v1/chains/slow/versions', { version: 'v1', adapter: { type: 'http', url: upstream.url } });
      const res = await fetch(`${gw.url}/v1/chains/slow/invoke`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tenant: 'acme', environment: 'prod', input: { a: 1 } }),
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { output: unknown }).output).toEqual({ a: 1 });
    } finally {
      await upstream.close();
    }
  });
});

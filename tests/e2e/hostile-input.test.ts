/**
 * Hostile input over every route: the routes come from the OpenAPI document (plus the hidden
 * ones), and each gets wrong types, missing fields, non-JSON, wrong content types, empty bodies,
 * prototype keys, deep nesting, strings PostgreSQL cannot store, odd ids (quotes, SQL, unicode,
 * path traversal, over-long), invalid cursors and out-of-range timestamps, with an admin token and
 * with a tenant key. Each must be a 4xx with the contract's error JSON naming the problem, never
 * a 5xx; afterwards the gateway is healthy and still stores runs. Then bodies over BODY_LIMIT over
 * real sockets (the client gets the 413 JSON, not a reset), and a fast-check property: random
 * bodies to invoke and feedback never produce a 5xx.
 */
import { request as httpRequest } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { ADMIN, noPostgres, startTestGateway, type TestGateway } from '../support/gateway.js';

const BODY_LIMIT = 1024 * 1024;
const UUID = '3f1c2a4e-9b7d-4c1e-8f00-123456789abc';

interface Case {
  name: string;
  method: string;
  url: string;
  headers?: Record<string, string>;
  payload?: string;
  /** Must be a 4xx (else: anything but a 5xx). */
  mustFail: boolean;
  /** A 400 must name this (field, parameter) in its error JSON. */
  mention?: string;
  code?: string;
}

interface Outcome {
  status: number;
  body: any;
  raw: string;
}

const deepArrays = (n: number) => '['.repeat(n) + ']'.repeat(n);
const deepObjects = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
const b64 = (s: string) => Buffer.from(s).toString('base64url');

/** Odd values for a path parameter, already in URL form. Each is invalid for every id or UUID. */
const ODD_IDS: Array<[string, string]> = [
  ['quotes', encodeURIComponent(`x'"`)],
  ['sql', encodeURIComponent('1; DROP TABLE runs;--')],
  ['sql-uuid', encodeURIComponent("00000000-0000-0000-0000-000000000000' OR '1'='1")],
  ['unicode', encodeURIComponent('ünïcødé')],
  ['emoji', '%F0%9F%92%A9'],
  ['traversal', '..%2F..%2Fetc%2Fpasswd'],
  ['dots', '..'],
  ['nul', '%00'],
  ['bad-percent', '%E0%A4%A'],
  ['too-long', 'a'.repeat(300)],
  ['spaces', '%20x%20'],
];

const BAD_TIMESTAMPS = [
  '99999-01-01T00:00:00Z',
  '-000001-01-01T00:00:00Z',
  '2026-13-45T00:00:00Z',
  'yesterday',
  '0000-01-01T00:00:00Z',
  '1e12',
  '',
];

describe.skipIf(noPostgres)('hostile input', () => {
  let gw: TestGateway;
  let upstream: FakeUpstream;
  let tenantKey: string;
  let runId: string;
  let rolloutId: string;
  let doc: any;

  const send = async (c: Pick<Case, 'method' | 'url' | 'headers' | 'payload'>, token: string | null): Promise<Outcome> => {
    const res = await gw.gateway.app.inject({
      method: c.method as 'GET',
      url: c.url,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...c.headers },
      payload: c.payload,
    });
    let body: unknown;
    try {
      body = res.body ? JSON.parse(res.body) : undefined;
    } catch {
      body = undefined;
    }
    return { status: res.statusCode, body, raw: res.body };
  };

  /** What is wrong with an outcome, or undefined when it is fine. */
  const problem = (c: Case, r: Outcome): string | undefined => {
    if (r.status >= 500) return `${r.status} ${r.raw.slice(0, 200)}`;
    if (r.status < 400) return c.mustFail ? `accepted with ${r.status}` : undefined;
    const e = r.body?.error;
    if (typeof e?.code !== 'string' || typeof e?.message !== 'string' || e.message.length === 0)
      return `${r.status} without the error JSON: ${r.raw.slice(0, 200)}`;
    // A tenant key on an admin route is a 403 whatever the input: the input's own error is not due.
    if (r.status === 403 && e.code === 'forbidden') return undefined;
    if (c.code && e.code !== c.code) return `code ${e.code}, expected ${c.code}: ${e.message}`;
    if (e.code === 'validation_failed' && c.mention && !JSON.stringify(r.body).includes(c.mention))
      return `400 does not name ${c.mention}: ${e.message}`;
    return undefined;
  };

  beforeAll(async () => {
    upstream = await startFakeUpstream({ record: false });
    gw = await startTestGateway({ listen: true, env: { BODY_LIMIT: String(BODY_LIMIT) } });
    await gw.request('PUT', '/v1/tenants/acme', { name: 'ACME' });
    tenantKey = (await gw.request('POST', '/v1/tenants/acme/keys', { name: 'hostile' })).body.key;
    await gw.request('PUT', '/v1/chains/c', {});
    await gw.request('POST', '/v1/chains/c/versions', { version: 'v1', adapter: { type: 'http', url: upstream.url } });
    await gw.request('POST', '/v1/chains/c/versions', { version: 'v2', adapter: { type: 'http', url: upstream.url } });
    const invoked = await gw.request('POST', '/v1/chains/c/invoke', {
      tenant: 'acme',
      environment: 'prod',
      input: { a: 1 },
      externalId: 'E1',
    });
    runId = invoked.body.runId;
    const rollout = await gw.request('POST', '/v1/rollouts', {
      chain: 'c',
      control: 'v1',
      candidate: 'v2',
      stages: [{ environments: ['prod'], percent: 50, splitBy: 'unit' }],
    });
    rolloutId = rollout.body.id;
    expect(rolloutId).toBeTypeOf('string');
    await gw.gateway.services.writer.flush();
    doc = (await gw.request('GET', '/openapi.json')).body;
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  const VALID_PARAMS = (): Record<string, string> => ({ tenantId: 'acme', keyId: UUID, erasureId: UUID, chain: 'c', runId, id: rolloutId });

  /** Every route of the OpenAPI document and the hidden ones, with the cases that fit it. */
  function buildCases(): Case[] {
    const cases: Case[] = [];
    const routes: Array<{ method: string; path: string; op: any }> = [];
    for (const [path, ops] of Object.entries<any>(doc.paths))
      for (const [method, op] of Object.entries<any>(ops)) routes.push({ method: method.toUpperCase(), path, op });
    routes.push({ method: 'GET', path: '/openapi.json', op: {} }, { method: 'GET', path: '/dashboard', op: {} });
    const json = { 'content-type': 'application/json' };
    const fill = (path: string, over: Record<string, string> = {}) =>
      path.replace(/\{(\w+)\}/g, (_, p: string) => over[p] ?? VALID_PARAMS()[p] ?? 'x');

    for (const { method, path, op } of routes) {
      const label = `${method} ${path}`;
      const params = (op.parameters ?? []) as Array<{ in: string; name: string; schema?: any }>;
      // Odd ids in every path parameter.
      for (const p of params.filter((x) => x.in === 'path')) {
        for (const [what, value] of ODD_IDS) {
          // '..' is resolved away by URL normalisation: another route answers, and must refuse too.
          const mention = what === 'dots' ? undefined : p.name;
          cases.push({
            name: `${label} ${p.name}=${what}`,
            method,
            url: fill(path, { [p.name]: value }),
            mustFail: true,
            mention,
            ...(method === 'GET' ? {} : { headers: json, payload: '{}' }),
          });
        }
      }
      // Query parameters: wrong values, out-of-range timestamps, repeats, unknown ones.
      const query = params.filter((x) => x.in === 'query');
      if (query.length > 0) {
        const url = fill(path);
        const q = (s: string) => `${url}?${s}`;
        for (const p of query) {
          if (p.name === 'externalId') {
            // Any caller string is a valid external id: hostile ones are just values (no 5xx, no injection).
            for (const v of ["x'; DROP TABLE runs;--", '..%2F..', 'ünï', '%00'])
              cases.push({ name: `${label} ?externalId=${v}`, method, url: q(`externalId=${encodeURIComponent(v)}`), mustFail: false });
            cases.push({ name: `${label} ?externalId=`, method, url: q('externalId='), mustFail: true, mention: 'externalId' });
            continue;
          }
          const bad =
            p.name === 'from' || p.name === 'to'
              ? BAD_TIMESTAMPS.filter((t) => t !== '0000-01-01T00:00:00Z')
              : p.name === 'cursor'
                ? ['garbage', '!!!', b64('["2026-01-01T00:00:00Z","x"]'), b64('{"a":1}'), b64('[1,2]'), 'A'.repeat(300)]
                : p.name === 'limit' || p.name === 'stage'
                  ? ['-1', 'abc', '1e309', '501', '1.5', ...(p.name === 'limit' ? [''] : [])]
                  : ["x'; DROP TABLE runs;--", '', '..%2F..', 'ünï'];
          for (const v of bad)
            cases.push({
              name: `${label} ?${p.name}=${v.slice(0, 30)}`,
              method,
              url: q(`${p.name}=${encodeURIComponent(v)}`),
              mustFail: true,
              mention: p.name,
            });
          cases.push({ name: `${label} ?${p.name} twice`, method, url: q(`${p.name}=a&${p.name}=b`), mustFail: true });
        }
        // Timestamps that parse but lie at the edge of what PostgreSQL and Date can hold.
        for (const t of ['0000-01-01T00:00:00Z', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z'].filter(() =>
          query.some((p) => p.name === 'from'),
        )) {
          cases.push({ name: `${label} ?from=${t}`, method, url: q(`from=${encodeURIComponent(t)}`), mustFail: false });
        }
        if (query.some((p) => p.name === 'cursor')) {
          for (const t of ['0000-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '1970-01-01T00:00:00Z']) {
            cases.push({ name: `${label} cursor at ${t}`, method, url: q(`cursor=${b64(JSON.stringify([t, UUID]))}`), mustFail: false });
          }
        }
        for (const extra of ['bogus=1', '__proto__=x', 'constructor[prototype][x]=1', 'tenant[]=acme']) {
          cases.push({ name: `${label} ?${extra}`, method, url: q(extra), mustFail: true });
        }
      }
      // Bodies, for every route that reads one.
      const schema = op.requestBody?.content?.['application/json']?.schema;
      if (method !== 'GET' && (schema || method === 'POST' || method === 'PUT')) {
        const url = fill(path);
        const body = (payload: string, mustFail: boolean, name: string, extra: Partial<Case> = {}) =>
          cases.push({ name: `${label} ${name}`, method, url, headers: json, payload, mustFail, ...extra });
        for (const raw of ['[]', '"string"', '42', 'null', 'true', '[{}]']) body(raw, true, `body ${raw}`);
        body('{}', false, 'body {}');
        body('{not json', true, 'non-JSON', { code: 'invalid_json' });
        body('{"a":1,}', true, 'trailing comma', { code: 'invalid_json' });
        // No body with the JSON content type (curl helpers send it on every call) is no body: taken
        // where the body is optional, else refused by the route's schema (not as unparsable JSON).
        // (outside-review.test.ts checks both outcomes on real routes.)
        body('', false, 'empty body with JSON content type');
        body('{"__proto__":{"polluted":true}}', true, '__proto__', { code: 'forbidden_key' });
        body('{"constructor":{"prototype":{"polluted":true}}}', true, 'constructor.prototype', { code: 'forbidden_key' });
        body('{"input":{"a":[{"__proto__":{"polluted":true}}]}}', true, 'nested __proto__', { code: 'forbidden_key' });
        body(`{"input":${deepArrays(100_000)}}`, true, 'deep arrays', { code: 'json_too_deep' });
        body(`{"input":${deepObjects(20_000)}}`, true, 'deep objects', { code: 'json_too_deep' });
        body('{"input":"a\\u0000b","environment":"prod","tenant":"acme"}', true, 'U+0000', { code: 'unstorable_text' });
        body('{"input":{"k\\ud800":1},"environment":"prod"}', true, 'lone surrogate', { code: 'unstorable_text' });
        body(`{"input":"${'x'.repeat(BODY_LIMIT)}"}`, true, 'over BODY_LIMIT', { code: 'payload_too_large' });
        cases.push({
          name: `${label} text/plain`,
          method,
          url,
          headers: { 'content-type': 'text/plain' },
          payload: 'hello',
          mustFail: true,
        });
        for (const ct of [
          'application/x-www-form-urlencoded',
          'application/xml',
          'multipart/form-data; boundary=x',
          'application/json-patch+json',
        ]) {
          cases.push({ name: `${label} ${ct}`, method, url, headers: { 'content-type': ct }, payload: 'a=1', mustFail: true });
        }
        cases.push({
          name: `${label} JSON as utf-16`,
          method,
          url,
          headers: { 'content-type': 'application/json; charset=utf-16' },
          payload: '{}',
          mustFail: false,
        });
        cases.push({ name: `${label} no content type`, method, url, payload: '{"a":1}', mustFail: true });
        // Wrong types, one field at a time: the 400 names the field.
        for (const [prop, s] of Object.entries<any>(schema?.properties ?? {})) {
          const wrong =
            s.type === 'string'
              ? [12345, ['x'], { a: 1 }]
              : s.type === 'number' || s.type === 'integer'
                ? ['abc', [1], { n: 1 }]
                : s.type === 'boolean'
                  ? ['yes', 1]
                  : s.type === 'array'
                    ? [{ not: 'array' }, 'x']
                    : s.type === 'object'
                      ? ['not an object', [1]]
                      : [];
          for (const w of wrong) body(JSON.stringify({ [prop]: w }), true, `${prop}=${JSON.stringify(w)}`, { mention: prop });
        }
      }
    }
    // Static files: no way out of their folders.
    for (const url of [
      '/dashboard/..%2F..%2Fpackage.json',
      '/dashboard/../../package.json',
      '/dashboard/%2e%2e/%2e%2e/package.json',
      '/docs/static/..%2F..%2F..%2Fpackage.json',
      '/dashboard/vendor/..%2F..%2F..%2Fpackage.json',
    ]) {
      cases.push({ name: `GET ${url}`, method: 'GET', url, mustFail: true });
    }
    // Headers.
    const invoke = { method: 'POST', url: '/v1/chains/c/invoke', payload: '{"tenant":"acme","environment":"prod","input":1}' };
    for (const key of ['', 'x'.repeat(300), 'with space', 'tab\tkey']) {
      cases.push({
        name: `Idempotency-Key ${JSON.stringify(key.slice(0, 12))}`,
        ...invoke,
        headers: { ...json, 'idempotency-key': key },
        mustFail: true,
        mention: 'idempotency-key',
      });
    }
    for (const [h, v] of [
      ['x-tenant', '../etc'],
      ['x-environment', "'; drop"],
      ['x-tenant', 'ünï'],
    ] as const) {
      cases.push({
        name: `langserve ${h}=${v}`,
        method: 'POST',
        url: '/chains/c/invoke',
        headers: {
          ...json,
          [h]: encodeURIComponent(v) === v ? v : v.replace(/[^\x20-\x7e]/g, '?'),
          ...(h === 'x-tenant' ? { 'x-environment': 'prod' } : { 'x-tenant': 'acme' }),
        },
        payload: '{"input":1}',
        mustFail: true,
        mention: h,
      });
    }
    return cases;
  }

  async function runMatrix(token: string | null, label: string): Promise<{ count: number; failures: string[] }> {
    const failures: string[] = [];
    const cases = buildCases();
    for (const c of cases) {
      const r = await send(c, token);
      const p = problem(c, r);
      if (p) failures.push(`[${label}] ${c.name}: ${p}`);
    }
    return { count: cases.length, failures };
  }

  it('answers every hostile request to every route with a 4xx error JSON naming the problem (admin token)', async () => {
    const { count, failures } = await runMatrix(ADMIN, 'admin');
    expect(count).toBeGreaterThan(800);
    expect(failures).toEqual([]);
  });

  it('does the same with a tenant key (403 on admin routes, whatever the body)', async () => {
    const { failures } = await runMatrix(tenantKey, 'tenant');
    expect(failures).toEqual([]);
    const r = await send(
      {
        method: 'POST',
        url: '/v1/chains/c/versions',
        headers: { 'content-type': 'application/json' },
        payload: `{"input":${deepArrays(100_000)}}`,
      },
      tenantKey,
    );
    expect(r.status).toBe(403);
  });

  it('refuses odd Authorization headers with 401', async () => {
    for (const authorization of [
      'Bearer',
      'Bearer ',
      `Bearer ${'x'.repeat(10_000)}`,
      'Basic YWRtaW46YWRtaW4=',
      `Token ${ADMIN}`,
      `Bearer ${ADMIN}x`,
      `Bearer  ${ADMIN.slice(1)}`,
    ]) {
      const r = await send({ method: 'GET', url: '/v1/tenants', headers: { authorization } }, null);
      expect(r.status, authorization.slice(0, 20)).toBe(401);
      expect(r.body.error.code).toBe('unauthorized');
    }
  });

  it('stays healthy after the matrices: health, readiness, a normal call stored, no polluted prototype', async () => {
    expect((await gw.request('GET', '/healthz', undefined, null)).body).toEqual({ status: 'ok' });
    expect((await gw.request('GET', '/readyz', undefined, null)).status).toBe(200);
    const ok = await gw.request('POST', '/v1/chains/c/invoke', { tenant: 'acme', environment: 'prod', input: { after: 'matrix' } });
    expect(ok.status).toBe(200);
    // The writer is not wedged on a record the database refuses.
    await gw.gateway.services.writer.flush();
    expect((await gw.gateway.services.runStore.getRun(ok.body.runId))?.id).toBe(ok.body.runId);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  /** Streams `total` bytes of a JSON body over a real socket; what the client saw. */
  function stream(
    total: number,
    opts: { chunked: boolean },
  ): Promise<{ status?: number; body?: any; error?: string; writeError?: string }> {
    return new Promise((resolve) => {
      const url = new URL('/v1/chains/c/invoke', gw.url);
      const req = httpRequest(url, {
        method: 'POST',
        agent: false,
        headers: {
          authorization: `Bearer ${ADMIN}`,
          'content-type': 'application/json',
          ...(opts.chunked ? {} : { 'content-length': String(total) }),
        },
      });
      const writeError: string | undefined = undefined;
      req.on('response', (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode, body: text ? JSON.parse(text) : undefined, writeError }));
      });
      req.on('error', (err) => resolve({ error: (err as NodeJS.ErrnoException).code ?? err.message, writeError }));
      const head = '{"tenant":"acme","environment":"prod","input":"';
      req.write(head);
      let sent = head.length;
      const chunk = 'x'.repeat(64 * 1024);
      const pump = () => {
        while (sent + chunk.length < total - 2) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end('x'.repeat(Math.max(0, total - 2 - sent)) + '"}');
      };
      pump();
    });
  }

  it('sends the 413 JSON to a client streaming a body over BODY_LIMIT, with or without Content-Length', async () => {
    for (const chunked of [false, true]) {
      const r = await stream(4 * BODY_LIMIT, { chunked });
      expect(r.error, `chunked=${chunked}`).toBeUndefined();
      expect(r.status).toBe(413);
      expect(r.body).toEqual({ error: { code: 'payload_too_large', message: expect.stringContaining(String(BODY_LIMIT)) } });
    }
    // Just under the limit is an ordinary call.
    const under = await stream(BODY_LIMIT - 1024, { chunked: true });
    expect(under.status).toBe(200);
    expect((await gw.request('GET', '/healthz', undefined, null)).status).toBe(200);
  });

  it('property: random JSON bodies to invoke and feedback never get a 5xx', async () => {
    const anyJson = fc.jsonValue({ maxDepth: 4, stringUnit: 'binary' });
    const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
    const idLike = fc.oneof(
      fc.constantFrom('acme', 'prod', 'c', 'nope', '', '..', "'"),
      fc.string({ maxLength: 10, unit: 'binary' }),
      anyJson,
    );
    const invokeBody = fc.oneof(
      anyJson,
      fc.record(
        {
          tenant: maybe(idLike),
          environment: maybe(idLike),
          input: maybe(anyJson),
          unit: maybe(idLike),
          externalId: maybe(idLike),
          metadata: maybe(anyJson),
        },
        { requiredKeys: [] },
      ),
      fc.record({
        tenant: fc.constant('acme'),
        environment: fc.constant('prod'),
        input: anyJson,
        externalId: maybe(fc.string({ maxLength: 300, unit: 'binary' })),
      }),
    );
    const feedbackBody = fc.oneof(
      anyJson,
      fc.record(
        {
          final: maybe(anyJson),
          overrides: maybe(fc.oneof(anyJson, fc.array(fc.record({ field: idLike, value: anyJson }, { requiredKeys: [] })))),
          reviewer: maybe(idLike),
        },
        { requiredKeys: [] },
      ),
    );
    const serialise = (v: unknown) => JSON.stringify(v) ?? 'null';
    const check = (what: string, r: Outcome, body: string) => {
      if (r.status >= 500) throw new Error(`${what} ${r.status} for ${body.slice(0, 300)}: ${r.raw.slice(0, 300)}`);
      if (r.status >= 400 && typeof r.body?.error?.code !== 'string') throw new Error(`${what} ${r.status} without error JSON`);
    };
    const json = { 'content-type': 'application/json' };
    await fc.assert(
      fc.asyncProperty(invokeBody, feedbackBody, fc.boolean(), async (ib, fb, useTenantKey) => {
        const token = useTenantKey ? tenantKey : ADMIN;
        const ibText = serialise(ib);
        const inv = await send({ method: 'POST', url: '/v1/chains/c/invoke', headers: json, payload: ibText }, token);
        check('invoke', inv, ibText);
        const ls = await send(
          {
            method: 'POST',
            url: '/chains/c/invoke',
            headers: { ...json, 'x-tenant': 'acme', 'x-environment': 'prod' },
            payload: serialise({ input: ib }),
          },
          token,
        );
        check('langserve', ls, ibText);
        const target = inv.status === 200 ? inv.body.runId : runId;
        const fbText = serialise(fb);
        check(
          'feedback',
          await send({ method: 'POST', url: `/v1/runs/${target}/feedback`, headers: json, payload: fbText }, token),
          fbText,
        );
        const byExt = serialise({
          ...(typeof fb === 'object' && fb !== null && !Array.isArray(fb) ? fb : { final: fb }),
          chain: 'c',
          externalId: 'E1',
        });
        check('feedback by external id', await send({ method: 'POST', url: '/v1/feedback', headers: json, payload: byExt }, token), byExt);
      }),
      { numRuns: 150 },
    );
    await gw.gateway.services.writer.flush();
    expect((await gw.request('GET', '/healthz', undefined, null)).status).toBe(200);
  });
});

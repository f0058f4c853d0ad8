/**
 * Hostile input as properties (issue 19): fast-check generates path parameters, query strings,
 * headers and bodies for every route of the OpenAPI document (and the hidden LangServe and page
 * routes), from pools that mix valid ids (both tenants', so it tries the other tenant's run ids,
 * external ids and names), near-valid values (timestamps at the edges, huge numbers, long and odd
 * strings) and arbitrary JSON. For every request:
 *   - no 5xx (the upstream is healthy: nothing a caller sends may break the gateway);
 *   - every 4xx is the contract's error JSON with a code and a message;
 *   - a tenant key never sees the other tenant's data in an answer;
 * and after all of them, the other tenant's runs, feedback and keys are exactly as they were,
 * and the gateway still answers and stores a normal call.
 * Runs are bounded (NUM_RUNS per route and principal; the seed is fixed, FC_SEED overrides it),
 * so the suite takes well under a minute.
 */
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { ADMIN, noPostgres, startTestGateway, type TestGateway } from '../support/gateway.js';

const NUM_RUNS = Number(process.env.FC_RUNS ?? 25);
const SEED = Number(process.env.FC_SEED ?? 20261206);

interface Route {
  method: string;
  path: string;
  pathParams: string[];
  query: string[];
  bodyKeys: string[] | undefined;
}

interface Req {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string;
}

describe.skipIf(noPostgres)('hostile input properties', () => {
  let gw: TestGateway;
  let upstream: FakeUpstream;
  let db: pg.Client;
  let acmeKey: string;
  let globexKey: string;
  let routes: Route[] = [];
  /** Values only the other tenant (globex) has: none may show up in an answer to acme's key. */
  const globexSecrets: string[] = [];
  const ids = { acmeRun: '', globexRun: '', rollout: '', acmeKeyId: '', globexKeyId: '' };

  /** Everything of globex's that acme's key must not change. */
  const globexState = async () => {
    await gw.services().writer.flush();
    const runs = await db.query("SELECT id, output, external_id FROM runs WHERE tenant_id = 'globex' ORDER BY id");
    const fb = await db.query(
      "SELECT f.run_id, f.overridden, f.fields, f.reviewer, f.at FROM feedback f JOIN runs r ON r.id = f.run_id WHERE r.tenant_id = 'globex' ORDER BY f.run_id",
    );
    const keys = await db.query("SELECT id, revoked_at FROM api_keys WHERE tenant_id = 'globex' ORDER BY id");
    const tenant = await db.query("SELECT id, name FROM tenants WHERE id = 'globex'");
    return JSON.stringify({ runs: runs.rows, feedback: fb.rows, keys: keys.rows, tenant: tenant.rows });
  };

  beforeAll(async () => {
    upstream = await startFakeUpstream({ behaviour: { output: (input) => ({ echo: input, total: 1 }) }, record: false });
    gw = await startTestGateway({ env: { RATE_LIMIT_PER_MINUTE: '0', AUTH_FAILURES_PER_MINUTE: '0' } });
    db = new pg.Client({ connectionString: gw.config.DATABASE_URL });
    await db.connect();
    for (const t of ['acme', 'globex']) await gw.request('PUT', `/v1/tenants/${t}`, { name: t.toUpperCase() });
    const a = (await gw.request('POST', '/v1/tenants/acme/keys', { name: 'fuzz' })).body;
    const g = (await gw.request('POST', '/v1/tenants/globex/keys', { name: 'globex-app' })).body;
    [acmeKey, globexKey, ids.acmeKeyId, ids.globexKeyId] = [a.key, g.key, a.id, g.id];
    await gw.request('PUT', '/v1/chains/c', {});
    for (const v of ['v1', 'v2'])
      await gw.request('POST', '/v1/chains/c/versions', { version: v, adapter: { type: 'http', url: upstream.url } });
    ids.acmeRun = (
      await gw.request('POST', '/v1/chains/c/invoke', { environment: 'prod', input: { doc: 'acme' }, externalId: 'A-1' }, acmeKey)
    ).body.runId;
    const gr = await gw.request(
      'POST',
      '/v1/chains/c/invoke',
      { environment: 'prod', input: { doc: 'GLOBEX-CONFIDENTIAL' }, externalId: 'G-1' },
      globexKey,
    );
    ids.globexRun = gr.body.runId;
    await gw.request('POST', `/v1/runs/${ids.globexRun}/feedback`, { final: { total: 1 } }, globexKey);
    ids.rollout = (
      await gw.request('POST', '/v1/rollouts', {
        chain: 'c',
        control: 'v1',
        candidate: 'v2',
        stages: [{ environments: ['prod'], percent: 50, splitBy: 'unit' }],
      })
    ).body.id;
    globexSecrets.push(ids.globexRun, 'GLOBEX-CONFIDENTIAL', ids.globexKeyId, globexKey);
    await gw.services().writer.flush();

    const doc = (await gw.request('GET', '/openapi.json', undefined, null)).body;
    for (const [path, ops] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(ops)) {
        const params = (op.parameters ?? []) as Array<{ in: string; name: string }>;
        const schema = op.requestBody?.content?.['application/json']?.schema;
        routes.push({
          method: method.toUpperCase(),
          path,
          pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
          query: params.filter((p) => p.in === 'query').map((p) => p.name),
          bodyKeys: schema ? Object.keys(schema.properties ?? {}) : method === 'get' ? undefined : [],
        });
      }
    }
    routes.push({ method: 'GET', path: '/dashboard/{file}', pathParams: ['file'], query: [], bodyKeys: undefined });
    routes = routes.filter((r) => r.path !== '/metrics');
  });
  afterAll(async () => {
    await db?.end();
    await gw?.close();
    await upstream?.close();
  });

  // ---- value pools ------------------------------------------------------------------------

  const idLike = () =>
    fc.oneof(
      fc.constantFrom('acme', 'globex', 'c', 'v1', 'v2', 'prod', 'staging', 'A-1', 'G-1', 'x', ''),
      fc
        .constantFrom(
          ...[() => ids.acmeRun, () => ids.globexRun, () => ids.rollout, () => ids.acmeKeyId, () => ids.globexKeyId].map((f) => f),
        )
        .map((f) => f()),
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 20 }),
      fc.uuid(),
    );
  const timestamp = () =>
    fc.oneof(
      fc.constantFrom(
        '9999-12-31T23:59:59-14:00',
        '0000-01-01T00:00:00Z',
        '0001-01-01T00:00:00+14:00',
        '9999-12-30T23:59:59.999Z',
        '2026-02-30T00:00:00Z',
        '1970-01-01T00:00:00Z',
      ),
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    );
  const scalar = () =>
    fc.oneof(
      idLike(),
      timestamp(),
      fc.integer(),
      fc.constantFrom(0, -1, 1e308, -1e308, 2 ** 53, 0.1, 1e-320),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.constant(null),
      fc.string({ unit: 'grapheme', maxLength: 300 }),
    );
  const value = () =>
    fc.oneof(
      { weight: 3, arbitrary: scalar() },
      fc.jsonValue({ maxDepth: 4 }),
      fc.array(scalar(), { maxLength: 5 }),
      fc.dictionary(fc.string({ maxLength: 10 }), scalar(), { maxKeys: 5 }),
    );

  /** A valid body for a route, so that mutations of it reach the services and the database. */
  const template = (route: Route): Record<string, unknown> => {
    const p = route.path;
    if (p === '/v1/chains/{chain}/invoke')
      return { tenant: 'acme', environment: 'prod', input: { doc: 1 }, externalId: 'A-2', unit: 'u1', metadata: { m: 1 } };
    if (p === '/chains/{chain}/invoke' || p === '/chains/{chain}/stream')
      return { input: { doc: 1 }, config: { configurable: { tenant: 'acme', environment: 'prod' } } };
    if (p === '/chains/{chain}/batch')
      return { inputs: [{ doc: 1 }, 2], config: { configurable: { tenant: 'acme', environment: 'prod' } } };
    if (p === '/v1/runs/{runId}/feedback') return { final: { total: 2 }, reviewer: 'ann' };
    if (p === '/v1/feedback') return { chain: 'c', externalId: 'A-1', final: { total: 2 } };
    if (p === '/v1/chains/{chain}/versions') return { version: 'v9', adapter: { type: 'http', url: upstream.url } };
    if (p === '/v1/chains/{chain}') return { description: 'd', redaction: { mode: 'patterns' } };
    if (p === '/v1/rollouts')
      return {
        chain: 'c',
        control: 'v1',
        candidate: 'v2',
        stages: [{ environments: ['prod'], percent: 10 }],
        guardrails: [{ metric: 'error_rate', max: 0.1, minSamples: 10 }],
      };
    if (p.endsWith('/rollback')) return { reason: 'fuzz' };
    return { name: 'n' };
  };

  /** Mutations of the template (each field kept, replaced, or dropped; extra keys), or arbitrary text. */
  const bodyFor = (route: Route) => {
    const t = template(route);
    const keys = [...new Set([...Object.keys(t), ...(route.bodyKeys ?? [])])];
    const field = (k: string) => (k in t ? fc.oneof({ weight: 3, arbitrary: fc.constant(t[k]) }, value()) : value());
    const mutated = fc
      .record(Object.fromEntries(keys.map((k) => [k, field(k)])), { requiredKeys: [] })
      .chain((o) =>
        fc
          .dictionary(fc.constantFrom('bogus', 'tenant', '__proto__', 'constructor'), value(), { maxKeys: 1 })
          .map((extra) => ({ ...o, ...(Object.keys(extra).length ? extra : {}) })),
      );
    return fc.oneof(
      { weight: 2, arbitrary: fc.constant(JSON.stringify(t)) },
      { weight: 6, arbitrary: mutated.map((o) => JSON.stringify(o)) },
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 200 }),
      fc.constantFrom(
        '',
        '{',
        '{"__proto__":{"x":1}}',
        '{"constructor":{"prototype":{"x":1}}}',
        '[]',
        'null',
        '{"input":"\\u0000"}',
        '{"input":"\\ud800"}',
      ),
    );
  };

  /** Path parameters: mostly ones that exist (both tenants'), else anything. */
  const paramFor = (name: string) => {
    const valid: Record<string, () => string[]> = {
      tenantId: () => ['acme', 'globex'],
      chain: () => ['c'],
      runId: () => [ids.acmeRun, ids.globexRun],
      id: () => [ids.rollout],
      keyId: () => [ids.acmeKeyId, ids.globexKeyId],
    };
    const v = valid[name];
    return v
      ? fc.oneof(
          {
            weight: 3,
            arbitrary: fc
              .constant(null)
              .map(() => v())
              .chain((list) => fc.constantFrom(...list)),
          },
          idLike(),
        )
      : idLike();
  };

  /** Query values: mostly plausible for the parameter, else anything. */
  const queryValue = (name: string) => {
    const plausible: Record<string, string[]> = {
      chain: ['c'],
      tenant: ['acme', 'globex'],
      environment: ['prod'],
      variant: ['control', 'candidate', 'default'],
      overridden: ['true', 'false'],
      externalId: ['A-1', 'G-1'],
      limit: ['1', '10', '500'],
      bucket: ['minute', 'hour', 'day'],
      stage: ['0', '1'],
    };
    const p = plausible[name];
    return fc.oneof(
      { weight: 2, arbitrary: name === 'from' || name === 'to' ? timestamp() : p ? fc.constantFrom(...p) : scalar().map(String) },
      scalar().map(String),
    );
  };

  const headers = () =>
    fc
      .record(
        {
          'content-type': fc.oneof(
            { weight: 4, arbitrary: fc.constant('application/json') },
            fc.constantFrom(
              'application/json; charset=utf-8',
              'text/plain',
              'application/x-www-form-urlencoded',
              'application/json; charset=utf-16',
            ),
          ),
          'idempotency-key': fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('k', 'same-key', 'x'.repeat(300))),
          'x-tenant': fc.constantFrom('acme', 'globex', '', '../x'),
          'x-environment': fc.constantFrom('prod', '', 'bad env'),
          'x-chain-canary-hop': fc.string({ maxLength: 30 }),
          accept: fc.constantFrom('*/*', 'text/html', 'application/xml'),
          'x-forwarded-for': fc.constantFrom('1.2.3.4', 'garbage'),
        },
        { requiredKeys: [] },
      )
      .map((h) => Object.fromEntries(Object.entries(h).filter(([, v]) => /^[\x20-\x7e]*$/.test(v))));

  const requestFor = (route: Route): fc.Arbitrary<Req> =>
    fc
      .record({
        params: fc.tuple(...route.pathParams.map((name) => paramFor(name)), fc.constant('')),
        query: fc
          .array(fc.tuple(fc.constantFrom(...route.query, ...route.query, 'bogus'), fc.constant(null)), { maxLength: 4 })
          .chain((pairs) => fc.tuple(...pairs.map(([k]) => queryValue(k).map((v) => [k, v] as [string, string])), fc.constant(null))),
        headers: headers(),
        payload: route.bodyKeys === undefined ? fc.constant(undefined) : bodyFor(route),
      })
      .map(({ params, query, headers: h, payload }) => {
        let i = 0;
        const path = route.path.replace(/\{(\w+)\}/g, () => encodeURIComponent(String(params[i++] ?? 'x')) || 'x');
        const qs = new URLSearchParams(query.filter((q): q is [string, string] => q !== null)).toString();
        return { method: route.method, url: qs ? `${path}?${qs}` : path, headers: h, ...(payload === undefined ? {} : { payload }) };
      });

  // ---- the properties -----------------------------------------------------------------------

  /** What is wrong with the answer to `req`, or undefined. */
  async function problem(req: Req, token: string, forTenant: boolean): Promise<string | undefined> {
    const res = await gw.gateway.app.inject({
      method: req.method as 'GET',
      url: req.url,
      headers: { ...req.headers, authorization: `Bearer ${token}` },
      payload: req.payload,
    });
    if (res.statusCode >= 500) return `${res.statusCode} ${res.body.slice(0, 300)}`;
    if (forTenant) {
      // An answer may echo what the request named (a 404 for globex's run id says which id); anything else of globex's is a leak.
      const sent = req.url + JSON.stringify(req.headers) + (req.payload ?? '');
      for (const s of globexSecrets)
        if (res.body.includes(s) && !sent.includes(s))
          return `answer to acme's key contains globex's ${s.slice(0, 12)}…: ${res.body.slice(0, 300)}`;
    }
    if (res.statusCode >= 400) {
      let body: any;
      try {
        body = JSON.parse(res.body);
      } catch {
        return `${res.statusCode} is not JSON: ${res.body.slice(0, 200)}`;
      }
      const e = body?.error;
      if (typeof e?.code !== 'string' || !e.code || typeof e?.message !== 'string' || !e.message)
        return `${res.statusCode} not in the error format: ${res.body.slice(0, 200)}`;
    }
    return undefined;
  }

  async function checkAll(token: string, forTenant: boolean, only?: (r: Route) => boolean): Promise<string[]> {
    const failures: string[] = [];
    for (const route of routes.filter(only ?? (() => true))) {
      const result = await fc.check(
        fc.asyncProperty(requestFor(route), async (req) => {
          const p = await problem(req, token, forTenant);
          if (p) throw new Error(p);
        }),
        { numRuns: NUM_RUNS, seed: SEED, endOnFailure: true },
      );
      if (result.failed)
        failures.push(`${route.method} ${route.path}: ${fc.defaultReportMessage(result)?.split('\n').slice(0, 12).join(' | ')}`);
    }
    return failures;
  }

  it("with a tenant key: no 5xx, the error format, nothing of the other tenant's seen or changed", async () => {
    const before = await globexState();
    const failures = await checkAll(acmeKey, true);
    expect(failures).toEqual([]);
    expect(await globexState()).toBe(before);
    // globex's key still works and still sees its own run as it was.
    const own = await gw.request('GET', `/v1/runs/${ids.globexRun}`, undefined, globexKey);
    expect(own.status).toBe(200);
    expect(own.body.input).toEqual({ doc: 'GLOBEX-CONFIDENTIAL' });
  });

  it('with the admin token: no 5xx and the error format on every route (erasure left out: it is meant to change data)', async () => {
    const failures = await checkAll(ADMIN, false, (r) => !(r.method === 'DELETE' && r.path.endsWith('/runs')));
    expect(failures).toEqual([]);
  });

  it('is still healthy afterwards: a normal call is answered and stored', async () => {
    expect((await gw.request('GET', '/readyz', undefined, null)).status).toBe(200);
    const ok = await gw.request('POST', '/v1/chains/c/invoke', { tenant: 'acme', environment: 'prod', input: { after: 'properties' } });
    expect(ok.status).toBe(200);
    await gw.services().writer.flush();
    expect((await gw.services().runStore.getRun(ok.body.runId))?.id).toBe(ok.body.runId);
    expect(Object.prototype).not.toHaveProperty('x');
  });
});

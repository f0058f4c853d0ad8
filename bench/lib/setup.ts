/**
 * Bench fixtures: a fresh PostgreSQL database per scenario (dropped afterwards), and the catalog a
 * benchmark needs, created through the gateway's own admin API: tenants, a tenant key, a chain
 * with v1 and v2 on the upstream, and a rollout running at 50% split by unit.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { request } from 'undici';

export const PG_ADMIN_URL = process.env.BENCH_PG_URL ?? process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const ADMIN_TOKEN = 'bench-admin-token-0123456789';
export const CHAIN = 'bench';
export const TENANT = 'acme';
export const ENVIRONMENT = 'prod';

export function urlFor(database: string): string {
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${database}`;
  return u.toString();
}

export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

export async function createDatabase(prefix: string): Promise<BenchDatabase> {
  const name = `cc_bench_${prefix}_${randomBytes(4).toString('hex')}`;
  await withClient(PG_ADMIN_URL, (c) => c.query(`CREATE DATABASE ${name}`));
  return {
    name,
    url: urlFor(name),
    drop: async () => {
      if (process.env.BENCH_KEEP_DB === '1') return;
      await withClient(PG_ADMIN_URL, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).catch(() => {});
    },
  };
}

export async function postgresVersion(): Promise<string> {
  return withClient(
    PG_ADMIN_URL,
    async (c) => (await c.query<{ v: string }>("select current_setting('server_version') as v")).rows[0]!.v,
  ).catch(() => 'unreachable');
}

export async function api<T = any>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  token = ADMIN_TOKEN,
): Promise<{ status: number; body: T }> {
  const res = await request(base + path, {
    method: method as 'GET',
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.body.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  return { status: res.statusCode, body: parsed as T };
}

async function must<T>(p: Promise<{ status: number; body: T }>, what: string): Promise<T> {
  const res = await p;
  if (res.status >= 300) throw new Error(`${what}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export interface Fixture {
  tenantKey: string;
  rolloutId: string;
}

/**
 * The catalog of a benchmark. `tenants` extra tenants are created too (the comparison tiers use
 * them); the rollout's one stage covers `ENVIRONMENT` for every tenant, 50% by unit (with
 * `shadow`: 0%, and every call mirrored to the candidate).
 */
export async function setupGateway(
  base: string,
  upstreamUrl: string,
  opts: { tenants?: string[]; guardrails?: unknown[]; shadow?: boolean } = {},
): Promise<Fixture> {
  const tenants = [TENANT, ...(opts.tenants ?? [])];
  for (const t of tenants) await must(api(base, 'PUT', `/v1/tenants/${t}`, { name: t }), `tenant ${t}`);
  const key = await must(api<{ key: string }>(base, 'POST', `/v1/tenants/${TENANT}/keys`, { name: 'bench' }), 'tenant key');
  await must(api(base, 'PUT', `/v1/chains/${CHAIN}`, { description: 'benchmark chain' }), 'chain');
  for (const version of ['v1', 'v2']) {
    await must(
      api(base, 'POST', `/v1/chains/${CHAIN}/versions`, { version, adapter: { type: 'http', url: upstreamUrl, timeoutMs: 10_000 } }),
      `version ${version}`,
    );
  }
  const rollout = await must(
    api<{ id: string }>(base, 'POST', '/v1/rollouts', {
      chain: CHAIN,
      control: 'v1',
      candidate: 'v2',
      // With `shadow`: a 0% stage (every call is the control's) mirrored in full to the candidate.
      stages: [{ environments: [ENVIRONMENT], percent: opts.shadow ? 0 : 50, splitBy: 'unit' }],
      guardrails: opts.guardrails ?? [],
      ...(opts.shadow ? { shadow: { percent: 100 } } : {}),
    }),
    'rollout',
  );
  return { tenantKey: key.key, rolloutId: rollout.id };
}

/** A realistic small extraction call: ~300 bytes of input, echoed by the upstream as the output. */
export function invokeBody(i: number): string {
  return (
    '{"environment":"prod","unit":"doc-' +
    (i % 5000) +
    '","externalId":"INV-' +
    i +
    '","input":{"document":"Invoice INV-' +
    i +
    ' from ACME GmbH, Musterstrasse 1, Berlin. Net 1,200.00 EUR, VAT 228.00 EUR, total 1,428.00 EUR, due 2025-07-31.","total":1428,"vendor":"ACME GmbH","currency":"EUR","date":"2025-07-01","lines":[{"sku":"A-1","qty":3,"price":400}]}}'
  );
}

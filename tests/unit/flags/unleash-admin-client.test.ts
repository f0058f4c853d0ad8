/**
 * The Admin API client against a scripted HTTP server on the loopback: the order of writes,
 * the strategy reconcile, and failure classification (configuration vs recoverable).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RolloutFlag } from '../../../src/domain/ports/flag-store.js';
import { UnleashAdminClient, UnleashAdminError } from '../../../src/flags/unleash-admin-client.js';
import { toAdminStrategies } from '../../../src/flags/unleash-mapping.js';
import { freePort } from '../../support/unleash-server.js';

interface Seen {
  method: string;
  path: string;
  body: unknown;
}
type Handler = (req: Seen) => { status: number; body?: unknown } | undefined;

let server: Server;
let base: string;
let seen: Seen[] = [];
let handler: Handler = () => undefined;

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      const entry: Seen = {
        method: req.method ?? '',
        path: (req.url ?? '').replace(/^\/api/, ''),
        body: raw ? JSON.parse(raw) : undefined,
      };
      seen.push(entry);
      const out = handler(entry) ?? { status: 200, body: {} };
      res.writeHead(out.status, { 'content-type': 'application/json' });
      res.end(out.body === undefined ? '' : JSON.stringify(out.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

beforeEach(() => {
  seen = [];
  handler = () => undefined;
});

const client = (over: Partial<ConstructorParameters<typeof UnleashAdminClient>[0]> = {}) =>
  new UnleashAdminClient({ url: base, adminToken: 'admin', project: 'default', backoffMs: 1, ...over });

const flag: RolloutFlag = {
  name: 'f1',
  enabled: true,
  stages: [
    { environments: ['prod'], tenants: ['acme'], percent: 100, splitBy: 'tenant' },
    { environments: ['prod'], percent: 10, splitBy: 'unit' },
  ],
};
const F = '/admin/projects/default/features/f1';
const S = `${F}/environments/production/strategies`;
const calls = () => seen.map((s) => `${s.method} ${s.path}`);

describe('UnleashAdminClient.applyFlag', () => {
  it('creates a missing flag, adds the strategies, then switches the environment on', async () => {
    handler = (r) => {
      if (r.method === 'GET' && r.path === F) return { status: 404, body: { message: 'Could not find feature flag' } };
      if (r.method === 'GET' && r.path === S) return { status: 200, body: [] };
      return undefined;
    };
    await client().applyFlag(flag, 'production');
    expect(calls()).toEqual([
      `GET ${F}`,
      'POST /admin/projects/default/features',
      `GET ${S}`,
      `POST ${S}`,
      `POST ${S}`,
      `POST ${F}/environments/production/on`,
    ]);
    expect(seen[1]!.body).toMatchObject({ name: 'f1', type: 'release' });
    expect(seen.filter((s) => s.method === 'POST' && s.path === S).map((s) => s.body)).toEqual(toAdminStrategies(flag));
  });

  it('switches off first when the flag is disabled (kill switch before strategy edits)', async () => {
    handler = (r) => (r.method === 'GET' && r.path === S ? { status: 200, body: [] } : undefined);
    await client().applyFlag({ ...flag, enabled: false }, 'production');
    expect(calls().slice(0, 2)).toEqual([`GET ${F}`, `POST ${F}/environments/production/off`]);
  });

  it('reconciles strategies by title: keeps equal ones, replaces changed ones, adds missing, deletes the rest last', async () => {
    const [s1, s0] = toAdminStrategies(flag);
    handler = (r) => {
      if (r.method === 'GET' && r.path === S) {
        return {
          status: 200,
          body: [
            {
              ...s0,
              id: 'id-0',
              constraints: s0!.constraints.map(({ contextName, operator, values }) => ({ contextName, operator, values })),
            },
            {
              ...s1,
              id: 'id-1',
              variants: [
                { ...s1!.variants[0], weight: 50 },
                { ...s1!.variants[1], weight: 950 },
              ],
            },
            { ...s1, id: 'id-9', title: 'stage 9' },
          ],
        };
      }
      return undefined;
    };
    await client().setStrategies('f1', 'production', [s1!, s0!]);
    expect(calls()).toEqual([`GET ${S}`, `PUT ${S}/id-1`, `DELETE ${S}/id-9`]);
    expect(seen[1]!.body).toEqual(s1);
  });
});

describe('UnleashAdminClient failures', () => {
  it('a 401 is a configuration error, not retried', async () => {
    handler = () => ({ status: 401, body: { message: 'You must log in to use Unleash.' } });
    const err = await client()
      .ensureFlag('f1')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnleashAdminError);
    expect(err).toMatchObject({ kind: 'configuration', status: 401 });
    expect((err as Error).message).toMatch(/admin token/);
    expect(seen).toHaveLength(1);
  });

  it('a 404 outside "does the flag exist" names the project', async () => {
    handler = () => ({ status: 404, body: { message: 'Could not find environment production' } });
    const err = await client()
      .setEnabled('f1', 'production', true)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'configuration', status: 404 });
    expect((err as Error).message).toMatch(/project "default"/);
  });

  it('retries 5xx with backoff and succeeds when the server recovers', async () => {
    let n = 0;
    handler = () => (++n <= 2 ? { status: 503, body: { message: 'busy' } } : { status: 200 });
    await client().setEnabled('f1', 'production', false);
    expect(seen).toHaveLength(3);
  });

  it('gives up after the retries with a recoverable error', async () => {
    handler = () => ({ status: 500, body: { message: 'boom' } });
    const err = await client({ retries: 2 })
      .archive('f1')
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'recoverable', status: 500 });
    expect(seen).toHaveLength(3);
  });

  it('a refused connection is recoverable', async () => {
    const port = await freePort();
    const dead = new UnleashAdminClient({
      url: `http://127.0.0.1:${port}/api`,
      adminToken: 'a',
      project: 'default',
      retries: 1,
      backoffMs: 1,
    });
    await expect(dead.archive('f1')).rejects.toMatchObject({ kind: 'recoverable' });
  });

  it('an archived name cannot be re-created (one flag per rollout)', async () => {
    handler = (r) =>
      r.method === 'GET'
        ? { status: 404, body: { message: 'not found' } }
        : { status: 409, body: { message: 'An archived flag with that name already exists' } };
    await expect(client().ensureFlag('f1')).rejects.toMatchObject({ kind: 'rejected', status: 409 });
  });

  it('a flag created meanwhile by another replica is fine', async () => {
    handler = (r) =>
      r.method === 'GET'
        ? { status: 404, body: { message: 'not found' } }
        : { status: 409, body: { message: 'A flag with that name already exists' } };
    await expect(client().ensureFlag('f1')).resolves.toBeUndefined();
  });

  it('archiving a flag that is already gone is fine', async () => {
    handler = () => ({ status: 404, body: { message: 'not found' } });
    await expect(client().archive('f1')).resolves.toBeUndefined();
  });
});

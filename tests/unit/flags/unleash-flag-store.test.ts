/**
 * The Unleash store's read-your-writes overlay and status against a scripted Unleash (client
 * features + admin endpoints) on the loopback, where the test decides what the SDK fetches.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FlagContext, RolloutFlag } from '../../../src/domain/ports/flag-store.js';
import { UnleashAdminClient } from '../../../src/flags/unleash-admin-client.js';
import { UnleashFlagStore, type UnleashFlagStoreOptions } from '../../../src/flags/unleash-flag-store.js';
import { toUnleashFeature, type UnleashFeature } from '../../../src/flags/unleash-mapping.js';
import { freePort } from '../../support/unleash-server.js';

let server: Server;
let url: string;
let dir: string;
/** What GET /api/client/features serves; undefined = the server answers 503. */
let served: UnleashFeature[] | undefined;
let adminDown = false;
const stores: UnleashFlagStore[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cc-unleash-unit-'));
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const path = req.url ?? '';
      if (path.startsWith('/api/client/features')) {
        if (!served) return void res.writeHead(503).end();
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ version: 2, features: served }));
      }
      if (adminDown) return void res.writeHead(503).end();
      res.writeHead(200, { 'content-type': 'application/json' });
      // Admin API: the flag exists, it has no strategies, every write succeeds.
      res.end(path.endsWith('/strategies') && req.method === 'GET' ? '[]' : '{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  served = [];
  adminDown = false;
});

afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

async function newStore(over: Partial<UnleashFlagStoreOptions> = {}): Promise<UnleashFlagStore> {
  const store = new UnleashFlagStore({
    url,
    clientToken: 'default:development.client',
    adminToken: '*:*.admin',
    project: 'default',
    environment: 'development',
    appName: 'unit',
    refreshIntervalMs: 40,
    backupDir: join(dir, String(stores.length)),
    timeoutMs: 1000,
    settleMs: 200,
    startTimeoutMs: 2000,
    admin: new UnleashAdminClient({ url, adminToken: '*:*.admin', project: 'default', retries: 0 }),
    ...over,
  });
  stores.push(store);
  await store.start();
  return store;
}

const ctx: FlagContext = { tenant: 'acme', environment: 'prod', unitKey: 'acme/u' };
const on: RolloutFlag = { name: 'f', enabled: true, stages: [{ environments: ['prod'], percent: 100, splitBy: 'tenant' }] };
const off: RolloutFlag = { ...on, enabled: false };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('UnleashFlagStore', () => {
  it('evaluates what the SDK fetched; unknown flags are disabled', async () => {
    served = [toUnleashFeature(on)];
    const store = await newStore();
    expect(store.status()).toEqual({ ready: true, degraded: false });
    expect(store.evaluate('f', ctx)).toBe('candidate');
    expect(store.evaluate('nope', ctx)).toBe('disabled');
  });

  it('routes on its own write at once, and on the SDK once it serves the same definition', async () => {
    const store = await newStore({ settleMs: 60_000 });
    expect(store.evaluate('f', ctx)).toBe('disabled');
    await store.put(on);
    expect(store.evaluate('f', ctx)).toBe('candidate');
    expect(store.definition('f').source).toBe('overlay');
    served = [toUnleashFeature(on)];
    await expect.poll(() => store.definition('f').source, { timeout: 2000, interval: 10 }).toBe('unleash');
    expect(store.evaluate('f', ctx)).toBe('candidate');
  });

  it('gives way to a different definition fetched well after the write (a later writer)', async () => {
    served = [toUnleashFeature(on)];
    const store = await newStore();
    await store.put(off);
    expect(store.evaluate('f', ctx)).toBe('disabled');
    // Unleash still serves "on": before settleMs that is an old answer, after it a newer writer's.
    await sleep(100);
    expect(store.evaluate('f', ctx)).toBe('disabled');
    await expect.poll(() => store.evaluate('f', ctx), { timeout: 2000, interval: 10 }).toBe('candidate');
  });

  it('keeps a rollback while Unleash is unreachable, however long, with status degraded', async () => {
    served = [toUnleashFeature(on)];
    const store = await newStore();
    expect(store.evaluate('f', ctx)).toBe('candidate');
    served = undefined;
    adminDown = true;
    // The write fails (the caller is told), but the switch-off holds here.
    await expect(store.put(off)).rejects.toMatchObject({ kind: 'recoverable' });
    expect(store.evaluate('f', ctx)).toBe('disabled');
    await expect.poll(() => store.status().degraded, { timeout: 3000, interval: 10 }).toBe(true);
    await sleep(500);
    expect(store.evaluate('f', ctx)).toBe('disabled');
    expect(store.status().ready).toBe(true);
  });

  it('retire is disabled at once', async () => {
    served = [toUnleashFeature(on)];
    const store = await newStore({ settleMs: 60_000 });
    expect(store.evaluate('f', ctx)).toBe('candidate');
    await store.retire('f');
    expect(store.evaluate('f', ctx)).toBe('disabled');
    served = [];
    await expect.poll(() => store.definition('f').source, { timeout: 2000, interval: 10 }).toBe('unleash');
    expect(store.evaluate('f', ctx)).toBe('disabled');
  });

  it('is not ready without flags or backup, and close() during a failing fetch does not crash', async () => {
    // Nothing listens there: the SDK's fetch fails with ECONNREFUSED after its own retries, as an
    // "error" event that, once destroy() has removed the listeners, would crash the process.
    const dead = `http://127.0.0.1:${await freePort()}/api`;
    const store = await newStore({ url: dead, startTimeoutMs: 200, backupDir: join(dir, 'empty') });
    expect(store.status().ready).toBe(false);
    expect(store.evaluate('f', ctx)).toBe('disabled');
    await store.close();
    // make-fetch-happen retries twice (about 1 s and 2 s) before the failure surfaces.
    await sleep(4000);
  }, 10_000);
});

/**
 * The embedded store on its database (PostgreSQL, or PGlite without one): read your writes,
 * retire, reload across replicas, and the evaluation properties the rollouts rely on.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedFlagStore } from '../../../src/flags/embedded-flag-store.js';
import type { FlagContext, FlagStage, RolloutFlag } from '../../../src/domain/ports/flag-store.js';
import { UnleashEngine } from '../../../src/flags/unleash-engine.js';
import { toFlagVariant, toUnleashFeature } from '../../../src/flags/unleash-mapping.js';
import { openDatabase, type Database } from '../../../src/store/db.js';
import { flags } from '../../../src/store/schema.js';
import { createTestDatabase, type TestDatabase } from '../../support/pg.js';

let dir: string;
let database: Database;
const stores: EmbeddedFlagStore[] = [];

async function newStore(refreshIntervalMs = 60_000): Promise<EmbeddedFlagStore> {
  const store = new EmbeddedFlagStore({ db: database.db, refreshIntervalMs });
  await store.start();
  stores.push(store);
  return store;
}

let testDb: TestDatabase | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cc-flags-'));
  // A clone of the migrated template when PostgreSQL is there (fast); PGlite otherwise.
  if (process.env.CC_TEST_NO_PG !== '1') {
    testDb = await createTestDatabase();
    database = await openDatabase({ databaseUrl: testDb.url, dataDir: dir, poolSize: 2 });
  } else {
    database = await openDatabase({ dataDir: dir });
    await database.migrate();
  }
});

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await database?.close();
  await testDb?.drop();
  rmSync(dir, { recursive: true, force: true });
});

const stage = (s: Partial<FlagStage>): FlagStage => ({ environments: ['prod'], percent: 50, splitBy: 'tenant', ...s });
const ctx = (tenant: string, unit = 'u', environment = 'prod'): FlagContext => ({ tenant, environment, unitKey: `${tenant}/${unit}` });
const count = (xs: string[], v: string) => xs.filter((x) => x === v).length;

describe('EmbeddedFlagStore', () => {
  it('is ready after start and routes a put at once (read your writes)', async () => {
    const store = await newStore();
    expect(store.kind).toBe('embedded');
    expect(store.status()).toEqual({ ready: true, degraded: false });
    expect(store.evaluate('f-ryw', ctx('acme'))).toBe('disabled');
    await store.put({ name: 'f-ryw', enabled: true, stages: [stage({ percent: 100 })] });
    expect(store.evaluate('f-ryw', ctx('acme'))).toBe('candidate');
    expect(store.evaluate('f-ryw', ctx('acme', 'u', 'staging'))).toBe('disabled');
  });

  it('stores the Unleash feature JSON in the flags table', async () => {
    const store = await newStore();
    const flag: RolloutFlag = { name: 'f-row', enabled: true, stages: [stage({ tenants: ['acme'] })] };
    await store.put(flag);
    const rows = await database.db.select().from(flags);
    expect(rows.find((r) => r.name === 'f-row')?.definition).toEqual(toUnleashFeature(flag));
  });

  it('a disabled flag (pause, rollback) evaluates to disabled at once', async () => {
    const store = await newStore();
    const flag: RolloutFlag = { name: 'f-kill', enabled: true, stages: [stage({ percent: 100 })] };
    await store.put(flag);
    expect(store.evaluate('f-kill', ctx('acme'))).toBe('candidate');
    await store.put({ ...flag, enabled: false });
    expect(store.evaluate('f-kill', ctx('acme'))).toBe('disabled');
  });

  it('retire deletes the definition: disabled here at once and for a fresh replica', async () => {
    const store = await newStore();
    await store.put({ name: 'f-retire', enabled: true, stages: [stage({ percent: 100 })] });
    await store.retire('f-retire');
    expect(store.evaluate('f-retire', ctx('acme'))).toBe('disabled');
    const fresh = await newStore();
    expect(fresh.evaluate('f-retire', ctx('acme'))).toBe('disabled');
    expect((await database.db.select().from(flags)).some((r) => r.name === 'f-retire')).toBe(false);
  });

  it('another replica converges through its reload loop', async () => {
    const writer = await newStore();
    const reader = await newStore(50);
    await writer.put({ name: 'f-replica', enabled: true, stages: [stage({ percent: 100 })] });
    await expect.poll(() => reader.evaluate('f-replica', ctx('acme')), { timeout: 2000, interval: 20 }).toBe('candidate');
    await writer.put({ name: 'f-replica', enabled: false, stages: [stage({ percent: 100 })] });
    await expect.poll(() => reader.evaluate('f-replica', ctx('acme')), { timeout: 2000, interval: 20 }).toBe('disabled');
  });

  it('the same context gets the same arm from fresh instances', async () => {
    const store = await newStore();
    await store.put({ name: 'f-sticky', enabled: true, stages: [stage({ splitBy: 'unit' })] });
    const contexts = Array.from({ length: 200 }, (_, i) => ctx(`t${i % 7}`, `doc-${i}`));
    const first = contexts.map((c) => store.evaluate('f-sticky', c));
    expect(contexts.map((c) => store.evaluate('f-sticky', c))).toEqual(first);
    const fresh = await newStore();
    expect(contexts.map((c) => fresh.evaluate('f-sticky', c))).toEqual(first);
    const engine = new UnleashEngine({
      state: { features: [toUnleashFeature({ name: 'f-sticky', enabled: true, stages: [stage({ splitBy: 'unit' })] })] },
    });
    expect(contexts.map((c) => engine.evaluate('f-sticky', c))).toEqual(first);
    engine.destroy();
  });

  it('a 50 % unit stage splits 2000 unit keys near half and half, deterministically', async () => {
    const store = await newStore();
    await store.put({ name: 'f-half', enabled: true, stages: [stage({ splitBy: 'unit' })] });
    const arms = Array.from({ length: 2000 }, (_, i) => store.evaluate('f-half', ctx('acme', `doc-${i}`)));
    expect(count(arms, 'candidate') + count(arms, 'control')).toBe(2000);
    // Binomial(2000, 0.5): sd ≈ 22, so ±100 is more than 4 sd.
    expect(count(arms, 'candidate')).toBeGreaterThan(900);
    expect(count(arms, 'candidate')).toBeLessThan(1100);
    // A call without a unit gets a unit key from its run id: the key is always set, so a
    // repeated key never gets a random arm (the SDK seeds a missing stickiness field randomly).
    for (let i = 0; i < 50; i++) {
      const c = ctx('acme', `run-${i}`);
      const a = store.evaluate('f-half', c);
      for (let k = 0; k < 5; k++) expect(store.evaluate('f-half', c)).toBe(a);
    }
  });

  it('a context without its stickiness field never gets a random arm', () => {
    // The SDK seeds a missing stickiness field at random (variant.ts getSeed). With the same field
    // as the strategy's stickiness, such a call does not match the stage at all: 'disabled',
    // every time. The gateway always sets unitKey anyway (tenant/runId without a unit).
    const engine = new UnleashEngine({
      state: { features: [toUnleashFeature({ name: 'f-nokey', enabled: true, stages: [stage({ splitBy: 'unit' })] })] },
    });
    const noUnit = { userId: 'acme', properties: { tenantId: 'acme', tenantEnvironment: 'prod' } };
    const arms = new Set(Array.from({ length: 200 }, () => toFlagVariant(engine.getVariant('f-nokey', noUnit))));
    expect(arms).toEqual(new Set(['disabled']));
    engine.destroy();
  });

  it('a tenant stage keeps a whole tenant on one arm, whatever the unit', async () => {
    const store = await newStore();
    await store.put({ name: 'f-tenant', enabled: true, stages: [stage({ splitBy: 'tenant' })] });
    const byTenant = Array.from({ length: 200 }, (_, t) => {
      const arms = new Set(Array.from({ length: 10 }, (_, u) => store.evaluate('f-tenant', ctx(`tenant-${t}`, `doc-${u}`))));
      expect(arms.size).toBe(1);
      return [...arms][0]!;
    });
    expect(count(byTenant, 'candidate')).toBeGreaterThan(60);
    expect(count(byTenant, 'control')).toBeGreaterThan(60);
  });

  it('percent 0 is all control and percent 100 all candidate', async () => {
    const store = await newStore();
    await store.put({ name: 'f-zero', enabled: true, stages: [stage({ percent: 0, splitBy: 'unit' })] });
    await store.put({ name: 'f-full', enabled: true, stages: [stage({ percent: 100, splitBy: 'unit' })] });
    const keys = Array.from({ length: 500 }, (_, i) => ctx(`t${i % 13}`, `doc-${i}`));
    expect(new Set(keys.map((c) => store.evaluate('f-zero', c)))).toEqual(new Set(['control']));
    expect(new Set(keys.map((c) => store.evaluate('f-full', c)))).toEqual(new Set(['candidate']));
  });

  it('matches stages by environment and tenants, minus excluded tenants', async () => {
    const store = await newStore();
    await store.put({
      name: 'f-match',
      enabled: true,
      stages: [stage({ environments: ['prod', 'staging'], tenants: ['acme', 'globex'], excludeTenants: ['globex'], percent: 100 })],
    });
    expect(store.evaluate('f-match', ctx('acme'))).toBe('candidate');
    expect(store.evaluate('f-match', ctx('acme', 'u', 'staging'))).toBe('candidate');
    expect(store.evaluate('f-match', ctx('globex'))).toBe('disabled');
    expect(store.evaluate('f-match', ctx('initech'))).toBe('disabled');
    expect(store.evaluate('f-match', ctx('acme', 'u', 'dev'))).toBe('disabled');
  });

  it('where two stages match, the later one decides', async () => {
    const store = await newStore();
    await store.put({
      name: 'f-order',
      enabled: true,
      stages: [stage({ tenants: ['acme', 'globex'], percent: 100 }), stage({ tenants: ['acme'], percent: 0 })],
    });
    expect(store.evaluate('f-order', ctx('acme'))).toBe('control');
    expect(store.evaluate('f-order', ctx('globex'))).toBe('candidate');
  });

  it('unknown flags are disabled and evaluate never throws', async () => {
    const store = await newStore();
    expect(store.evaluate('no-such-flag', ctx('acme'))).toBe('disabled');
    await database.db.insert(flags).values({ name: 'f-garbage', definition: { name: 'f-garbage', strategies: 'nope' } });
    await store.reload();
    expect(store.evaluate('f-garbage', ctx('acme'))).toBe('disabled');
    expect(store.status().ready).toBe(true);
  });

  it('keeps routing on the last loaded flags while the database fails (degraded), and recovers', async () => {
    let down = false;
    // The same drizzle instance, except that select() fails while "down".
    const db = new Proxy(database.db, {
      get(target, prop) {
        if (prop === 'select' && down) {
          return () => {
            throw new Error('connection refused');
          };
        }
        const value = Reflect.get(target, prop) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const store = new EmbeddedFlagStore({ db, refreshIntervalMs: 60_000 });
    stores.push(store);
    await store.start();
    await store.put({ name: 'f-down', enabled: true, stages: [stage({ percent: 100 })] });
    down = true;
    await store.reload();
    expect(store.status()).toMatchObject({ ready: true, degraded: true });
    expect(store.evaluate('f-down', ctx('acme'))).toBe('candidate');
    down = false;
    await store.reload();
    expect(store.status()).toEqual({ ready: true, degraded: false });
  });

  it('start fails loudly when the table cannot be read at all', async () => {
    const db = { select: () => ({ from: () => Promise.reject(new Error('no such table')) }) } as unknown as Database['db'];
    const store = new EmbeddedFlagStore({ db });
    await expect(store.start()).rejects.toThrow(/no such table/);
    expect(store.status()).toMatchObject({ ready: false });
    await store.close();
  });
});

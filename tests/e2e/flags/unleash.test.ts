/**
 * The Unleash flag store against a real Unleash server (child process, fresh empty database):
 * writes land as mapped, the SDK's evaluation agrees with the embedded store, rollbacks apply
 * at once here and within the refresh interval on another replica, and routing survives
 * Unleash going away (last known flags, backup file). One server for the whole file; the tests
 * run in order and the last two stop it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedFlagStore } from '../../../src/flags/embedded-flag-store.js';
import type { FlagContext, FlagStage, RolloutFlag } from '../../../src/domain/ports/flag-store.js';
import { UnleashAdminClient } from '../../../src/flags/unleash-admin-client.js';
import { UnleashFlagStore, type UnleashFlagStoreOptions } from '../../../src/flags/unleash-flag-store.js';
import { featureFingerprint, toUnleashFeature } from '../../../src/flags/unleash-mapping.js';
import { openDatabase, type Database } from '../../../src/store/db.js';
import { createTestDatabase, type TestDatabase } from '../../support/pg.js';
import { startUnleashServer, type UnleashServer } from '../../support/unleash-server.js';

const REFRESH_MS = 300;
// Unleash bumps the revision its client API serves about once a second (schedule-services.ts updateMaxRevisionId).
const REVISION_LAG_MS = 1500;

const noPg = process.env.CC_TEST_NO_PG === '1';

describe.skipIf(noPg)('UnleashFlagStore against a real Unleash', () => {
  let unleashDb: TestDatabase;
  let appDb: TestDatabase;
  let database: Database;
  let server: UnleashServer;
  let dir: string;
  let embedded: EmbeddedFlagStore;
  const stores: UnleashFlagStore[] = [];

  async function unleashStore(name: string, over: Partial<UnleashFlagStoreOptions> = {}): Promise<UnleashFlagStore> {
    const store = new UnleashFlagStore({
      url: server.url,
      clientToken: server.clientToken,
      adminToken: server.adminToken,
      project: 'default',
      environment: 'development',
      appName: 'chain-canary-e2e',
      instanceId: name,
      refreshIntervalMs: REFRESH_MS,
      backupDir: join(dir, name),
      timeoutMs: 2000,
      settleMs: REVISION_LAG_MS,
      startTimeoutMs: 8000,
      admin: new UnleashAdminClient({ url: server.url, adminToken: server.adminToken, project: 'default', backoffMs: 50, retries: 2 }),
      ...over,
    });
    stores.push(store);
    await store.start();
    return store;
  }

  /** Waits until the SDK (not this replica's overlay) routes the flag on exactly this definition. */
  async function fetched(store: UnleashFlagStore, flag: RolloutFlag): Promise<void> {
    const want = featureFingerprint(toUnleashFeature(flag));
    await expect
      .poll(
        () => {
          const d = store.definition(flag.name);
          return d.source === 'unleash' && featureFingerprint(d.feature as Parameters<typeof featureFingerprint>[0]) === want;
        },
        { timeout: 10_000, interval: 50 },
      )
      .toBe(true);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cc-unleash-e2e-'));
    // Unleash migrates its own schema: an empty database, not a clone of ours.
    [unleashDb, appDb] = await Promise.all([createTestDatabase({ empty: true, prefix: 'cc_unleash' }), createTestDatabase()]);
    server = await startUnleashServer({ databaseUrl: unleashDb.url });
    database = await openDatabase({ databaseUrl: appDb.url, dataDir: dir, poolSize: 2 });
    embedded = new EmbeddedFlagStore({ db: database.db });
    await embedded.start();
  });

  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await embedded?.close();
    await database?.close();
    await server?.stop();
    await Promise.all([unleashDb?.drop(), appDb?.drop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const stage = (s: Partial<FlagStage>): FlagStage => ({ environments: ['prod'], percent: 50, splitBy: 'tenant', ...s });
  const ctx = (tenant: string, unit = 'u', environment = 'prod'): FlagContext => ({ tenant, environment, unitKey: `${tenant}/${unit}` });
  const tenants = Array.from({ length: 200 }, (_, i) => `tenant-${i}`);

  it('creating a flag makes it exist in Unleash with the mapped strategies and variants', async () => {
    const store = await unleashStore('writer');
    expect(store.status()).toEqual({ ready: true, degraded: false });
    const flag: RolloutFlag = {
      name: 'e2e-create',
      enabled: true,
      stages: [
        stage({ environments: ['staging'], tenants: ['acme', 'globex'], percent: 100 }),
        stage({ tenants: ['acme'], excludeTenants: ['globex'], percent: 10, splitBy: 'unit' }),
      ],
    };
    await store.put(flag);
    const back = await store.admin.getFlag(flag.name);
    const env = back?.environments.find((e) => e.name === 'development');
    expect(env?.enabled).toBe(true);
    const strategies = [...(env?.strategies ?? [])].sort((a, b) => (a.sortOrder ?? 0) - (b.sortOrder ?? 0));
    expect(strategies.map((s) => s.title)).toEqual(['stage 1', 'stage 0']);
    expect(featureFingerprint({ enabled: true, strategies })).toBe(featureFingerprint(toUnleashFeature(flag)));
    expect(strategies[0]?.variants).toEqual([
      { name: 'candidate', weight: 100, weightType: 'fix', stickiness: 'unitKey' },
      { name: 'control', weight: 900, weightType: 'variable', stickiness: 'unitKey' },
    ]);
    expect(strategies[1]?.variants?.map((v) => [v.name, v.weight])).toEqual([
      ['candidate', 1000],
      ['control', 0],
    ]);
    // Written again unchanged: nothing is added.
    await store.put(flag);
    const again = (await store.admin.getFlag(flag.name))?.environments.find((e) => e.name === 'development');
    expect(again?.strategies.map((s) => s.id).sort()).toEqual(strategies.map((s) => s.id).sort());
    // The SDK serves the same definition.
    await fetched(store, flag);
  });

  it('a 50 % tenant stage splits 200 tenants near half, sticky across calls and a fresh client', async () => {
    const writer = await unleashStore('writer-2');
    const flag: RolloutFlag = { name: 'e2e-split', enabled: true, stages: [stage({ percent: 50 })] };
    await writer.put(flag);
    await fetched(writer, flag);
    const arms = tenants.map((t) => writer.evaluate(flag.name, ctx(t)));
    const candidates = arms.filter((a) => a === 'candidate').length;
    expect(arms.filter((a) => a === 'control').length).toBe(200 - candidates);
    // Binomial(200, 0.5): sd ≈ 7, so 70..130 is more than 4 sd.
    expect(candidates).toBeGreaterThan(70);
    expect(candidates).toBeLessThan(130);
    expect(tenants.map((t) => writer.evaluate(flag.name, ctx(t, 'another-unit')))).toEqual(arms);
    const fresh = await unleashStore('fresh');
    await fetched(fresh, flag);
    expect(tenants.map((t) => fresh.evaluate(flag.name, ctx(t)))).toEqual(arms);
  });

  it('the embedded store and Unleash give identical variants for the same definitions', async () => {
    const writer = await unleashStore('writer-3');
    const reader = await unleashStore('reader-3');
    const defs: RolloutFlag[] = [
      { name: 'e2e-same-tenant', enabled: true, stages: [stage({ percent: 37 })] },
      { name: 'e2e-same-unit', enabled: true, stages: [stage({ percent: 50, splitBy: 'unit' })] },
      {
        name: 'e2e-same-stages',
        enabled: true,
        stages: [
          stage({ environments: ['prod', 'staging'], percent: 100 }),
          stage({ tenants: tenants.slice(0, 100), excludeTenants: ['tenant-3'], percent: 20, splitBy: 'unit' }),
        ],
      },
    ];
    for (const def of defs) {
      await writer.put(def);
      await embedded.put(def);
    }
    for (const def of defs) await fetched(reader, def);
    for (const def of defs) {
      const contexts = tenants.map((t, i) => ctx(t, `doc-${i}`, i % 3 === 0 ? 'staging' : 'prod'));
      const fromUnleash = contexts.map((c) => reader.evaluate(def.name, c));
      expect(contexts.map((c) => embedded.evaluate(def.name, c))).toEqual(fromUnleash);
      expect(new Set(fromUnleash).size).toBeGreaterThan(1);
    }
  });

  it('a rollback routes to control at once here and within the refresh interval on another replica', async () => {
    const writer = await unleashStore('writer-4');
    const replica = await unleashStore('replica-4');
    const flag: RolloutFlag = { name: 'e2e-rollback', enabled: true, stages: [stage({ percent: 100 })] };
    await writer.put(flag);
    // Read your writes: this replica routes on its write before the SDK has fetched it.
    expect(writer.evaluate(flag.name, ctx('acme'))).toBe('candidate');
    await fetched(replica, flag);
    expect(replica.evaluate(flag.name, ctx('acme'))).toBe('candidate');

    const t0 = Date.now();
    await writer.put({ ...flag, enabled: false });
    expect(writer.evaluate(flag.name, ctx('acme'))).toBe('disabled');
    await expect.poll(() => replica.evaluate(flag.name, ctx('acme')), { timeout: 10_000, interval: 25 }).toBe('disabled');
    const took = Date.now() - t0;
    // One refresh plus Unleash's revision lag, with room for a loaded CI machine.
    expect(took).toBeLessThan(REFRESH_MS + REVISION_LAG_MS + 2500);
    // The writer keeps routing on its write until its own SDK has caught up, then on the SDK.
    await expect.poll(() => writer.definition(flag.name).source, { timeout: 10_000, interval: 50 }).toBe('unleash');
    expect(writer.evaluate(flag.name, ctx('acme'))).toBe('disabled');

    // Retire (after promotion): disabled at once, archived in Unleash.
    await writer.put(flag);
    expect(writer.evaluate(flag.name, ctx('acme'))).toBe('candidate');
    await writer.retire(flag.name);
    expect(writer.evaluate(flag.name, ctx('acme'))).toBe('disabled');
    expect(await writer.admin.getFlag(flag.name)).toBeUndefined();
    await expect.poll(() => replica.evaluate(flag.name, ctx('acme')), { timeout: 10_000, interval: 25 }).toBe('disabled');
  });

  it('keeps routing on last known flags with status degraded when Unleash stops, and starts from the backup', async () => {
    const flag: RolloutFlag = { name: 'e2e-outage', enabled: true, stages: [stage({ percent: 50, splitBy: 'unit' })] };
    const writer = await unleashStore('writer-5');
    const replica = await unleashStore('replica-5');
    await writer.put(flag);
    await fetched(replica, flag);
    const contexts = tenants.map((t, i) => ctx(t, `doc-${i}`));
    const before = contexts.map((c) => replica.evaluate(flag.name, c));
    // Let the SDK write its backup file after a fetch that already holds the flag.
    await new Promise((r) => setTimeout(r, 2 * REFRESH_MS));

    await server.stop();
    await expect.poll(() => replica.status().degraded, { timeout: 15_000, interval: 100 }).toBe(true);
    expect(replica.status().ready).toBe(true);
    expect(contexts.map((c) => replica.evaluate(flag.name, c))).toEqual(before);

    // A gateway starting while Unleash is down routes from the backup the replica left in its directory.
    const restarted = await unleashStore('restarted', { backupDir: join(dir, 'replica-5'), instanceId: 'restarted' });
    expect(restarted.status()).toMatchObject({ ready: true, degraded: true });
    expect(contexts.map((c) => restarted.evaluate(flag.name, c))).toEqual(before);
    expect(restarted.evaluate('never-written', contexts[0]!)).toBe('disabled');
  });
});

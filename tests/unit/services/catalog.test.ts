/** The in-memory Catalog over its repository: auth, keys, chains and versions, and reloads. */
import { describe, expect, it } from 'vitest';
import { KeyHasher } from '../../../src/domain/auth/key-hasher.js';
import { PrincipalCache, tokenDigest } from '../../../src/domain/auth/principal-cache.js';
import { Catalog } from '../../../src/domain/services/catalog.js';
import { BadRequestError, ConflictError, NotFoundError } from '../../../src/domain/model/errors.js';
import { rolloutSpecSchema } from '../../../src/domain/model/rollout-spec.js';
import { testAdapter } from '../../support/in-memory/chain-adapters.js';
import { ADMIN_TOKEN, CHAIN, world } from '../../support/in-memory/world.js';

describe('Catalog', () => {
  it('authenticates the admin token, tenant keys and named admin keys; revoked and unknown ones not', async () => {
    const w = await world();
    expect(w.catalog.authenticate(ADMIN_TOKEN)).toEqual({ kind: 'admin', keyName: 'ADMIN_TOKEN' });
    const key = await w.catalog.createKey('acme', 'ci');
    expect(key.key).toMatch(/^cc_/);
    expect(w.catalog.authenticate(key.key)).toEqual({ kind: 'tenant', tenantId: 'acme', keyId: key.id, keyName: 'ci' });
    // Only the keyed hash is stored.
    expect(JSON.stringify([...w.catalogRepo.keys.values()])).not.toContain(key.key);
    await w.catalogRepo.insertKey({
      id: '00000000-0000-4000-8000-0000000000ad',
      tenantId: null,
      name: 'ops',
      hash: w.hasher.hash('cc_ops-key'),
      createdAt: w.now(),
    });
    await w.catalog.load();
    expect(w.catalog.authenticate('cc_ops-key')).toEqual({ kind: 'admin', keyName: 'ops' });

    await w.catalog.revokeKey('acme', key.id);
    expect(w.catalog.authenticate(key.key)).toBeUndefined();
    expect(w.catalog.authenticate('cc_not-a-key')).toBeUndefined();
    await expect(w.catalog.revokeKey('acme', key.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(w.catalog.createKey('nobody', undefined)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('creates and renames tenants (201 then 200), listed by id', async () => {
    const w = await world();
    expect((await w.catalog.putTenant('initech', undefined)).created).toBe(true);
    const renamed = await w.catalog.putTenant('initech', 'Initech');
    expect(renamed).toMatchObject({ created: false, row: { id: 'initech', name: 'Initech' } });
    expect(w.catalog.listTenants().map((t) => t.id)).toEqual(['acme', 'globex', 'initech']);
    expect(() => w.catalog.requireTenant('nobody')).toThrow(NotFoundError);
  });

  it('makes the first version current and keeps versions immutable (same definition 200, another 409)', async () => {
    const w = await world();
    await w.catalog.putChain('quotes', {});
    expect(w.catalog.chain('quotes')?.currentVersion).toBeNull();
    expect((await w.catalog.addVersion('quotes', 'a', testAdapter('http://127.0.0.1:9/a'))).created).toBe(true);
    expect(w.catalog.chain('quotes')?.currentVersion).toBe('a');
    expect((await w.catalog.addVersion('quotes', 'a', testAdapter('http://127.0.0.1:9/a'))).created).toBe(false);
    await expect(w.catalog.addVersion('quotes', 'a', testAdapter('http://127.0.0.1:9/other'))).rejects.toBeInstanceOf(ConflictError);
    await expect(w.catalog.addVersion('nothing', 'a', testAdapter())).rejects.toBeInstanceOf(NotFoundError);
    expect(w.catalog.listVersions('quotes').map((v) => v.version)).toEqual(['a']);
  });

  it('sets the current version only to a registered one, and not while a rollout is active', async () => {
    const w = await world();
    await expect(w.catalog.putChain('fresh', { current: 'v1' })).rejects.toBeInstanceOf(BadRequestError);
    await expect(w.catalog.putChain(CHAIN, { current: 'v9' })).rejects.toBeInstanceOf(BadRequestError);
    expect((await w.catalog.putChain(CHAIN, { current: 'v2' })).row.currentVersion).toBe('v2');
    await w.catalog.putChain(CHAIN, { current: 'v1' });
    await w.rollouts.create(
      rolloutSpecSchema.parse({ chain: CHAIN, control: 'v1', candidate: 'v2', stages: [{ environments: ['prod'], percent: 10 }] }),
      'admin:test',
    );
    await expect(w.catalog.putChain(CHAIN, { current: 'v2' })).rejects.toBeInstanceOf(ConflictError);
    // The same current version, or other fields, still change.
    expect((await w.catalog.putChain(CHAIN, { current: 'v1', description: 'new' })).row.description).toBe('new');
  });

  it("follows other replicas' writes on load, and a load that read before a local write does not undo it", async () => {
    const w = await world();
    // Another replica revoked acme's key and added a tenant.
    const key = await w.catalog.createKey('acme', undefined);
    await w.catalogRepo.revokeKey('acme', key.id, w.now());
    await w.catalogRepo.putTenant('initech', undefined, w.now());
    expect(w.catalog.authenticate(key.key)).toBeDefined();
    await w.catalog.load();
    expect(w.catalog.authenticate(key.key)).toBeUndefined();
    expect(w.catalog.tenant('initech')).toBeDefined();

    // A reload that read the tables before a local write answers after it: its snapshot is dropped.
    let release!: () => void;
    w.catalogRepo.slowReads = new Promise((resolve) => (release = resolve));
    const loading = w.catalog.load();
    await w.catalog.putTenant('umbrella', undefined);
    release();
    await loading;
    expect(w.catalog.tenant('umbrella')).toBeDefined();
  });

  it('checks a token with the keyed HMAC once, then from a cache that forgets revoked keys (here at once, on replicas at their refresh)', async () => {
    const w = await world();
    let hmacs = 0;
    class CountingHasher extends KeyHasher {
      override hash(key: string): string {
        hmacs++;
        return super.hash(key);
      }
    }
    const hasher = new CountingHasher('test-secret');
    const replica = () =>
      new Catalog({
        store: w.catalogRepo,
        hasher,
        adminToken: ADMIN_TOKEN,
        now: w.now,
        activeRollouts: { hasActive: () => false, activeFor: () => undefined },
      });
    const here = replica();
    const other = replica();
    await here.load();
    const key = await here.createKey('acme', 'ci');
    await other.load();
    hmacs = 0;
    for (let i = 0; i < 100; i++) expect(here.authenticate(key.key)).toMatchObject({ kind: 'tenant', tenantId: 'acme', keyId: key.id });
    for (let i = 0; i < 100; i++) expect(here.authenticate(ADMIN_TOKEN)).toMatchObject({ kind: 'admin' });
    expect(other.authenticate(key.key)).toMatchObject({ tenantId: 'acme' });
    expect(hmacs).toBe(3);
    // A shared principal cannot be changed by one request for the next.
    expect(Object.isFrozen(here.authenticate(key.key))).toBe(true);
    // Unknown tokens are checked in full every time: guessing fills nothing.
    for (let i = 0; i < 5; i++) expect(here.authenticate('cc_guess')).toBeUndefined();
    expect(hmacs).toBe(8);

    await here.revokeKey('acme', key.id);
    expect(here.authenticate(key.key)).toBeUndefined();
    // The other replica still knows the key until its refresh reads the revocation, then not.
    expect(other.authenticate(key.key)).toBeDefined();
    await other.load();
    expect(other.authenticate(key.key)).toBeUndefined();
  });

  it('keys the principal cache by a digest of the token, and bounds it', () => {
    const cache = new PrincipalCache(3);
    const token = 'cc_secret-token-value';
    const digest = tokenDigest(token);
    expect(digest).not.toContain(token);
    expect(digest).toMatch(/^[A-Za-z0-9_-]{43}$/);
    for (let i = 0; i < 5; i++) cache.set(tokenDigest(`t${i}`), { kind: 'admin', keyName: `k${i}` });
    expect(cache.size).toBe(3);
    expect(cache.get(tokenDigest('t0'))).toBeUndefined();
    expect(cache.get(tokenDigest('t4'))).toEqual({ kind: 'admin', keyName: 'k4' });
  });
});

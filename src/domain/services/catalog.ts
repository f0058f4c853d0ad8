/**
 * The catalog: tenants, API keys, chains and versions, held in memory for the hot path
 * (auth and invoke never wait on the database) and kept in step with the database:
 * local writes apply at once, other replicas' writes arrive with the periodic refresh
 * (a revoked key stops working everywhere within `refreshMs`).
 */
import { randomUUID } from 'node:crypto';
import type { AdapterDefinition } from '../../adapters/adapter-definition.js';
import { canonicalAdapterJson } from '../../adapters/adapter-definition.js';
import { chainEnvironments, type Chain, type ChainVersion, type Tenant } from '../model/catalog.js';
import type { CatalogRepository, ChainPatch } from '../ports/catalog-repository.js';
import type { ActiveRollouts } from '../routing/active-rollouts.js';
import { BadRequestError, ConflictError, NotFoundError } from '../model/errors.js';
import { generateKey, KeyHasher } from '../auth/key-hasher.js';
import type { Principal } from '../auth/principal.js';
import { PrincipalCache, tokenDigest } from '../auth/principal-cache.js';

interface KeyEntry {
  id: string;
  tenantId: string | null;
  name: string;
  hash: string;
}

export interface CatalogDeps {
  store: CatalogRepository;
  hasher: KeyHasher;
  adminToken: string;
  now: () => Date;
  /** Chains with an active rollout: their `current` changes only by promotion, their environments keep the rollout's. */
  activeRollouts: Pick<ActiveRollouts, 'hasActive' | 'activeFor'>;
}

export class Catalog {
  private tenants = new Map<string, Tenant>();
  private keys = new Map<string, KeyEntry>();
  private chains = new Map<string, Chain>();
  private versions = new Map<string, Map<string, ChainVersion>>();
  private readonly adminHash: string;
  /** Tokens that authenticated lately, by digest; emptied whenever a key may have gone. */
  private readonly principals = new PrincipalCache();
  private timer?: NodeJS.Timeout;
  /** Bumped by every local write, so a reload that read the tables before it does not undo it. */
  private generation = 0;

  constructor(private readonly deps: CatalogDeps) {
    this.adminHash = deps.hasher.hash(deps.adminToken);
  }

  async load(): Promise<void> {
    const generation = this.generation;
    const [tenants, keys, chains, versions] = await Promise.all([
      this.deps.store.listTenants(),
      this.deps.store.liveKeys(),
      this.deps.store.listChains(),
      this.deps.store.listVersions(),
    ]);
    // A local write landed while we read: our snapshot may predate it; the next refresh is newer.
    if (generation !== this.generation) return;
    this.tenants = new Map(tenants.map((t) => [t.id, t]));
    this.keys = new Map(keys.map((k) => [k.hash, { id: k.id, tenantId: k.tenantId, name: k.name, hash: k.hash }]));
    // Other replicas' revocations arrive here: no principal outlives its key past this refresh.
    this.principals.clear();
    this.chains = new Map(chains.map((c) => [c.id, c]));
    const byChain = new Map<string, Map<string, ChainVersion>>();
    for (const v of versions) {
      let m = byChain.get(v.chainId);
      if (!m) byChain.set(v.chainId, (m = new Map<string, ChainVersion>()));
      m.set(v.version, v);
    }
    this.versions = byChain;
  }

  /** Periodic reload so other replicas' writes (revocations above all) take effect here. */
  startRefresh(refreshMs: number, onError: (err: unknown) => void): void {
    this.timer = setInterval(() => void this.load().catch(onError), refreshMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  // ---- auth -------------------------------------------------------------------------------

  /** The caller's principal (shared and frozen: a token seen lately is answered from the cache). */
  authenticate(token: string): Principal | undefined {
    const digest = tokenDigest(token);
    const cached = this.principals.get(digest);
    if (cached) return cached;
    const principal = this.checkToken(token);
    return principal && this.principals.set(digest, principal);
  }

  private checkToken(token: string): Principal | undefined {
    const hash = this.deps.hasher.hash(token);
    if (KeyHasher.equal(hash, this.adminHash)) return { kind: 'admin', keyName: 'ADMIN_TOKEN' };
    const entry = this.keys.get(hash);
    // The map lookup finds the candidate; the constant-time compare is what decides.
    if (!entry || !KeyHasher.equal(entry.hash, hash)) return undefined;
    if (entry.tenantId === null) return { kind: 'admin', keyName: entry.name };
    return { kind: 'tenant', tenantId: entry.tenantId, keyId: entry.id, keyName: entry.name };
  }

  // ---- tenants and keys -------------------------------------------------------------------

  tenant(id: string): Tenant | undefined {
    return this.tenants.get(id);
  }

  requireTenant(id: string): Tenant {
    const t = this.tenants.get(id);
    if (!t) throw new NotFoundError('Tenant', id);
    return t;
  }

  /**
   * Every tenant named must exist, or a 400 `unknown_tenant` naming the missing ones: a tenant id
   * with a typo in a stage or a filter would match nothing without a word.
   */
  requireTenants(ids: readonly string[] | undefined, field: string): void {
    const unknown = (ids ?? []).filter((t) => !this.tenants.has(t));
    if (unknown.length === 0) return;
    throw new BadRequestError(
      `${field}: ${unknown.map((t) => `'${t}'`).join(', ')} ${unknown.length === 1 ? 'is not a tenant' : 'are not tenants'} (PUT /v1/tenants/{id} creates one)`,
      { field, tenants: unknown },
      'unknown_tenant',
    );
  }

  listTenants(): Tenant[] {
    return [...this.tenants.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  async putTenant(id: string, name: string | undefined): Promise<{ row: Tenant; created: boolean }> {
    const result = await this.deps.store.putTenant(id, name, this.deps.now());
    this.generation++;
    this.tenants.set(id, result.row);
    return result;
  }

  async createKey(tenantId: string, name: string | undefined): Promise<{ id: string; key: string; name: string }> {
    this.requireTenant(tenantId);
    return this.insertKey(tenantId, name);
  }

  /** A named admin key: every right of the admin token, revocable on its own, named in the audit log. */
  createAdminKey(name: string | undefined): Promise<{ id: string; key: string; name: string }> {
    return this.insertKey(null, name);
  }

  private async insertKey(tenantId: string | null, name: string | undefined): Promise<{ id: string; key: string; name: string }> {
    const key = generateKey();
    const id = randomUUID();
    const keyName = name ?? `key-${id.slice(0, 8)}`;
    const hash = this.deps.hasher.hash(key);
    await this.deps.store.insertKey({ id, tenantId, name: keyName, hash, createdAt: this.deps.now() });
    this.generation++;
    this.keys.set(hash, { id, tenantId, name: keyName, hash });
    return { id, key, name: keyName };
  }

  async revokeKey(tenantId: string, keyId: string): Promise<void> {
    this.requireTenant(tenantId);
    await this.revoke(tenantId, keyId);
  }

  revokeAdminKey(keyId: string): Promise<void> {
    return this.revoke(null, keyId);
  }

  private async revoke(tenantId: string | null, keyId: string): Promise<void> {
    const revoked = await this.deps.store.revokeKey(tenantId, keyId, this.deps.now());
    this.generation++;
    // Only the named tenant's key: a wrong tenant in the path is a 404 and must not lock the key out.
    for (const [hash, entry] of this.keys) if (entry.id === keyId && entry.tenantId === tenantId) this.keys.delete(hash);
    // At once on this replica: the key's next call is checked in full, and fails.
    this.principals.clear();
    if (!revoked) throw new NotFoundError('Key', keyId);
  }

  // ---- chains and versions ----------------------------------------------------------------

  chain(id: string): Chain | undefined {
    return this.chains.get(id);
  }

  requireChain(id: string): Chain {
    const c = this.chains.get(id);
    if (!c) throw new NotFoundError('Chain', id);
    return c;
  }

  /**
   * An environment the chain accepts, or a 400 `unknown_environment` naming the ones it does:
   * a call or a stage for "production" when the chain says "prod" would otherwise never match.
   */
  /** requireEnvironment on the chain of that id (a 404 when there is none). */
  requireEnvironmentOf(chainId: string, environment: string, field = 'environment'): void {
    this.requireEnvironment(this.requireChain(chainId), environment, field);
  }

  requireEnvironment(chain: Chain, environment: string, field = 'environment'): void {
    const known = chainEnvironments(chain);
    if (known.includes(environment)) return;
    throw new BadRequestError(
      `${field}: '${environment}' is not an environment of chain '${chain.id}' (${known.join(', ')}); use one of them, or add it to the chain's environments (PUT /v1/chains/${chain.id}).`,
      { field, environment, environments: [...known] },
      'unknown_environment',
    );
  }

  listChains(): Chain[] {
    return [...this.chains.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  version(chainId: string, version: string): ChainVersion | undefined {
    return this.versions.get(chainId)?.get(version);
  }

  requireVersion(chainId: string, version: string): ChainVersion {
    const v = this.version(chainId, version);
    if (!v) throw new NotFoundError('Version', version);
    return v;
  }

  listVersions(chainId: string): ChainVersion[] {
    this.requireChain(chainId);
    return [...(this.versions.get(chainId)?.values() ?? [])];
  }

  async putChain(id: string, patch: ChainPatch): Promise<{ row: Chain; created: boolean }> {
    const existing = this.chains.get(id);
    if (patch.current !== undefined) {
      if (!existing)
        throw new BadRequestError(`Chain '${id}' has no versions yet: register one before setting current.`, { field: 'current' });
      if (!this.version(id, patch.current))
        throw new BadRequestError(`Version '${patch.current}' of chain '${id}' does not exist.`, { field: 'current' });
      if (existing.currentVersion !== patch.current && this.deps.activeRollouts.hasActive(id)) {
        throw new ConflictError(`Chain '${id}' has an active rollout: its current version changes only by promotion.`);
      }
    }
    if (patch.environments !== undefined) this.assertEnvironmentsKept(id, patch.environments);
    const result = await this.deps.store.putChain(id, patch, this.deps.now());
    this.generation++;
    this.chains.set(id, result.row);
    return result;
  }

  /**
   * A chain's new environment list must keep every environment its active rollout names (a
   * stage's or the shadow's): a stage naming one the chain no longer accepts would match nothing,
   * which creating the rollout refuses too (`unknown_environment`).
   */
  private assertEnvironmentsKept(id: string, environments: readonly string[]): void {
    const rollout = this.deps.activeRollouts.activeFor(id);
    if (!rollout) return;
    const named = new Set([...rollout.spec.stages.flatMap((s) => s.environments), ...(rollout.spec.shadow?.environments ?? [])]);
    const dropped = [...named].filter((e) => !environments.includes(e));
    if (dropped.length > 0) {
      throw new ConflictError(
        `Chain '${id}' has an active rollout (${rollout.id}) whose stages name ${dropped.map((e) => `'${e}'`).join(', ')}: keep ${dropped.length === 1 ? 'it' : 'them'} in the chain's environments until the rollout ends.`,
        { rollout: rollout.id, environments: dropped },
        'environment_in_use',
      );
    }
  }

  async addVersion(chainId: string, version: string, adapter: AdapterDefinition): Promise<{ row: ChainVersion; created: boolean }> {
    const chain = this.requireChain(chainId);
    const result = await this.deps.store.insertVersion({ chainId, version, adapter, createdAt: this.deps.now() });
    if (!result.created && canonicalAdapterJson(result.row.adapter) !== canonicalAdapterJson(adapter)) {
      throw new ConflictError(`Version '${version}' of chain '${chainId}' exists with another definition; versions are immutable.`, {
        version,
      });
    }
    this.generation++;
    let m = this.versions.get(chainId);
    if (!m) this.versions.set(chainId, (m = new Map<string, ChainVersion>()));
    m.set(version, result.row);
    // The store made it current too, stamped with the version's creation time.
    if (chain.currentVersion === null) this.chains.set(chainId, { ...chain, currentVersion: version, updatedAt: result.row.createdAt });
    return result;
  }

  /** Applied after a promotion, which writes the chain row itself (`at`: the rollout's updatedAt, as written). */
  setCurrentLocally(chainId: string, version: string, at: Date): void {
    this.generation++;
    const chain = this.chains.get(chainId);
    if (chain) this.chains.set(chainId, { ...chain, currentVersion: version, updatedAt: at });
  }
}

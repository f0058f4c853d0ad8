/** CatalogRepository in memory: the tables as maps, with the store's rules (first version becomes current, first setting wins). */
import type { AdapterDefinition } from '../../../src/adapters/adapter-definition.js';
import type { ApiKey, Chain, ChainVersion, Tenant } from '../../../src/domain/model/catalog.js';
import type { CatalogRepository, ChainPatch } from '../../../src/domain/ports/catalog-repository.js';

export class InMemoryCatalogRepository implements CatalogRepository {
  readonly tenants = new Map<string, Tenant>();
  readonly keys = new Map<string, ApiKey>();
  readonly chains = new Map<string, Chain>();
  readonly versions: ChainVersion[] = [];
  readonly settings = new Map<string, string>();
  /** While set, reads take their snapshot at once and answer when it settles (a slow database). */
  slowReads?: Promise<void>;

  private async answer<T>(rows: T[]): Promise<T[]> {
    await this.slowReads;
    return rows;
  }

  async putTenant(id: string, name: string | undefined, now: Date): Promise<{ row: Tenant; created: boolean }> {
    const existing = this.tenants.get(id);
    if (existing) {
      const row = name === undefined ? existing : { ...existing, name, updatedAt: now };
      this.tenants.set(id, row);
      return { row, created: false };
    }
    const row = { id, name: name ?? null, createdAt: now, updatedAt: now };
    this.tenants.set(id, row);
    return { row, created: true };
  }

  async listTenants(): Promise<Tenant[]> {
    return this.answer([...this.tenants.values()]);
  }

  async insertKey(key: Omit<ApiKey, 'revokedAt'>): Promise<ApiKey> {
    const row = { ...key, revokedAt: null };
    this.keys.set(key.id, row);
    return row;
  }

  async revokeKey(tenantId: string | null, keyId: string, now: Date): Promise<boolean> {
    const key = this.keys.get(keyId);
    if (!key || key.tenantId !== tenantId || key.revokedAt !== null) return false;
    this.keys.set(keyId, { ...key, revokedAt: now });
    return true;
  }

  async liveKeys(): Promise<ApiKey[]> {
    return this.answer([...this.keys.values()].filter((k) => k.revokedAt === null));
  }

  async listChains(): Promise<Chain[]> {
    return this.answer([...this.chains.values()]);
  }

  async listVersions(): Promise<ChainVersion[]> {
    return this.answer([...this.versions]);
  }

  async putChain(id: string, patch: ChainPatch, now: Date): Promise<{ row: Chain; created: boolean }> {
    const existing = this.chains.get(id);
    const row: Chain = existing
      ? {
          ...existing,
          ...(patch.description !== undefined ? { description: patch.description } : {}),
          ...(patch.current !== undefined ? { currentVersion: patch.current } : {}),
          ...(patch.redaction !== undefined ? { redaction: patch.redaction } : {}),
          ...(patch.trackedFields !== undefined ? { trackedFields: patch.trackedFields } : {}),
          ...(patch.environments !== undefined ? { environments: patch.environments } : {}),
          updatedAt: now,
        }
      : {
          id,
          description: patch.description ?? null,
          currentVersion: patch.current ?? null,
          redaction: patch.redaction ?? null,
          trackedFields: patch.trackedFields ?? null,
          environments: patch.environments ?? null,
          createdAt: now,
          updatedAt: now,
        };
    this.chains.set(id, row);
    return { row, created: !existing };
  }

  async insertVersion(v: {
    chainId: string;
    version: string;
    adapter: AdapterDefinition;
    createdAt: Date;
  }): Promise<{ row: ChainVersion; created: boolean }> {
    const existing = this.versions.find((x) => x.chainId === v.chainId && x.version === v.version);
    if (existing) return { row: existing, created: false };
    this.versions.push(v);
    const chain = this.chains.get(v.chainId);
    if (chain && chain.currentVersion === null) this.chains.set(v.chainId, { ...chain, currentVersion: v.version, updatedAt: v.createdAt });
    return { row: v, created: true };
  }

  async initSetting(key: string, value: string): Promise<string> {
    if (!this.settings.has(key)) this.settings.set(key, value);
    return this.settings.get(key)!;
  }
}

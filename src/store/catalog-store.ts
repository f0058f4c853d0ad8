/**
 * Writes and reads of the catalog: tenants, API keys, chains and their immutable versions (the
 * CatalogRepository port, src/domain/ports/catalog-repository.ts). Small tables, read whole into
 * the in-memory Catalog (src/domain/services/catalog.ts) for the hot path. The columns carry the
 * domain's types (schema.ts): a row is the domain's record as it is.
 */
import { and, eq, isNull } from 'drizzle-orm';
import type { AdapterDefinition } from '../adapters/adapter-definition.js';
import type { ApiKey, Chain, ChainVersion, Tenant } from '../domain/model/catalog.js';
import type { CatalogRepository, ChainPatch } from '../domain/ports/catalog-repository.js';
import type { Db } from './db.js';
import { apiKeys, chains, chainVersions, settings, tenants } from './schema.js';
import type { ChainRow } from './schema.js';

export class CatalogStore implements CatalogRepository {
  constructor(private readonly db: Db) {}

  /** Upsert; `created` tells 201 from 200. */
  async putTenant(id: string, name: string | undefined, now: Date): Promise<{ row: Tenant; created: boolean }> {
    const existing = await this.db.select().from(tenants).where(eq(tenants.id, id));
    if (existing[0]) {
      if (name === undefined) return { row: existing[0], created: false };
      const [row] = await this.db.update(tenants).set({ name, updatedAt: now }).where(eq(tenants.id, id)).returning();
      return { row: row!, created: false };
    }
    const inserted = await this.db
      .insert(tenants)
      .values({ id, name: name ?? null, createdAt: now, updatedAt: now })
      .onConflictDoNothing()
      .returning();
    if (inserted[0]) return { row: inserted[0], created: true };
    return this.putTenant(id, name, now); // lost a race with another replica: now it exists
  }

  listTenants(): Promise<Tenant[]> {
    return this.db.select().from(tenants).orderBy(tenants.id);
  }

  async insertKey(row: Omit<ApiKey, 'revokedAt'>): Promise<ApiKey> {
    const [inserted] = await this.db.insert(apiKeys).values(row).returning();
    return inserted!;
  }

  /** Marks the key revoked; false when no live key of that tenant has that id. */
  async revokeKey(tenantId: string | null, keyId: string, now: Date): Promise<boolean> {
    const owner = tenantId === null ? isNull(apiKeys.tenantId) : eq(apiKeys.tenantId, tenantId);
    const rows = await this.db
      .update(apiKeys)
      .set({ revokedAt: now })
      .where(and(eq(apiKeys.id, keyId), owner, isNull(apiKeys.revokedAt)))
      .returning({ id: apiKeys.id });
    return rows.length > 0;
  }

  liveKeys(): Promise<ApiKey[]> {
    return this.db.select().from(apiKeys).where(isNull(apiKeys.revokedAt));
  }

  listChains(): Promise<Chain[]> {
    return this.db.select().from(chains).orderBy(chains.id);
  }

  listVersions(): Promise<ChainVersion[]> {
    return this.db.select().from(chainVersions).orderBy(chainVersions.chainId, chainVersions.createdAt);
  }

  async putChain(id: string, patch: ChainPatch, now: Date): Promise<{ row: Chain; created: boolean }> {
    const inserted = await this.db
      .insert(chains)
      .values({
        id,
        description: patch.description ?? null,
        currentVersion: patch.current ?? null,
        redaction: patch.redaction ?? null,
        trackedFields: patch.trackedFields ?? null,
        environments: patch.environments ?? null,
        createdAt: now,
        updatedAt: now,
      })
      .onConflictDoNothing()
      .returning();
    if (inserted[0]) return { row: inserted[0], created: true };
    const set: Partial<ChainRow> = { updatedAt: now };
    if (patch.description !== undefined) set.description = patch.description;
    if (patch.current !== undefined) set.currentVersion = patch.current;
    if (patch.redaction !== undefined) set.redaction = patch.redaction;
    if (patch.trackedFields !== undefined) set.trackedFields = patch.trackedFields;
    if (patch.environments !== undefined) set.environments = patch.environments;
    const [row] = await this.db.update(chains).set(set).where(eq(chains.id, id)).returning();
    return { row: row!, created: false };
  }

  /** Inserts a version; returns the row that exists afterwards and whether this call created it. */
  async insertVersion(row: {
    chainId: string;
    version: string;
    adapter: AdapterDefinition;
    createdAt: Date;
  }): Promise<{ row: ChainVersion; created: boolean }> {
    const inserted = await this.db.insert(chainVersions).values(row).onConflictDoNothing().returning();
    if (inserted[0]) {
      // The first version registered becomes current.
      await this.db
        .update(chains)
        .set({ currentVersion: row.version, updatedAt: row.createdAt })
        .where(and(eq(chains.id, row.chainId), isNull(chains.currentVersion)));
      return { row: inserted[0], created: true };
    }
    const [existing] = await this.db
      .select()
      .from(chainVersions)
      .where(and(eq(chainVersions.chainId, row.chainId), eq(chainVersions.version, row.version)));
    return { row: existing!, created: false };
  }

  async getSetting(key: string): Promise<string | undefined> {
    const [row] = await this.db.select().from(settings).where(eq(settings.key, key));
    return row?.value;
  }

  /** Sets the value unless one exists; returns the value that holds (first writer wins across replicas). */
  async initSetting(key: string, value: string): Promise<string> {
    await this.db.insert(settings).values({ key, value }).onConflictDoNothing();
    return (await this.getSetting(key))!;
  }
}

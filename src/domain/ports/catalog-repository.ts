/**
 * The CatalogRepository port: tenants, API keys, chains and versions, and server-wide settings.
 * Small tables, read whole into the in-memory Catalog (src/domain/services/catalog.ts);
 * src/store/catalog-store.ts implements it.
 */
import type { AdapterDefinition } from '../../adapters/adapter-definition.js';
import type { RedactionConfig } from '../../redaction/redaction.js';
import type { ApiKey, Chain, ChainVersion, Tenant } from '../model/catalog.js';

export interface ChainPatch {
  description?: string;
  current?: string;
  redaction?: RedactionConfig;
  /** null clears the list. */
  trackedFields?: string[] | null;
  environments?: string[];
}

export interface CatalogRepository {
  /** Creates or renames; `created` tells 201 from 200. */
  putTenant(id: string, name: string | undefined, now: Date): Promise<{ row: Tenant; created: boolean }>;
  listTenants(): Promise<Tenant[]>;
  insertKey(key: Omit<ApiKey, 'revokedAt'>): Promise<ApiKey>;
  /** Marks the key revoked; false when no live key of that tenant (null: a named admin key) has that id. */
  revokeKey(tenantId: string | null, keyId: string, now: Date): Promise<boolean>;
  liveKeys(): Promise<ApiKey[]>;
  listChains(): Promise<Chain[]>;
  /** Every chain's versions, by chain and registration time. */
  listVersions(): Promise<ChainVersion[]>;
  putChain(id: string, patch: ChainPatch, now: Date): Promise<{ row: Chain; created: boolean }>;
  /** Inserts a version (the chain's first becomes current); returns the row that exists afterwards and whether this call created it. */
  insertVersion(version: {
    chainId: string;
    version: string;
    adapter: AdapterDefinition;
    createdAt: Date;
  }): Promise<{ row: ChainVersion; created: boolean }>;
  /** Sets the value unless one exists; returns the value that holds (first writer wins across replicas). */
  initSetting(key: string, value: string): Promise<string>;
}

/** The catalog: tenants, their API keys, chains and their immutable versions. */
import type { AdapterDefinition } from '../../adapters/adapter-definition.js';
import type { RedactionConfig } from '../../redaction/redaction.js';

export interface Tenant {
  id: string;
  name: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** An API key, known only by the keyed hash of its secret. tenantId null: a named admin key. */
export interface ApiKey {
  id: string;
  tenantId: string | null;
  name: string;
  hash: string;
  createdAt: Date;
  revokedAt: Date | null;
}

export interface Chain {
  id: string;
  description: string | null;
  /** The version calls get outside a rollout; null until the first version is registered. */
  currentVersion: string | null;
  /** PII redaction applied to inputs and outputs before storage; null: none. */
  redaction: RedactionConfig | null;
  /**
   * The output fields the comparison breaks override rates down by; any other changed field counts
   * under `$other` (src/domain/overrides/counted-fields.ts). null: the fields of the AI's output.
   */
  trackedFields: string[] | null;
  /** The environment names invoke and rollout stages accept; null: DEFAULT_ENVIRONMENTS. */
  environments: string[] | null;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * The environments a chain accepts when it names none (README, "The API in short"). A name
 * outside the chain's list is a 400, so `"production"` cannot silently miss every `prod` stage.
 */
export const DEFAULT_ENVIRONMENTS: readonly string[] = ['dev', 'staging', 'prod'];

export function chainEnvironments(chain: Pick<Chain, 'environments'>): readonly string[] {
  return chain.environments ?? DEFAULT_ENVIRONMENTS;
}

export interface ChainVersion {
  chainId: string;
  version: string;
  /** The adapter definition as registered (parsed; secrets only as {"env": NAME} references). */
  adapter: AdapterDefinition;
  createdAt: Date;
}

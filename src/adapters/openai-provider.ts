/**
 * The gateway's OpenAI and Azure OpenAI settings, and what an `openai` version needs of them.
 * Kept apart from the adapter (openai-adapter.ts) so that registering and validating versions
 * does not load the `openai` SDK: a gateway whose versions are all `http` never loads it
 * (adapter-registry.ts builds the adapter on a version's first call).
 */
import type { AdapterDefinition } from './adapter-definition.js';

/** The gateway's provider settings (OPENAI_API_KEY, OPENAI_BASE_URL, AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_API_KEY). */
export interface OpenAIProviderSettings {
  apiKey?: string | undefined;
  baseURL?: string | undefined;
  azureEndpoint?: string | undefined;
  azureApiKey?: string | undefined;
}

export const DEFAULT_OPENAI_BASE_URL = 'https://api.openai.com/v1';
/** Azure's api-version when a version names none: the GA release that added structured outputs. */
export const DEFAULT_AZURE_API_VERSION = '2024-10-21';

export interface OpenAIAdapterOptions {
  /** A fetch for the SDK (tests, proxies). Default: the global fetch, which keeps connections alive. */
  fetch?: typeof fetch;
}

/**
 * Why an `openai` version could not be called on this gateway as configured (its provider's
 * settings are missing), or undefined. Registering such a version still works (another replica,
 * or a restart with the settings, can call it), but the caller is warned at once rather than
 * finding out from the first 502.
 */
export function providerProblem(def: AdapterDefinition, settings: OpenAIProviderSettings): string | undefined {
  if (def.type !== 'openai') return undefined;
  if (def.provider === 'azure') {
    if (!settings.azureEndpoint) return 'Azure OpenAI is not configured on the gateway (AZURE_OPENAI_ENDPOINT).';
    if (!settings.azureApiKey) return 'Azure OpenAI is not configured on the gateway (AZURE_OPENAI_API_KEY).';
    return undefined;
  }
  return settings.apiKey ? undefined : 'OpenAI is not configured on the gateway (OPENAI_API_KEY).';
}

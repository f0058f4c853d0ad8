/**
 * Registering an `openai` version on a gateway without its provider's settings warns at once
 * (201 with `warnings` and an x-chain-canary-warning header), instead of the first call's 502
 * being the first sign; with the settings, or for an `http` version, there is no warning.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatVersion } from '../../src/cli/format.js';
import { noPostgres, startTestGateway, type TestGateway } from '../support/gateway.js';

const openai = (provider?: 'azure') => ({
  type: 'openai',
  ...(provider ? { provider, deployment: 'gpt-4o-mini' } : {}),
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Extract: {{input.text}}' }],
});

describe.skipIf(noPostgres)('provider warning on version registration', () => {
  let bare: TestGateway;
  let configured: TestGateway;
  beforeAll(async () => {
    [bare, configured] = await Promise.all([
      startTestGateway({ env: { OPENAI_API_KEY: '', AZURE_OPENAI_ENDPOINT: '', AZURE_OPENAI_API_KEY: '' } }),
      startTestGateway({ env: { OPENAI_API_KEY: 'sk-test-not-used' } }),
    ]);
    for (const gw of [bare, configured]) expect((await gw.request('PUT', '/v1/chains/c', {})).status).toBe(201);
  });
  afterAll(async () => {
    await bare?.close();
    await configured?.close();
  });

  it('warns when the provider is not configured, and the CLI prints it', async () => {
    const res = await bare.request('POST', '/v1/chains/c/versions', { version: 'p1', adapter: openai() });
    expect(res.status).toBe(201);
    const warning =
      'provider_not_configured: OpenAI is not configured on the gateway (OPENAI_API_KEY). Calls to this version fail (502) until it is set.';
    expect(res.body.warnings).toEqual([warning]);
    expect(res.headers['x-chain-canary-warning']).toBe(warning);
    expect(formatVersion(res.body)).toBe(`version p1 of c: openai openai gpt-4o-mini\nwarning: ${warning}`);
    // The same again (idempotent 200) still warns; the stored version has no warnings.
    expect((await bare.request('POST', '/v1/chains/c/versions', { version: 'p1', adapter: openai() })).body.warnings).toEqual([warning]);
    expect((await bare.request('GET', '/v1/chains/c')).body.versions[0].warnings).toBeUndefined();

    const azure = await bare.request('POST', '/v1/chains/c/versions', { version: 'p2', adapter: openai('azure') });
    expect(azure.body.warnings).toEqual([
      'provider_not_configured: Azure OpenAI is not configured on the gateway (AZURE_OPENAI_ENDPOINT). Calls to this version fail (502) until it is set.',
    ]);
  });

  it('does not warn with the provider configured, or for an http version', async () => {
    const res = await configured.request('POST', '/v1/chains/c/versions', { version: 'p1', adapter: openai() });
    expect(res.status).toBe(201);
    expect(res.body.warnings).toBeUndefined();
    expect(res.headers['x-chain-canary-warning']).toBeUndefined();
    const http = await bare.request('POST', '/v1/chains/c/versions', {
      version: 'h1',
      adapter: { type: 'http', url: 'http://127.0.0.1:9/invoke' },
    });
    expect(http.status).toBe(201);
    expect(http.body.warnings).toBeUndefined();
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openaiAdapterDefinitionSchema } from '../../../src/adapters/adapter-definition.js';
import { OpenAIChainAdapter } from '../../../src/adapters/openai-adapter.js';
import { DEFAULT_AZURE_API_VERSION, type OpenAIProviderSettings } from '../../../src/adapters/openai-provider.js';
import { UpstreamError } from '../../../src/domain/model/errors.js';
import { startFakeOpenAI, type FakeOpenAI } from '../../support/fake-openai.js';

let fake: FakeOpenAI;
let settings: OpenAIProviderSettings;

const adapter = (def: Record<string, unknown>, providers: OpenAIProviderSettings = settings) =>
  new OpenAIChainAdapter(
    openaiAdapterDefinitionSchema.parse({
      type: 'openai',
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: '{{input}}' }],
      ...def,
    }),
    providers,
  );

async function failure(promise: Promise<unknown>): Promise<UpstreamError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UpstreamError);
  return err as UpstreamError;
}

beforeAll(async () => {
  fake = await startFakeOpenAI();
  settings = { apiKey: 'sk-test-openai', baseURL: fake.baseURL, azureEndpoint: `${fake.azureEndpoint}/`, azureApiKey: 'azure-test-key' };
});
afterEach(() => {
  fake.setBehaviour({});
  fake.reset();
});
afterAll(async () => {
  await fake.close();
});

describe('OpenAIChainAdapter (provider openai, real SDK)', () => {
  it('fills the templates, sends model and temperature, returns the content and usage', async () => {
    fake.setBehaviour({ reply: (messages) => `got: ${messages.map((m) => m.content).join(' | ')}` });
    const a = adapter({
      temperature: 0.2,
      messages: [
        { role: 'system', content: 'You extract invoices.' },
        { role: 'user', content: 'Vendor {{input.vendor.name}}, lines {{ input.lines }}, missing [{{input.nope}}], raw {{input}}' },
      ],
    });
    const input = { vendor: { name: 'ACME' }, lines: [1, 2] };
    const result = await a.invoke(input);
    const sent = fake.requests[0]!;
    expect(sent.path).toBe('/v1/chat/completions');
    expect(sent.headers.authorization).toBe('Bearer sk-test-openai');
    expect(sent.body).toMatchObject({ model: 'gpt-4o-mini', temperature: 0.2 });
    expect(sent.body).not.toHaveProperty('response_format');
    expect(sent.body.messages).toEqual([
      { role: 'system', content: 'You extract invoices.' },
      { role: 'user', content: `Vendor ACME, lines [1,2], missing [], raw ${JSON.stringify(input)}` },
    ]);
    expect(result.output).toBe(`got: You extract invoices. | Vendor ACME, lines [1,2], missing [], raw ${JSON.stringify(input)}`);
    expect(result.usage).toEqual({ promptTokens: 12, completionTokens: 5, totalTokens: 17 });
    expect(result.upstreamMs).toBeGreaterThan(0);
  });

  it('sends a json_schema response format and parses the reply as the output', async () => {
    const schema = { type: 'object', properties: { total: { type: 'number' } }, required: ['total'], additionalProperties: false };
    fake.setBehaviour({ reply: () => '{"total": 42}', usage: { prompt_tokens: 100, completion_tokens: 7, total_tokens: 107 } });
    const result = await adapter({ responseFormat: schema, strictSchema: true }).invoke({ text: 'x' });
    expect(fake.requests[0]?.body.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'output', schema, strict: true } });
    expect(result.output).toEqual({ total: 42 });
    expect(result.usage).toEqual({ promptTokens: 100, completionTokens: 7, totalTokens: 107 });
  });

  it('leaves strict out unless the version asks for it', async () => {
    fake.setBehaviour({ reply: () => '{}' });
    await adapter({ responseFormat: { type: 'object' } }).invoke({});
    expect(fake.requests[0]?.body.response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'output', schema: { type: 'object' } },
    });
  });

  it('fails when a JSON reply does not parse (e.g. cut short)', async () => {
    fake.setBehaviour({ reply: () => '{"total": 4', finishReason: 'length' });
    expect(await failure(adapter({ responseFormat: { type: 'object' } }).invoke({}))).toMatchObject({
      kind: 'failed',
      details: { finishReason: 'length', body: '{"total": 4' },
    });
  });

  it('fails on a refusal', async () => {
    fake.setBehaviour({ reply: () => null });
    expect(await failure(adapter({}).invoke('x'))).toMatchObject({ kind: 'failed', message: expect.stringContaining('refused') });
  });

  it('maps an API error to failed with its status, without retrying', async () => {
    fake.setBehaviour({ status: 500, errorMessage: 'The server had an error' });
    const err = await failure(adapter({}).invoke('x'));
    expect(err).toMatchObject({
      kind: 'failed',
      statusCode: 502,
      details: { status: 500, code: 'forced', body: 'The server had an error' },
    });
    expect(fake.calls).toBe(1);
  });

  it('retries when the version asks for it', async () => {
    fake.setBehaviour({ status: 503 });
    await failure(adapter({ maxRetries: 1 }).invoke('x'));
    expect(fake.calls).toBe(2);
  });

  it('times out after about timeoutMs', async () => {
    fake.setBehaviour({ hang: true });
    const started = performance.now();
    const err = await failure(adapter({ timeoutMs: 300 }).invoke('x'));
    expect(err).toMatchObject({ kind: 'timeout', statusCode: 504, details: { timeoutMs: 300 } });
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it("is cancelled by the caller's signal", async () => {
    fake.setBehaviour({ hang: true });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    expect(await failure(adapter({}).invoke('x', controller.signal))).toMatchObject({ kind: 'failed', details: { cancelled: true } });
  });

  it('fails with a clear message, calling nothing, when no API key is configured', async () => {
    const saved = process.env.OPENAI_API_KEY;
    process.env.OPENAI_API_KEY = 'sk-from-env-must-not-be-used';
    try {
      const err = await failure(adapter({}, { baseURL: fake.baseURL }).invoke('x'));
      expect(err.message).toContain('OPENAI_API_KEY');
      expect(fake.calls).toBe(0);
    } finally {
      if (saved === undefined) delete process.env.OPENAI_API_KEY;
      else process.env.OPENAI_API_KEY = saved;
    }
  });

  it('fails with the connection error when nothing listens', async () => {
    const gone = await startFakeOpenAI();
    await gone.close();
    const err = await failure(adapter({}, { apiKey: 'k', baseURL: gone.baseURL }).invoke('x'));
    expect(err).toMatchObject({ kind: 'failed', details: { code: 'ECONNREFUSED' } });
  });
});

describe('OpenAIChainAdapter (provider azure, real SDK)', () => {
  it('calls the deployment path with api-version and the api-key header', async () => {
    fake.setBehaviour({ reply: () => '{"ok": true}' });
    const result = await adapter({
      provider: 'azure',
      deployment: 'prod-4o',
      apiVersion: '2025-01-01-preview',
      responseFormat: { type: 'object' },
    }).invoke({});
    const sent = fake.requests[0]!;
    expect(sent).toMatchObject({
      path: '/openai/deployments/prod-4o/chat/completions',
      deployment: 'prod-4o',
      query: { 'api-version': '2025-01-01-preview' },
    });
    expect(sent.headers['api-key']).toBe('azure-test-key');
    expect(sent.headers.authorization).toBeUndefined();
    expect(result.output).toEqual({ ok: true });
  });

  it('defaults the deployment to the model and the api-version to a fixed GA release', async () => {
    const saved = process.env.OPENAI_BASE_URL;
    // Set for the openai provider; must not leak into the Azure client.
    process.env.OPENAI_BASE_URL = 'http://127.0.0.1:1/v1';
    try {
      await adapter({ provider: 'azure', model: 'gpt-4o' }).invoke('x');
    } finally {
      if (saved === undefined) delete process.env.OPENAI_BASE_URL;
      else process.env.OPENAI_BASE_URL = saved;
    }
    expect(fake.requests[0]).toMatchObject({ deployment: 'gpt-4o', query: { 'api-version': DEFAULT_AZURE_API_VERSION } });
  });

  it('fails clearly when Azure is not configured', async () => {
    const err = await failure(adapter({ provider: 'azure' }, { apiKey: 'k' }).invoke('x'));
    expect(err.message).toContain('AZURE_OPENAI_ENDPOINT');
    const noKey = await failure(adapter({ provider: 'azure' }, { azureEndpoint: fake.azureEndpoint }).invoke('x'));
    expect(noKey.message).toContain('AZURE_OPENAI_API_KEY');
  });

  it('maps an Azure error status to failed', async () => {
    fake.setBehaviour({ status: 429, errorMessage: 'Rate limit' });
    expect(await failure(adapter({ provider: 'azure' }).invoke('x'))).toMatchObject({ kind: 'failed', details: { status: 429 } });
  });
});

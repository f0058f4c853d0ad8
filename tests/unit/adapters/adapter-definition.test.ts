import { describe, expect, it } from 'vitest';
import { adapterDefinitionSchema, canonicalAdapterJson, type AdapterDefinition } from '../../../src/adapters/adapter-definition.js';

const parse = (value: unknown): AdapterDefinition => adapterDefinitionSchema.parse(value);
const issues = (value: unknown) => {
  const result = adapterDefinitionSchema.safeParse(value);
  expect(result.success).toBe(false);
  return result.error!.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
};

describe('http adapter definition', () => {
  it('accepts the contract shape and applies the default timeout', () => {
    const def = parse({ type: 'http', url: 'http://127.0.0.1:9000/invoke' });
    expect(def).toEqual({ type: 'http', url: 'http://127.0.0.1:9000/invoke', timeoutMs: 30_000 });
  });

  it('accepts literal and env-reference headers', () => {
    const def = parse({
      type: 'http',
      url: 'https://chains.internal/v2/invoke',
      timeoutMs: 5000,
      headers: { 'X-Team': 'ops', Authorization: { env: 'LANGSERVE_TOKEN' } },
    });
    expect(def.type === 'http' && def.headers).toEqual({ 'X-Team': 'ops', Authorization: { env: 'LANGSERVE_TOKEN' } });
  });

  it('rejects unknown fields (strict), so a typo is a 400', () => {
    expect(issues({ type: 'http', url: 'http://127.0.0.1/invoke', timeout: 5 })).toEqual([expect.objectContaining({ path: '' })]);
    expect(issues({ type: 'http', url: 'http://127.0.0.1/invoke', headers: { A: { env: 'X', default: 'y' } } }).length).toBeGreaterThan(0);
  });

  it.each([
    ['ftp://127.0.0.1/x', 'http or https'],
    ['not a url', 'absolute URL'],
    ['http://user:secret@127.0.0.1/invoke', 'credentials'],
  ])('rejects the url %s', (url, message) => {
    expect(issues({ type: 'http', url })).toEqual([{ path: 'url', message: expect.stringContaining(message) }]);
  });

  it('bounds timeoutMs', () => {
    expect(issues({ type: 'http', url: 'http://127.0.0.1/', timeoutMs: 0 })[0]?.path).toBe('timeoutMs');
    expect(issues({ type: 'http', url: 'http://127.0.0.1/', timeoutMs: 600_001 })[0]?.path).toBe('timeoutMs');
    expect(issues({ type: 'http', url: 'http://127.0.0.1/', timeoutMs: 1.5 })[0]?.path).toBe('timeoutMs');
  });

  it('rejects bad header names, values, env names and headers the gateway sets', () => {
    expect(issues({ type: 'http', url: 'http://127.0.0.1/', headers: { 'Bad Name': 'x' } })[0]?.path).toBe('headers.Bad Name');
    expect(issues({ type: 'http', url: 'http://127.0.0.1/', headers: { A: 'x\r\nInjected: y' } })[0]?.path).toContain('headers.A');
    expect(issues({ type: 'http', url: 'http://127.0.0.1/', headers: { A: { env: 'not-a-name' } } })[0]?.path).toContain('headers.A');
    expect(issues({ type: 'http', url: 'http://127.0.0.1/', headers: { 'Content-Length': '3' } })[0]?.message).toContain(
      'set by the gateway',
    );
    expect(issues({ type: 'http', url: 'http://127.0.0.1/', headers: { 'x-a': '1', 'X-A': '2' } })[0]?.message).toContain('twice');
  });
});

describe('openai adapter definition', () => {
  const base = { type: 'openai', model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Extract {{input.text}}' }] };

  it('applies provider, timeout and retry defaults', () => {
    expect(parse(base)).toEqual({ ...base, provider: 'openai', timeoutMs: 60_000, maxRetries: 0 });
  });

  it('accepts azure with deployment, apiVersion, a response format and temperature', () => {
    const def = parse({
      ...base,
      provider: 'azure',
      deployment: 'prod-4o',
      apiVersion: '2024-10-21',
      responseFormat: { type: 'object', properties: { total: { type: 'number' } } },
      temperature: 0,
    });
    expect(def).toMatchObject({ provider: 'azure', deployment: 'prod-4o', responseFormat: { type: 'object' } });
  });

  it('rejects azure-only fields on provider openai, and strictSchema without a format', () => {
    expect(issues({ ...base, deployment: 'x' })).toEqual([{ path: 'deployment', message: expect.stringContaining('azure') }]);
    expect(issues({ ...base, strictSchema: true })).toEqual([{ path: 'strictSchema', message: expect.stringContaining('responseFormat') }]);
  });

  it('rejects unknown fields, roles, empty messages and a non-object response format', () => {
    expect(issues({ ...base, modle: 'x' }).length).toBeGreaterThan(0);
    expect(issues({ ...base, messages: [{ role: 'wizard', content: 'x' }] })[0]?.path).toBe('messages.0.role');
    expect(issues({ ...base, messages: [{ role: 'user', content: 'x', name: 'n' }] })[0]?.path).toBe('messages.0');
    expect(issues({ ...base, messages: [] })[0]?.path).toBe('messages');
    expect(issues({ ...base, responseFormat: 'json' })[0]?.path).toBe('responseFormat');
    expect(issues({ ...base, temperature: 3 })[0]?.path).toBe('temperature');
  });

  it('rejects an unknown type', () => {
    expect(issues({ type: 'grpc', url: 'http://127.0.0.1/' })[0]?.path).toBe('type');
  });
});

describe('canonicalAdapterJson', () => {
  it('is the same whatever the key order, at every depth', () => {
    const a = parse({ type: 'http', url: 'http://127.0.0.1/invoke', headers: { A: '1', B: { env: 'TOKEN' } } });
    const b = parse({ headers: { B: { env: 'TOKEN' }, A: '1' }, url: 'http://127.0.0.1/invoke', type: 'http' });
    expect(canonicalAdapterJson(a)).toBe(canonicalAdapterJson(b));
    const schemaA = { type: 'object', properties: { x: { type: 'string' }, y: { type: 'number' } }, required: ['x'] };
    const schemaB = { required: ['x'], properties: { y: { type: 'number' }, x: { type: 'string' } }, type: 'object' };
    const msgs = [{ role: 'user', content: 'hi' }];
    expect(canonicalAdapterJson(parse({ type: 'openai', model: 'm', messages: msgs, responseFormat: schemaA }))).toBe(
      canonicalAdapterJson(parse({ responseFormat: schemaB, messages: msgs, model: 'm', type: 'openai' })),
    );
  });

  it('treats a default spelled out like a default left out', () => {
    expect(canonicalAdapterJson(parse({ type: 'http', url: 'http://127.0.0.1/' }))).toBe(
      canonicalAdapterJson(parse({ type: 'http', url: 'http://127.0.0.1/', timeoutMs: 30_000 })),
    );
  });

  it('differs when anything that matters differs, including message order', () => {
    const one = parse({ type: 'http', url: 'http://127.0.0.1/a' });
    expect(canonicalAdapterJson(one)).not.toBe(canonicalAdapterJson(parse({ type: 'http', url: 'http://127.0.0.1/b' })));
    expect(canonicalAdapterJson(one)).not.toBe(canonicalAdapterJson(parse({ type: 'http', url: 'http://127.0.0.1/a', timeoutMs: 1000 })));
    const m1 = { role: 'system', content: 'a' };
    const m2 = { role: 'user', content: 'b' };
    expect(canonicalAdapterJson(parse({ type: 'openai', model: 'm', messages: [m1, m2] }))).not.toBe(
      canonicalAdapterJson(parse({ type: 'openai', model: 'm', messages: [m2, m1] })),
    );
  });

  it('keeps a "__proto__" key in a schema as data', () => {
    const def = parse({
      type: 'openai',
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      responseFormat: JSON.parse('{"properties":{"__proto__":{"type":"string"}}}') as Record<string, unknown>,
    });
    expect(canonicalAdapterJson(def)).toContain('"__proto__":{"type":"string"}');
  });
});

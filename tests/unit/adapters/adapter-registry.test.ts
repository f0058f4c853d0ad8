import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapterDefinitionSchema, type AdapterDefinition } from '../../../src/adapters/adapter-definition.js';
import { AdapterRegistry, LoadedOnFirstCall } from '../../../src/adapters/adapter-registry.js';
import type { ChainAdapter } from '../../../src/domain/ports/chain-adapter.js';
import { HttpChainAdapter } from '../../../src/adapters/http-adapter.js';
import { OpenAIChainAdapter } from '../../../src/adapters/openai-adapter.js';
import { UpstreamError } from '../../../src/domain/model/errors.js';
import { startFakeUpstream, type FakeUpstream } from '../../support/fake-upstream.js';

let upstream: FakeUpstream;
beforeAll(async () => {
  upstream = await startFakeUpstream();
});
afterAll(async () => {
  await upstream.close();
});

const httpDef = (): AdapterDefinition => adapterDefinitionSchema.parse({ type: 'http', url: upstream.url });
const openaiDef: AdapterDefinition = adapterDefinitionSchema.parse({
  type: 'openai',
  model: 'm',
  messages: [{ role: 'user', content: 'x' }],
});

const settle = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => (e instanceof UpstreamError ? e.kind : 'other'),
  );

describe('AdapterRegistry', () => {
  it("builds the adapter of the definition's type once per (chain, version)", async () => {
    // The provider is the loopback upstream, which refuses a body without `input` (HTTP 422).
    const registry = new AdapterRegistry({ providers: { apiKey: 'k', baseURL: upstream.origin } });
    const a = registry.get('invoices', 'v1', httpDef());
    expect(a.inner).toBeInstanceOf(HttpChainAdapter);
    expect(registry.get('invoices', 'v1', httpDef())).toBe(a);
    expect(registry.get('invoices', 'v2', httpDef())).not.toBe(a);
    expect(registry.get('other', 'v1', httpDef())).not.toBe(a);
    expect((await a.invoke({ n: 1 })).output).toEqual({ n: 1 });
    // An openai version's adapter loads the SDK with its first call, which reaches it.
    const openai = registry.get('invoices', 'v3', openaiDef).inner as LoadedOnFirstCall;
    expect(openai).toBeInstanceOf(LoadedOnFirstCall);
    expect(openai.loaded).toBeUndefined();
    await expect(openai.invoke({})).rejects.toMatchObject({ message: 'The model provider answered HTTP 422.' });
    expect(openai.loaded).toBeInstanceOf(OpenAIChainAdapter);
    await registry.closeAll();
  });

  it('loads an adapter once, on its first call; a load that fails fails that call and is tried again', async () => {
    let loads = 0;
    const lazy = new LoadedOnFirstCall(() => {
      loads += 1;
      if (loads === 1) return Promise.reject(new Error('no module'));
      return Promise.resolve({ invoke: (input: unknown) => Promise.resolve({ output: input, upstreamMs: 0 }) });
    });
    await expect(lazy.invoke(1)).rejects.toMatchObject({ kind: 'failed', message: 'The adapter could not be set up: no module' });
    const answers = await Promise.all([lazy.invoke(2), lazy.invoke(3)]);
    expect(answers.map((a) => a.output)).toEqual([2, 3]);
    expect(loads).toBe(2);
  });

  it('puts each version behind its own breaker, which counts upstream faults but not bad input', async () => {
    let answer: () => Promise<never> = () => Promise.reject(new UpstreamError('failed', 'HTTP 500', { status: 500 }));
    const fake: ChainAdapter = { invoke: () => answer() };
    const clock = { t: 0 };
    const registry = new AdapterRegistry({
      providers: {},
      createAdapter: () => fake,
      breaker: { consecutiveFailures: 2, coolDownMs: 1_000, now: () => clock.t },
    });
    const v1 = registry.get('c', 'v1', httpDef());
    const v2 = registry.get('c', 'v2', httpDef());

    answer = () => Promise.reject(new UpstreamError('failed', 'HTTP 422', { status: 422 }));
    for (let i = 0; i < 5; i++) expect(await settle(v1.invoke({}))).toBe('failed');
    answer = () => Promise.reject(new UpstreamError('failed', 'cancelled', { cancelled: true }));
    for (let i = 0; i < 5; i++) expect(await settle(v1.invoke({}))).toBe('failed');
    expect(registry.breakerState('c', 'v1')).toBe('closed');

    answer = () => Promise.reject(new UpstreamError('timeout', 'slow', { timeoutMs: 1 }));
    expect(await settle(v1.invoke({}))).toBe('timeout');
    expect(await settle(v1.invoke({}))).toBe('timeout');
    expect(await settle(v1.invoke({}))).toBe('circuit_open');
    expect(registry.breakerState('c', 'v1')).toBe('open');
    expect(registry.breakerState('c', 'v2')).toBe('closed');
    expect([...registry.breakerStates()]).toEqual([
      { chain: 'c', version: 'v1', state: 'open' },
      { chain: 'c', version: 'v2', state: 'closed' },
    ]);

    clock.t += 1_000;
    answer = () => Promise.resolve({ output: 1, upstreamMs: 1 }) as Promise<never>;
    expect(await settle(v1.invoke({}))).toBe('ok');
    expect(registry.breakerState('c', 'v1')).toBe('closed');
    expect(await settle(v2.invoke({}))).toBe('ok');
  });

  it('counts an unexpected exception from an adapter as a failure and passes it on', async () => {
    const registry = new AdapterRegistry({
      providers: {},
      createAdapter: () => ({ invoke: () => Promise.reject(new TypeError('bug')) }),
      breaker: { consecutiveFailures: 1 },
    });
    const a = registry.get('c', 'v1', httpDef());
    await expect(a.invoke({})).rejects.toThrow(TypeError);
    expect(registry.breakerState('c', 'v1')).toBe('open');
  });

  it('never throws from get(): a definition that cannot be set up gives failing calls, uncached', async () => {
    let attempts = 0;
    const registry = new AdapterRegistry({
      providers: {},
      createAdapter: () => {
        attempts += 1;
        throw new Error('bad settings');
      },
    });
    const a = registry.get('c', 'v1', httpDef());
    await expect(a.invoke({})).rejects.toMatchObject({ kind: 'failed', message: expect.stringContaining('bad settings') });
    registry.get('c', 'v1', httpDef());
    expect(attempts).toBe(2);
    expect(registry.breakerState('c', 'v1')).toBeUndefined();
  });

  it('closes every adapter on closeAll and evict, and builds afresh afterwards', async () => {
    const closed: string[] = [];
    const registry = new AdapterRegistry({
      providers: {},
      createAdapter: (def) => ({
        invoke: () => Promise.resolve({ output: def.type, upstreamMs: 0 }),
        close: async () => void closed.push(def.type),
      }),
    });
    const first = registry.get('c', 'v1', httpDef());
    registry.get('c', 'v2', openaiDef);
    await registry.evict('c', 'v2');
    expect(closed).toEqual(['openai']);
    await registry.evict('c', 'nope');
    await registry.closeAll();
    expect(closed).toEqual(['openai', 'http']);
    expect(registry.get('c', 'v1', httpDef())).not.toBe(first);
  });

  it('passes readEnv through to http adapters', async () => {
    const registry = new AdapterRegistry({ providers: {}, readEnv: (name) => (name === 'TOKEN' ? 'Bearer from-registry' : undefined) });
    const def = adapterDefinitionSchema.parse({ type: 'http', url: upstream.url, headers: { Authorization: { env: 'TOKEN' } } });
    upstream.reset();
    await registry.get('c', 'env', def).invoke({});
    expect(upstream.requests[0]?.headers.authorization).toBe('Bearer from-registry');
    await registry.closeAll();
  });
});

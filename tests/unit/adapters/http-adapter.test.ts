import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { httpAdapterDefinitionSchema } from '../../../src/adapters/adapter-definition.js';
import { HttpChainAdapter, type HttpAdapterOptions } from '../../../src/adapters/http-adapter.js';
import { UpstreamError } from '../../../src/domain/model/errors.js';
import { startFakeUpstream, type FakeUpstream } from '../../support/fake-upstream.js';

let upstream: FakeUpstream;
const adapters: HttpChainAdapter[] = [];

function adapter(def: Record<string, unknown> = {}, options: HttpAdapterOptions = {}): HttpChainAdapter {
  const created = new HttpChainAdapter(httpAdapterDefinitionSchema.parse({ type: 'http', url: upstream.url, ...def }), options);
  adapters.push(created);
  return created;
}

async function failure(promise: Promise<unknown>): Promise<UpstreamError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UpstreamError);
  return err as UpstreamError;
}

beforeAll(async () => {
  upstream = await startFakeUpstream();
});
afterEach(async () => {
  await Promise.all(adapters.splice(0).map((a) => a.close()));
  upstream.setBehaviour({});
  upstream.reset();
});
afterAll(async () => {
  await upstream.close();
});

describe('HttpChainAdapter', () => {
  it('POSTs {"input"} and returns the reply\'s output with the upstream time', async () => {
    upstream.setBehaviour({ output: (input) => ({ total: (input as { a: number }).a * 2 }) });
    const result = await adapter().invoke({ a: 21 });
    expect(result.output).toEqual({ total: 42 });
    expect(result.upstreamMs).toBeGreaterThan(0);
    expect(upstream.requests).toEqual([expect.objectContaining({ method: 'POST', path: '/invoke', body: { input: { a: 21 } } })]);
    expect(upstream.requests[0]?.headers['content-type']).toBe('application/json');
  });

  it('keeps the query string of the URL and sends null for an undefined input', async () => {
    await adapter({ url: `${upstream.origin}/chains/x/invoke?mode=fast` }).invoke(undefined);
    expect(upstream.requests[0]).toMatchObject({ path: '/chains/x/invoke?mode=fast', body: { input: null } });
  });

  it('returns a falsy output as it is', async () => {
    upstream.setBehaviour({ rawBody: '{"output":null,"metadata":{}}' });
    expect((await adapter().invoke('x')).output).toBeNull();
  });

  it('turns a non-2xx reply into a failed error with its status and a bounded body excerpt', async () => {
    upstream.setBehaviour({ status: 500, rawBody: 'x'.repeat(2000) });
    const err = await failure(adapter().invoke({}));
    expect(err).toMatchObject({ kind: 'failed', code: 'upstream_failed', statusCode: 502 });
    const details = err.details as { status: number; body: string };
    expect(details.status).toBe(500);
    expect(details.body.length).toBeLessThanOrEqual(500);
  });

  it('fails on a reply that is not JSON, or has no output', async () => {
    upstream.setBehaviour({ rawBody: '<html>oops</html>' });
    expect(await failure(adapter().invoke({}))).toMatchObject({
      kind: 'failed',
      message: expect.stringContaining('not JSON'),
      details: { status: 200, body: '<html>oops</html>' },
    });
    upstream.setBehaviour({ rawBody: '{"result": 1}' });
    expect(await failure(adapter().invoke({}))).toMatchObject({ kind: 'failed', message: expect.stringContaining('"output"') });
    upstream.setBehaviour({ rawBody: '[1,2]' });
    expect((await failure(adapter().invoke({}))).kind).toBe('failed');
  });

  it('times out a hung upstream after about timeoutMs', async () => {
    upstream.setBehaviour({ hang: true });
    const started = performance.now();
    const err = await failure(adapter({ timeoutMs: 300 }).invoke({}));
    const elapsed = performance.now() - started;
    expect(err).toMatchObject({ kind: 'timeout', code: 'upstream_timeout', statusCode: 504, details: { timeoutMs: 300 } });
    expect(elapsed).toBeGreaterThanOrEqual(250);
    // One attempt, cut off by its own timer; the bound leaves room for a busy CI machine's scheduling.
    expect(upstream.calls).toBe(1);
    expect(elapsed).toBeLessThan(1500);
  });

  it('answers a slow upstream within its timeout', async () => {
    upstream.setBehaviour({ delayMs: 100 });
    const result = await adapter({ timeoutMs: 2000 }).invoke('slow');
    expect(result.output).toBe('slow');
    expect(result.upstreamMs).toBeGreaterThanOrEqual(90);
  });

  it('fails with the connection error when nothing listens', async () => {
    const gone = await startFakeUpstream();
    const url = gone.url;
    await gone.close();
    const err = await failure(adapter({ url }).invoke({}));
    expect(err).toMatchObject({ kind: 'failed', details: { code: 'ECONNREFUSED' } });
  });

  it("is cancelled by the caller's signal, marked so the breaker ignores it", async () => {
    upstream.setBehaviour({ hang: true });
    const controller = new AbortController();
    const call = adapter().invoke({}, controller.signal);
    setTimeout(() => controller.abort(), 50);
    expect(await failure(call)).toMatchObject({ kind: 'failed', details: { cancelled: true } });
  });

  it('treats a caller deadline (AbortSignal.timeout) as a timeout', async () => {
    upstream.setBehaviour({ hang: true });
    expect(await failure(adapter().invoke({}, AbortSignal.timeout(50)))).toMatchObject({ kind: 'timeout' });
  });

  it('sends literal headers and reads env headers at call time, storing no value', async () => {
    const env: Record<string, string | undefined> = { LANGSERVE_TOKEN: 'Bearer s3cret-one' };
    const a = adapter({ headers: { 'X-Team': 'ops', Authorization: { env: 'LANGSERVE_TOKEN' } } }, { readEnv: (name) => env[name] });
    await a.invoke({});
    env.LANGSERVE_TOKEN = 'Bearer s3cret-two';
    await a.invoke({});
    expect(upstream.requests.map((r) => r.headers.authorization)).toEqual(['Bearer s3cret-one', 'Bearer s3cret-two']);
    expect(upstream.requests[0]?.headers['x-team']).toBe('ops');
    const dump = inspect(a, { depth: 10, showHidden: true }) + JSON.stringify(a);
    expect(dump).not.toContain('s3cret');
  });

  it('reads process.env by default', async () => {
    process.env.CC_TEST_HTTP_ADAPTER_TOKEN = 'from-process-env';
    try {
      await adapter({ headers: { 'X-Token': { env: 'CC_TEST_HTTP_ADAPTER_TOKEN' } } }).invoke({});
      expect(upstream.requests[0]?.headers['x-token']).toBe('from-process-env');
    } finally {
      delete process.env.CC_TEST_HTTP_ADAPTER_TOKEN;
    }
  });

  it('fails clearly, without calling the upstream, when an env header is not set', async () => {
    const err = await failure(
      adapter({ headers: { Authorization: { env: 'CC_TEST_SURELY_UNSET' } } }, { readEnv: () => undefined }).invoke({}),
    );
    expect(err).toMatchObject({ kind: 'failed', details: { header: 'Authorization', env: 'CC_TEST_SURELY_UNSET' } });
    expect(err.message).toContain('CC_TEST_SURELY_UNSET');
    expect(upstream.calls).toBe(0);
  });

  it('reuses one kept-alive connection for sequential calls', async () => {
    const a = adapter();
    for (let i = 0; i < 20; i++) await a.invoke({ i });
    expect(upstream.calls).toBe(20);
    // undici may open a second connection while the first is being marked free; never one per call.
    expect(upstream.connections).toBeLessThanOrEqual(2);
  });

  it('carries concurrent calls over several connections and answers each with its own output', async () => {
    upstream.setBehaviour({ delayMs: 20 });
    const a = adapter();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => a.invoke({ i })));
    expect(results.map((r) => r.output)).toEqual(Array.from({ length: 20 }, (_, i) => ({ i })));
    expect(upstream.connections).toBeGreaterThan(1);
  });

  it('decodes a reply that arrives in many chunks, multi-byte characters split across them', async () => {
    const text = 'é€😀'.repeat(60_000);
    const result = await adapter().invoke({ text });
    expect(result.output).toEqual({ text });
  });

  it('times out, and is cancelled, while still queued for a connection; the pool then serves the next call', async () => {
    upstream.setBehaviour({ hang: true });
    const a = adapter({ timeoutMs: 300 }, { connections: 1 });
    const holding = failure(a.invoke({ first: true }));
    const controller = new AbortController();
    const queuedCancelled = failure(a.invoke({ second: true }, controller.signal));
    const queuedTimedOut = failure(a.invoke({ third: true }));
    controller.abort();
    expect(await queuedCancelled).toMatchObject({ kind: 'failed', details: { cancelled: true } });
    expect(await queuedTimedOut).toMatchObject({ kind: 'timeout', details: { timeoutMs: 300 } });
    expect(await holding).toMatchObject({ kind: 'timeout' });
    upstream.setBehaviour({});
    expect((await a.invoke('after')).output).toBe('after');
  });

  it('closes promptly even with a call hanging, failing that call', async () => {
    upstream.setBehaviour({ hang: true });
    const a = adapter({ timeoutMs: 60_000 }, { closeGraceMs: 100 });
    const call = a.invoke({}).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = performance.now();
    await a.close();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(await call).toBeInstanceOf(UpstreamError);
    await a.close();
  });
});

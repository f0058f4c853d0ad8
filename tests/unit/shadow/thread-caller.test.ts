/**
 * The shadow calls' worker thread (src/runtime/shadow-thread), started from the TypeScript sources
 * as vitest runs them: results and upstream errors come back as the in-process caller gives them,
 * `{"env": NAME}` headers are read from the gateway's environment at call time, a thread that dies
 * fails the calls it held with an error that says so (recorded as the shadow run's error), and the
 * next call starts a new thread.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { adapterDefinitionSchema, type AdapterDefinition } from '../../../src/adapters/adapter-definition.js';
import { AdapterRegistry } from '../../../src/adapters/adapter-registry.js';
import { UpstreamAllowList } from '../../../src/adapters/upstream-allow.js';
import { DomainError } from '../../../src/domain/model/errors.js';
import type { ShadowResult } from '../../../src/domain/ports/shadow-repository.js';
import { ShadowBudget } from '../../../src/runtime/shadow-budget.js';
import { InProcessShadowCaller } from '../../../src/runtime/shadow-caller.js';
import { ShadowDispatcher, type ShadowedRollout } from '../../../src/runtime/shadow-dispatcher.js';
import { ThreadShadowCaller } from '../../../src/runtime/shadow-thread/thread-shadow-caller.js';
import { startFakeUpstream, type FakeUpstream } from '../../support/fake-upstream.js';

let upstream: FakeUpstream;
let hanging: FakeUpstream;
beforeAll(async () => {
  upstream = await startFakeUpstream({ behaviour: { output: (input: any) => ({ total: input.n * 2 }) } });
  hanging = await startFakeUpstream({ behaviour: { hang: true } });
});
afterAll(async () => {
  await Promise.all([upstream.close(), hanging.close()]);
});

const http = (url: string, extra: Record<string, unknown> = {}): AdapterDefinition =>
  adapterDefinitionSchema.parse({ type: 'http', url, timeoutMs: 5000, ...extra });

const callers: ThreadShadowCaller[] = [];
function threadCaller(opts: { upstreamAllow?: string; closeTimeoutMs?: number } = {}): ThreadShadowCaller {
  const caller = new ThreadShadowCaller({
    adapters: { providers: {}, http: { hopTag: 'tag-of-this-gateway' }, upstreamAllow: opts.upstreamAllow },
    log: pino({ level: 'silent' }),
    closeTimeoutMs: opts.closeTimeoutMs,
  });
  callers.push(caller);
  return caller;
}
afterEach(async () => {
  await Promise.all(callers.splice(0).map((c) => c.close()));
});

/** What a call rejects with, as the dispatcher reads it. */
async function failure(p: Promise<unknown>): Promise<{ domain: boolean; code?: string; message: string; details?: unknown }> {
  try {
    await p;
  } catch (err) {
    const e = err as DomainError;
    return { domain: err instanceof DomainError, code: e.code, message: e.message, details: e.details };
  }
  throw new Error('the call did not fail');
}

describe('the shadow calls thread', () => {
  it('runs the call on its own thread and answers with the output, as the in-process caller does', async () => {
    const caller = threadCaller();
    upstream.reset();
    const result = await caller.call('invoices', 'v2', http(upstream.url), { n: 21 }, 5000);
    expect(result.output).toEqual({ total: 42 });
    expect(result.upstreamMs).toBeGreaterThanOrEqual(0);
    // The loop guard's tag went with it, from the settings the thread was given.
    expect(upstream.requests[0]!.headers['x-chain-canary-hop']).toBe('tag-of-this-gateway');
    expect(caller.pending).toBe(0);
  });

  it('rejects with the same coded error as the in-process caller, details included', async () => {
    const failing = await startFakeUpstream({ behaviour: { status: 500 } });
    const registry = new AdapterRegistry({ providers: {} });
    try {
      const inThread = await failure(threadCaller().call('invoices', 'v2', http(failing.url), { n: 1 }, 5000));
      const inProcess = await failure(new InProcessShadowCaller(registry).call('invoices', 'v2', http(failing.url), { n: 1 }, 5000));
      expect(inThread).toEqual(inProcess);
      expect(inThread).toMatchObject({ domain: true, code: 'upstream_failed' });
      // A deadline passed in the thread is a timeout, as on this thread.
      expect(await failure(threadCaller().call('invoices', 'v2', http(hanging.url), { n: 1 }, 200))).toMatchObject({
        domain: true,
        code: 'upstream_timeout',
      });
    } finally {
      await registry.closeAll();
      await failing.close();
    }
  });

  it('applies UPSTREAM_ALLOW in the thread', async () => {
    const allow = UpstreamAllowList.parse('chains.internal, *.example.com:8443').toString();
    const refused = await failure(threadCaller({ upstreamAllow: allow }).call('invoices', 'v2', http(upstream.url), { n: 1 }, 5000));
    expect(refused).toMatchObject({ domain: true, code: 'upstream_failed', details: { reason: 'upstream_not_allowed' } });
    expect(refused.message).toContain('chains.internal, *.example.com:8443');
  });

  it('reads {"env": NAME} headers from the gateway environment at call time', async () => {
    const caller = threadCaller();
    const def = http(upstream.url, { headers: { authorization: { env: 'CC_SHADOW_THREAD_TEST_TOKEN' } } });
    upstream.reset();
    process.env.CC_SHADOW_THREAD_TEST_TOKEN = 'Bearer one';
    try {
      await caller.call('invoices', 'v2', def, { n: 1 }, 5000);
      // Changed after the thread started: the thread shares the environment rather than a copy.
      process.env.CC_SHADOW_THREAD_TEST_TOKEN = 'Bearer two';
      await caller.call('invoices', 'v2', def, { n: 1 }, 5000);
    } finally {
      delete process.env.CC_SHADOW_THREAD_TEST_TOKEN;
    }
    expect(upstream.requests.map((r) => r.headers.authorization)).toEqual(['Bearer one', 'Bearer two']);
  });

  it('calls the URL of the definition it is sent, should a version ever come with another', async () => {
    const other = await startFakeUpstream({ behaviour: { output: () => 'other' } });
    try {
      const caller = threadCaller();
      expect((await caller.call('invoices', 'v2', http(upstream.url), { n: 1 }, 5000)).output).toEqual({ total: 2 });
      expect((await caller.call('invoices', 'v2', http(other.url), { n: 1 }, 5000)).output).toBe('other');
    } finally {
      await other.close();
    }
  });

  it('fails the calls a dying thread held with an error that says so, and starts a new thread for the next call', async () => {
    const caller = threadCaller();
    const before = hanging.calls;
    const held = failure(caller.call('invoices', 'v2', http(hanging.url), { n: 1 }, 5000));
    await waitFor(() => hanging.calls > before);
    await caller.terminateThread();
    const lost = await held;
    expect(lost).toMatchObject({ domain: false });
    expect(lost.message).toMatch(/the shadow calls' thread exited \(code \d+\) before the candidate answered/);
    expect(caller.pending).toBe(0);
    expect((await caller.call('invoices', 'v2', http(upstream.url), { n: 4 }, 5000)).output).toEqual({ total: 8 });
  });

  it('records a dying thread as the shadow run error', async () => {
    const caller = threadCaller();
    const results: ShadowResult[] = [];
    const rollout: ShadowedRollout = {
      id: '6a0c9d0e-0d5e-4a59-9d4c-8a3b8f0b2f10',
      status: 'running',
      chainId: 'invoices',
      candidate: 'v2',
      spec: { stages: [{}], shadow: { percent: 100 } },
    };
    const dispatcher = new ShadowDispatcher({
      activeFor: () => rollout,
      caller,
      versionDef: () => http(hanging.url),
      budget: new ShadowBudget({ maxConcurrent: 8 }),
      writer: { recordResult: (r) => results.push(r), countSkip: () => {} },
      redact: (_chain, output) => ({ output }),
      log: pino({ level: 'silent' }),
      now: () => new Date(),
    });
    const before = hanging.calls;
    const ticket = dispatcher.plan('invoices', {
      tenant: 'acme',
      environment: 'prod',
      runId: 'r1',
      assignment: { variant: 'control', rolloutId: rollout.id, assignmentKey: 'acme/r1' },
    })!;
    dispatcher.start(ticket, { id: 'c1', tenantId: 'acme', environment: 'prod', stage: 0, createdAt: new Date() }, { n: 1 });
    await waitFor(() => hanging.calls > before);
    await caller.terminateThread();
    await dispatcher.drain();
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ shadowOf: 'c1', output: null, error: { code: 'upstream_failed' } });
    expect(results[0]!.error!.message).toMatch(/^The shadow call failed: the shadow calls' thread exited/);
  });

  it('on close, cuts off a hung call after the adapters grace and answers it as failed', async () => {
    const caller = threadCaller();
    const held = failure(caller.call('invoices', 'v2', http(hanging.url), { n: 1 }, 60_000));
    await waitFor(() => caller.pending === 1 && hanging.calls > 0);
    const started = Date.now();
    await caller.close();
    const closedIn = Date.now() - started;
    const cut = await held;
    // Cut off by the pool's close in the thread (an upstream error), not by terminating the thread.
    expect(cut.domain).toBe(true);
    expect(closedIn).toBeLessThan(5000);
    await expect(caller.call('invoices', 'v2', http(upstream.url), { n: 1 }, 5000)).rejects.toThrow(/closed/);
  });
});

async function waitFor(condition: () => boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

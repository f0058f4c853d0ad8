/**
 * The shadow dispatcher on a real loopback upstream: the decision is synchronous and bounded by the
 * limits; the call itself starts only after the current turn of the event loop, through its own
 * adapter registry, and whatever happens (output, upstream error, timeout) becomes the shadow run's
 * result instead of an exception.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { adapterDefinitionSchema } from '../../../src/adapters/adapter-definition.js';
import { AdapterRegistry } from '../../../src/adapters/adapter-registry.js';
import { loadConfig } from '../../../src/config/config.js';
import type { ShadowResult } from '../../../src/domain/ports/shadow-repository.js';
import type { ShadowCall } from '../../../src/domain/routing/shadow-selection.js';
import { ShadowBudget, type SkipReason } from '../../../src/runtime/shadow-budget.js';
import { InProcessShadowCaller } from '../../../src/runtime/shadow-caller.js';
import { ShadowDispatcher, type ShadowedRollout } from '../../../src/runtime/shadow-dispatcher.js';
import { startFakeUpstream, type FakeUpstream } from '../../support/fake-upstream.js';

let upstream: FakeUpstream;
beforeAll(async () => {
  upstream = await startFakeUpstream({ behaviour: { output: (input: any) => ({ total: input.n * 2 }) } });
});
afterAll(async () => {
  await upstream.close();
});

const ROLLOUT_ID = '6a0c9d0e-0d5e-4a59-9d4c-8a3b8f0b2f10';
const rollout = (shadow: ShadowedRollout['spec']['shadow'] = { percent: 100 }): ShadowedRollout => ({
  id: ROLLOUT_ID,
  status: 'running',
  chainId: 'invoices',
  candidate: 'v2',
  spec: { stages: [{}], shadow },
});
const call = (runId = 'r1'): ShadowCall => ({
  tenant: 'acme',
  environment: 'prod',
  runId,
  assignment: { variant: 'control', rolloutId: ROLLOUT_ID, assignmentKey: `acme/${runId}` },
});
const control = (id: string) => ({ id, tenantId: 'acme', environment: 'prod', stage: 0, createdAt: new Date('2026-01-01T00:00:00Z') });

/** The dispatcher reads the chain's rollout from the cache; these tests name it per call. */
let current: ShadowedRollout | undefined;
const plan = (dispatcher: ShadowDispatcher, r: ShadowedRollout | undefined, c: ShadowCall) => {
  current = r;
  return dispatcher.plan('invoices', c);
};

function setup(opts: { maxConcurrent?: number; now?: () => number; timeoutMs?: number; url?: string } = {}) {
  const results: ShadowResult[] = [];
  const skips: { rolloutId: string; reason: SkipReason }[] = [];
  const metrics: string[] = [];
  const adapters = new AdapterRegistry({ providers: {} });
  const dispatcher = new ShadowDispatcher({
    activeFor: () => current,
    caller: new InProcessShadowCaller(adapters),
    versionDef: (chain, version) =>
      version === 'v2' ? adapterDefinitionSchema.parse({ type: 'http', url: opts.url ?? upstream.url, timeoutMs: 5000 }) : undefined,
    budget: new ShadowBudget({ maxConcurrent: opts.maxConcurrent ?? 64, now: opts.now }),
    writer: { recordResult: (r) => results.push(r), countSkip: (rolloutId, reason) => skips.push({ rolloutId, reason }) },
    redact: (_chain, output) => ({ output }),
    metrics: {
      shadowCall: (chain, version, outcome) => metrics.push(`${chain}/${version}/${outcome}`),
      shadowSkipped: (chain, version, reason) => metrics.push(`${chain}/${version}/skipped:${reason}`),
    },
    log: pino({ level: 'silent' }),
    now: () => new Date('2026-01-01T00:00:01Z'),
    timeoutMs: opts.timeoutMs,
  });
  return { dispatcher, results, skips, metrics, adapters };
}

describe('the shadow dispatcher', () => {
  it('runs the candidate after the current turn and records its output against the control run', async () => {
    const { dispatcher, results, metrics, adapters } = setup();
    upstream.reset();
    const ticket = plan(dispatcher, rollout(), call())!;
    expect(ticket.id).toMatch(/^[0-9a-f-]{36}$/);
    dispatcher.start(ticket, control('c1'), { n: 21 });
    // Nothing has left the process yet: the call waits for the next turn of the event loop.
    expect(upstream.calls).toBe(0);
    expect(dispatcher.inFlight).toBe(1);
    await dispatcher.drain();
    expect(upstream.calls).toBe(1);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({
      id: ticket.id,
      shadowOf: 'c1',
      rolloutId: ROLLOUT_ID,
      version: 'v2',
      tenantId: 'acme',
      stage: 0,
      output: { total: 42 },
      error: null,
    });
    expect(metrics).toEqual(['invoices/v2/ok']);
    await adapters.closeAll();
  });

  it('records an upstream error or a timeout as the result, never as an exception', async () => {
    const failing = await startFakeUpstream({ behaviour: { status: 500 } });
    const hanging = await startFakeUpstream({ behaviour: { hang: true } });
    try {
      const a = setup({ url: failing.url });
      a.dispatcher.start(plan(a.dispatcher, rollout(), call())!, control('c1'), { n: 1 });
      await a.dispatcher.drain();
      expect(a.results[0]).toMatchObject({ output: null, error: { code: 'upstream_failed' } });
      expect(a.metrics).toEqual(['invoices/v2/error']);
      const b = setup({ url: hanging.url, timeoutMs: 200 });
      b.dispatcher.start(plan(b.dispatcher, rollout(), call())!, control('c2'), { n: 1 });
      await b.dispatcher.drain();
      expect(b.results[0]).toMatchObject({ output: null, error: { code: 'upstream_timeout' } });
      await Promise.all([a.adapters.closeAll(), b.adapters.closeAll()]);
    } finally {
      await Promise.all([failing.close(), hanging.close()]);
    }
  });

  it('skips and counts calls over the gateway-wide and per-rollout concurrency limits, and frees the slot when done', async () => {
    const { dispatcher, skips, metrics, adapters } = setup({ maxConcurrent: 2 });
    const t1 = plan(dispatcher, rollout({ percent: 100, maxConcurrent: 1 }), call('a'))!;
    expect(plan(dispatcher, rollout({ percent: 100, maxConcurrent: 1 }), call('b'))).toBeUndefined();
    const t2 = plan(dispatcher, rollout(), call('c'))!;
    expect(t2).toBeDefined();
    expect(plan(dispatcher, rollout(), call('d'))).toBeUndefined();
    expect(skips).toEqual([
      { rolloutId: ROLLOUT_ID, reason: 'concurrency' },
      { rolloutId: ROLLOUT_ID, reason: 'concurrency' },
    ]);
    expect(metrics).toEqual(['invoices/v2/skipped:concurrency', 'invoices/v2/skipped:concurrency']);
    dispatcher.start(t1, control('c1'), { n: 1 });
    dispatcher.abandon(t2);
    await dispatcher.drain();
    expect(plan(dispatcher, rollout(), call('e'))).toBeDefined();
    await adapters.closeAll();
  });

  it('keeps to maxPerMinute with a bucket that refills over the minute', () => {
    let now = 0;
    const { dispatcher, skips } = setup({ now: () => now });
    const r = rollout({ percent: 100, maxPerMinute: 3 });
    const planned = () => {
      const t = plan(dispatcher, r, call());
      t?.release();
      return t !== undefined;
    };
    expect([planned(), planned(), planned(), planned()]).toEqual([true, true, true, false]);
    expect(skips.map((s) => s.reason)).toEqual(['budget']);
    now += 20_000; // a third of a minute: one call's worth
    expect([planned(), planned()]).toEqual([true, false]);
    now += 10 * 60_000; // never more than a minute's allowance at once
    expect([planned(), planned(), planned(), planned()]).toEqual([true, true, true, false]);
  });

  it('does not plan calls the rollout does not mirror', () => {
    const { dispatcher, skips } = setup();
    expect(plan(dispatcher, undefined, call())).toBeUndefined();
    expect(plan(dispatcher, { ...rollout(), spec: { stages: [{}] } }, call())).toBeUndefined();
    expect(
      plan(dispatcher, rollout(), { ...call(), assignment: { variant: 'candidate', rolloutId: ROLLOUT_ID, assignmentKey: 'acme' } }),
    ).toBeUndefined();
    expect(skips).toEqual([]);
  });

  it('reads SHADOW_MAX_CONCURRENT from the environment (default 64)', () => {
    expect(loadConfig({}).SHADOW_MAX_CONCURRENT).toBe(64);
    expect(loadConfig({ SHADOW_MAX_CONCURRENT: '8' }).SHADOW_MAX_CONCURRENT).toBe(8);
    expect(() => loadConfig({ SHADOW_MAX_CONCURRENT: 'many' })).toThrow(/SHADOW_MAX_CONCURRENT/);
  });
});

/**
 * Issue 19 item 1: one tenant must not be able to slow the gateway down for others through what it
 * sends. Through the real gateway on PostgreSQL:
 * - feedback names at most 1,000 fields, each at most 256 characters; metadata is at most 16 KiB:
 *   beyond, a 400 that says which limit;
 * - invented field names never reach the comparison's breakdown: without `trackedFields` only the
 *   fields of the AI's output are counted by name, with it only the declared ones; every other
 *   changed field counts under `$other`, so 20 feedbacks × 999 invented names leave the
 *   comparison a handful of entries (sizes asserted, not timings);
 * - MAX_CONCURRENT_PER_KEY: a key holding that many requests gets 429 (Retry-After, the error
 *   format) for the next one, while another tenant's key is served.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { startHeldUpstream, type HeldUpstream } from '../support/held-upstream.js';
import { noPostgres, startTestGateway, type TestGateway } from '../support/gateway.js';

const invented = (run: number, n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${run}_${i}`, i]));

describe.skipIf(noPostgres)('limits per tenant', () => {
  let gw: TestGateway;
  let upstream: FakeUpstream;
  let held: HeldUpstream;
  let rolloutId: string;

  beforeAll(async () => {
    upstream = await startFakeUpstream({ behaviour: { output: () => ({ total: 10, vendor: 'ACME' }) } });
    held = await startHeldUpstream({ output: () => ({ ok: true }) });
    gw = await startTestGateway({ env: { MAX_CONCURRENT_PER_KEY: '3' } });
    for (const t of ['acme', 'globex']) await gw.request('PUT', `/v1/tenants/${t}`, {});
    for (const c of ['invoices', 'receipts']) {
      await gw.request('PUT', `/v1/chains/${c}`, {});
      for (const v of ['v1', 'v2'])
        await gw.request('POST', `/v1/chains/${c}/versions`, { version: v, adapter: { type: 'http', url: upstream.url } });
    }
    await gw.request('PUT', '/v1/chains/slow', {});
    await gw.request('POST', '/v1/chains/slow/versions', { version: 'v1', adapter: { type: 'http', url: held.url } });
    const rollout = await gw.request('POST', '/v1/rollouts', {
      chain: 'invoices',
      control: 'v1',
      candidate: 'v2',
      stages: [{ environments: ['prod'], percent: 50, splitBy: 'unit' }],
    });
    expect(rollout.status).toBe(201);
    rolloutId = rollout.body.id;
  });
  afterAll(async () => {
    held?.release();
    await gw?.close();
    await upstream?.close();
    await held?.close();
  });

  const invoke = async (chain: string, unit: string, extra: Record<string, unknown> = {}) =>
    gw.request('POST', `/v1/chains/${chain}/invoke`, { tenant: 'acme', environment: 'prod', input: {}, unit, ...extra });

  it('refuses feedback over the field limits and metadata over 16 KiB, naming the limit', async () => {
    const run = (await invoke('invoices', 'u-limits')).body.runId as string;
    const tooMany = await gw.request('POST', `/v1/runs/${run}/feedback`, { final: invented(0, 1001) });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.message).toMatch(/1000/);
    const longName = await gw.request('POST', `/v1/runs/${run}/feedback`, { final: { ['x'.repeat(257)]: 1 } });
    expect(longName.status).toBe(400);
    expect(longName.body.error.message).toMatch(/256/);
    const longOverride = await gw.request('POST', `/v1/runs/${run}/feedback`, { overrides: [{ field: 'x'.repeat(257), value: 1 }] });
    expect(longOverride.status).toBe(400);
    const manyOverrides = await gw.request('POST', `/v1/runs/${run}/feedback`, {
      overrides: Array.from({ length: 1001 }, (_, i) => ({ field: `f${i}`, value: i })),
    });
    expect(manyOverrides.status).toBe(400);
    const meta = await invoke('invoices', 'u-meta', { metadata: { blob: 'x'.repeat(17 * 1024) } });
    expect(meta.status).toBe(400);
    expect(meta.body.error.code).toBe('validation_failed');
    expect(JSON.stringify(meta.body.error)).toMatch(/16384 bytes/);
    // At the limits, accepted.
    expect((await gw.request('POST', `/v1/runs/${run}/feedback`, { final: invented(0, 1000) })).status).toBe(200);
    expect((await invoke('invoices', 'u-meta', { metadata: { blob: 'x'.repeat(15 * 1024) } })).status).toBe(200);
  });

  it("keeps the comparison's field breakdown to the output's fields and $other, whatever names feedback invents", async () => {
    const runs: string[] = [];
    for (let i = 0; i < 20; i++) runs.push((await invoke('invoices', `u-${i}`)).body.runId);
    for (const [i, runId] of runs.entries()) {
      const res = await gw.request('POST', `/v1/runs/${runId}/feedback`, { final: { total: 11, ...invented(i + 1, 999) } });
      expect(res.status).toBe(200);
      // The answer still names every changed field: only the read models fold them.
      expect(res.body.fields).toHaveLength(1000);
    }
    await gw.services().writer.flush();
    const cmp = await gw.request('GET', `/v1/rollouts/${rolloutId}/comparison`);
    expect(cmp.status).toBe(200);
    const names = new Set([
      ...Object.keys(cmp.body.arms.control.fieldOverrideRates),
      ...Object.keys(cmp.body.arms.candidate.fieldOverrideRates),
    ]);
    expect([...names].sort()).toEqual(['$other', 'total']);
    const reviewed = cmp.body.arms.control.reviewed + cmp.body.arms.candidate.reviewed;
    const other = (cmp.body.arms.control.fieldOverrides.$other ?? 0) + (cmp.body.arms.candidate.fieldOverrides.$other ?? 0);
    expect(other).toBe(reviewed);
    expect(JSON.stringify(cmp.body).length).toBeLessThan(64 * 1024);
    // The run keeps the whole list.
    const stored = await gw.request('GET', `/v1/runs/${runs[0]}`);
    expect(stored.body.feedback.fields).toHaveLength(1000);
  });

  it('counts only declared trackedFields by name once a chain declares them', async () => {
    const put = await gw.request('PUT', '/v1/chains/receipts', { trackedFields: ['vendor'] });
    expect(put.status).toBe(200);
    expect(put.body.trackedFields).toEqual(['vendor']);
    expect((await gw.request('PUT', '/v1/chains/receipts', { trackedFields: Array.from({ length: 101 }, (_, i) => `f${i}`) })).status).toBe(
      400,
    );
    const rollout = await gw.request('POST', '/v1/rollouts', {
      chain: 'receipts',
      control: 'v1',
      candidate: 'v2',
      stages: [{ environments: ['prod'], percent: 50, splitBy: 'unit' }],
    });
    expect(rollout.status).toBe(201);
    for (let i = 0; i < 6; i++) {
      const runId = (await invoke('receipts', `r-${i}`)).body.runId;
      const res = await gw.request('POST', `/v1/runs/${runId}/feedback`, { final: { total: 12, vendor: 'Globex', extra: i } });
      expect(res.body.fields).toEqual(['extra', 'total', 'vendor']);
    }
    await gw.services().writer.flush();
    const cmp = (await gw.request('GET', `/v1/rollouts/${rollout.body.id}/comparison`)).body;
    const counts = (arm: string) => cmp.arms[arm].fieldOverrides as Record<string, number>;
    const names = new Set([...Object.keys(counts('control')), ...Object.keys(counts('candidate'))]);
    expect([...names].sort()).toEqual(['$other', 'vendor']);
    expect((counts('control').vendor ?? 0) + (counts('candidate').vendor ?? 0)).toBe(6);
    expect((counts('control').$other ?? 0) + (counts('candidate').$other ?? 0)).toBe(6);
  });

  it("answers 429 past MAX_CONCURRENT_PER_KEY requests in flight, and serves another tenant's key meanwhile", async () => {
    const acme = (await gw.request('POST', '/v1/tenants/acme/keys', {})).body.key as string;
    const globex = (await gw.request('POST', '/v1/tenants/globex/keys', {})).body.key as string;
    held.hold();
    const call = (key: string) => gw.request('POST', '/v1/chains/slow/invoke', { environment: 'prod', input: {} }, key);
    const inFlight = [call(acme), call(acme), call(acme)];
    while (held.received < 3) await new Promise((r) => setTimeout(r, 10));
    const refused = await call(acme);
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.body.error.code).toBe('rate_limited');
    expect(refused.body.error.message).toMatch(/at most 3 at once/);
    // Another tenant's key is not refused: its call reaches the upstream.
    const other = call(globex);
    while (held.received < 4) await new Promise((r) => setTimeout(r, 10));
    expect(held.received).toBe(4);
    held.release();
    const answers = await Promise.all([...inFlight, other]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    // Finished requests free their slots.
    expect((await Promise.all([call(acme), call(acme), call(acme)])).map((a) => a.status)).toEqual([200, 200, 200]);
  });
});

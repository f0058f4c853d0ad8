/**
 * The replay gate before stage 0, end to end on PostgreSQL and PGlite: a gated rollout moves no
 * traffic, replays control and candidate on its dataset, and starts stage 0 when the candidate is
 * not worse by more than maxIncrease (gate_passed), or ends gate_failed with the figures when it
 * is; both are events and webhooks. `advance` on a gated rollout is 409 unless overridden with a
 * reason (audited).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { eventually } from '../support/eventually.js';
import { noPostgres, startTestGateway, type TestGateway } from '../support/gateway.js';
import { startHookReceiver, type HookReceiver } from '../support/hook-receiver.js';

const storages = [...(noPostgres ? [] : (['postgres'] as const)), ...(process.env.CC_SKIP_PGLITE ? [] : (['pglite'] as const))];
const CASES = 60;
/** Replays of 60 cases on both arms take a while on a loaded machine; the describe allows 120 s. */
const GATE_WAIT = { timeoutMs: 100_000, everyMs: 50 };

/** Right answer: {total: n * 10}. */
const right = (input: any) => ({ total: input.n * 10 });
/** Wrong on every n divisible by `every`. */
const wrongEvery = (every: number) => (input: any) => ({ total: input.n % every === 0 ? -1 : input.n * 10 });

describe.each(storages)('replay gate on %s', { timeout: 120_000 }, (storage) => {
  let gw: TestGateway;
  let hooks: HookReceiver;
  const upstreams: Record<string, FakeUpstream> = {};

  /** A chain with v1 and v2 on their own upstreams, and a dataset of CASES cases whose expected is the right answer. */
  /** The rollout once `ready` holds for it (the gate works in the background). */
  const rolloutWhen = (id: string, what: string, ready: (rollout: any) => boolean) =>
    eventually(
      what,
      async () => {
        const r = await gw.request('GET', `/v1/rollouts/${id}`);
        return ready(r.body) && r.body;
      },
      GATE_WAIT,
    );

  async function chainWithDataset(chain: string, v1: (i: any) => unknown, v2: (i: any) => unknown, v2Delay = 0): Promise<string> {
    upstreams[`${chain}-v1`] = await startFakeUpstream({ behaviour: { output: v1 } });
    upstreams[`${chain}-v2`] = await startFakeUpstream({ behaviour: { output: v2, delayMs: v2Delay } });
    expect((await gw.request('PUT', `/v1/chains/${chain}`, {})).status).toBe(201);
    for (const v of ['v1', 'v2']) {
      expect(
        (
          await gw.request('POST', `/v1/chains/${chain}/versions`, {
            version: v,
            adapter: { type: 'http', url: upstreams[`${chain}-${v}`]!.url },
          })
        ).status,
      ).toBe(201);
    }
    const d = await gw.request('POST', '/v1/datasets', { name: `${chain} hundred`, chain });
    const cases = Array.from({ length: CASES }, (_, i) => ({ input: { n: i + 1 }, expected: right({ n: i + 1 }) }));
    expect((await gw.request('POST', `/v1/datasets/${d.body.id}/cases`, cases)).status).toBe(201);
    return d.body.id;
  }

  const rolloutBody = (chain: string, dataset: string, maxIncrease = 0.05) => ({
    chain,
    control: 'v1',
    candidate: 'v2',
    stages: [{ environments: ['prod'], percent: 100 }],
    gate: { replay: { dataset, maxIncrease } },
    webhookUrl: hooks.url,
  });

  beforeAll(async () => {
    hooks = await startHookReceiver();
    gw = await startTestGateway({ storage, env: { GUARDRAIL_INTERVAL_MS: '1000' } });
    expect((await gw.request('PUT', '/v1/tenants/acme', {})).status).toBe(201);
  });
  afterAll(async () => {
    await gw?.close();
    await hooks?.close();
    await Promise.all(Object.values(upstreams).map((u) => u.close()));
  });

  it('passes a candidate that is not worse: stage 0 starts, with the figures in the event and the webhook', async () => {
    // The control misses every sixth case (10 of 60); the candidate none.
    const dataset = await chainWithDataset('pass', wrongEvery(6), right);
    const created = await gw.request('POST', '/v1/rollouts', rolloutBody('pass', dataset));
    expect(created.status).toBe(201);
    expect(created.body.status).toBe('gated');
    const id = created.body.id;
    const passed = await rolloutWhen(id, 'gate passed', (r) => r.status === 'running');
    expect(passed.gate).toMatchObject({ state: 'passed', replay: { dataset, maxIncrease: 0.05, minCases: 50 } });
    expect(passed.gate.figures).toMatchObject({
      pairs: CASES,
      onlyControlOverridden: 10,
      onlyCandidateOverridden: 0,
      bothOverridden: 0,
      bothOk: 50,
      alpha: 0.05,
    });
    expect(passed.gate.figures.estimate).toBeCloseTo(-10 / CASES, 12);
    expect(passed.gate.figures.upperBound).toBeLessThanOrEqual(0.05);
    const events = (await gw.request('GET', `/v1/rollouts/${id}/events`)).body.events;
    expect(events.map((e: any) => e.type)).toEqual(['created', 'gate_passed']);
    expect(events[1]).toMatchObject({ actor: 'gate', data: { pairs: CASES, after: { status: 'running', stage: 0 } } });
    // Traffic moves now: stage 0 sends prod to the candidate.
    const call = await gw.request('POST', '/v1/chains/pass/invoke', { tenant: 'acme', environment: 'prod', input: { n: 6 } });
    expect(call.body).toMatchObject({ variant: 'candidate', version: 'v2', output: { total: 60 } });
    await eventually('the gate_passed webhook', async () =>
      hooks.hooks.some((h) => h.body.type === 'gate_passed' && h.body.rollout?.id === id),
    );
  });

  it('fails a worse candidate: gate_failed is final, no traffic ever moved', async () => {
    // The candidate misses every other case (30 of 60); the control none.
    const dataset = await chainWithDataset('fail', right, wrongEvery(2));
    const created = await gw.request('POST', '/v1/rollouts', rolloutBody('fail', dataset));
    const id = created.body.id;
    // While gated: calls go to the current version, outside any arm.
    const during = await gw.request('POST', '/v1/chains/fail/invoke', { tenant: 'acme', environment: 'prod', input: { n: 2 } });
    expect(during.body).toMatchObject({ variant: 'default', version: 'v1', output: { total: 20 } });
    const failed = await rolloutWhen(id, 'gate failed', (r) => r.status === 'gate_failed');
    expect(failed.gate.state).toBe('failed');
    expect(failed.gate.figures).toMatchObject({ pairs: CASES, onlyCandidateOverridden: 30, onlyControlOverridden: 0 });
    expect(failed.gate.figures.lowerBound).toBeGreaterThan(0.05);
    const events = (await gw.request('GET', `/v1/rollouts/${id}/events`)).body.events;
    expect(events.map((e: any) => e.type)).toEqual(['created', 'gate_failed']);
    expect(events[1].data).toMatchObject({ onlyCandidateOverridden: 30, maxIncrease: 0.05 });
    for (const action of ['advance', 'resume', 'promote', 'pause', 'rollback']) {
      const r = await gw.request('POST', `/v1/rollouts/${id}/${action}`, action === 'advance' ? { override: true, reason: 'try' } : {});
      expect(r.status, action).toBe(409);
    }
    expect(
      (await gw.request('POST', '/v1/chains/fail/invoke', { tenant: 'acme', environment: 'prod', input: { n: 2 } })).body.variant,
    ).toBe('default');
    await eventually('the gate_failed webhook', async () =>
      hooks.hooks.some((h) => h.body.type === 'gate_failed' && h.body.rollout?.id === id),
    );
    // The chain is free for another rollout.
    expect(
      (
        await gw.request('POST', '/v1/rollouts', {
          chain: 'fail',
          control: 'v1',
          candidate: 'v2',
          stages: [{ environments: ['prod'], percent: 10 }],
        })
      ).status,
    ).toBe(201);
  });

  it('a gated rollout: advance is 409 unless overridden with a reason (audited); it holds its chain and its dataset', async () => {
    // A candidate slow enough that the gate is still replaying when the person acts.
    const dataset = await chainWithDataset('held', right, right, 300);
    const heldRollout = await gw.request('POST', '/v1/rollouts', rolloutBody('held', dataset));
    expect(heldRollout.status, JSON.stringify(heldRollout.body)).toBe(201);
    const id = heldRollout.body.id;
    const advance = await gw.request('POST', `/v1/rollouts/${id}/advance`, {});
    expect(advance.status, JSON.stringify(advance.body)).toBe(409);
    expect(advance.body.error.code).toBe('gated');
    expect((await gw.request('POST', `/v1/rollouts/${id}/advance`, { override: true })).status).toBe(400);
    expect((await gw.request('POST', `/v1/rollouts/${id}/pause`, {})).status).toBe(409);
    expect((await gw.request('POST', '/v1/rollouts', rolloutBody('held', dataset))).status).toBe(409);
    const del = await gw.request('DELETE', `/v1/datasets/${dataset}`);
    expect(del.status).toBe(409);
    expect(del.body.error.code).toBe('dataset_in_use');
    const view = (await gw.request('GET', `/v1/rollouts/${id}`)).body;
    expect(view).toMatchObject({ status: 'gated', gate: { state: 'replaying' } });

    const overridden = await gw.request('POST', `/v1/rollouts/${id}/advance`, { override: true, reason: 'hotfix, the owner signed off' });
    expect(overridden.status).toBe(200);
    expect(overridden.body).toMatchObject({
      status: 'running',
      stage: 0,
      gate: { state: 'overridden', reason: 'hotfix, the owner signed off' },
    });
    const events = (await gw.request('GET', `/v1/rollouts/${id}/events`)).body.events;
    expect(events[events.length - 1]).toMatchObject({
      type: 'advanced',
      actor: 'admin:ADMIN_TOKEN',
      reason: 'hotfix, the owner signed off',
      data: { override: true, before: { status: 'gated' } },
    });
    // Its gate replays stop.
    await eventually(
      'gate replays stopped',
      async () => {
        const replays = (await gw.request('GET', `/v1/datasets/${dataset}/replays`)).body.items;
        return replays.length === 2 && replays.every((r: any) => r.status === 'done' || r.status === 'cancelled');
      },
      GATE_WAIT,
    );
  });

  it('does not pass when both versions fail every case: inconclusive, the rollout stays gated, with what to do', async () => {
    // A shared outage: both upstreams answer 500 to every replayed case.
    const dataset = await chainWithDataset('outage', right, right);
    for (const v of ['v1', 'v2']) upstreams[`outage-${v}`]!.setBehaviour({ status: 500 });
    const created = await gw.request('POST', '/v1/rollouts', rolloutBody('outage', dataset, 0.1));
    expect(created.status).toBe(201);
    const id = created.body.id;
    const view = await rolloutWhen(id, 'gate inconclusive', (r) => r.gate?.state === 'inconclusive');
    expect(view.status).toBe('gated');
    expect(view.gate.figures).toMatchObject({ pairs: 0, bothOverridden: 0, errors: { control: CASES, candidate: CASES } });
    expect(view.gate.reason).toMatch(/^Only 0 of 60 cases could be compared/);
    expect(view.gate.reason).toContain(`POST /v1/rollouts/${id}/rollback`);
    const events = (await gw.request('GET', `/v1/rollouts/${id}/events`)).body.events;
    expect(events.map((e: any) => e.type)).toEqual(['created', 'gate_inconclusive']);
    expect(events[1]).toMatchObject({ actor: 'gate', data: { pairs: 0, errors: { control: CASES, candidate: CASES } } });
  });

  it("an inconclusive gate's advice is what the API allows: a larger dataset in a new rollout (or an override)", async () => {
    // Control wrong on 10 of 60; the candidate on the same 10 and 2 more: +3.3 points, undecided at maxIncrease 0.03.
    const dataset = await chainWithDataset('unsure', wrongEvery(6), (input: any) => ({
      total: input.n % 6 === 0 || input.n <= 2 ? -1 : input.n * 10,
    }));
    const id = (await gw.request('POST', '/v1/rollouts', rolloutBody('unsure', dataset, 0.03))).body.id;
    const view = await rolloutWhen(id, 'gate inconclusive', (r) => r.gate?.state === 'inconclusive');
    expect(view.gate.figures).toMatchObject({ pairs: CASES, onlyCandidateOverridden: 2, bothOverridden: 10 });
    const reason: string = view.gate.reason;
    expect(reason).toMatch(/straddle maxIncrease 0\.03/);
    expect(reason).not.toMatch(/add cases/i);
    // What the reason says cannot be done indeed cannot: the gate's dataset takes no more cases...
    const more = await gw.request('POST', `/v1/datasets/${dataset}/cases`, [{ input: { n: 61 }, expected: right({ n: 61 }) }]);
    expect(more.body.error.code).toBe('dataset_immutable');
    // ...and while the rollout is gated on it, the dataset stays; the refusal names the rollout and the way out.
    const del = await gw.request('DELETE', `/v1/datasets/${dataset}`);
    expect(del.status).toBe(409);
    expect(del.body.error).toMatchObject({ code: 'dataset_in_use', details: { datasetId: dataset, rolloutId: id } });
    expect(del.body.error.message).toContain(`POST /v1/rollouts/${id}/rollback`);
    // What it advises works: a larger dataset from the export and more cases, this rollout rolled back, a new one on it.
    expect(reason).toContain(`GET /v1/datasets/${dataset}/export`);
    const exported = await gw.request('GET', `/v1/datasets/${dataset}/export`);
    const larger = await gw.request('POST', '/v1/datasets', { name: 'unsure larger', chain: 'unsure' });
    const extra = Array.from({ length: 60 }, (_, i) => JSON.stringify({ input: { n: 61 + i }, expected: right({ n: 61 + i }) })).join('\n');
    const filled = await gw.request('POST', `/v1/datasets/${larger.body.id}/cases`, `${exported.body}${extra}\n`, undefined, {
      'content-type': 'application/x-ndjson',
    });
    expect(filled.body.cases).toBe(2 * CASES);
    expect(reason).toContain(`POST /v1/rollouts/${id}/rollback`);
    expect((await gw.request('POST', `/v1/rollouts/${id}/rollback`, {})).status).toBe(200);
    const again = await gw.request('POST', '/v1/rollouts', rolloutBody('unsure', larger.body.id, 0.03));
    expect(again.status, JSON.stringify(again.body)).toBe(201);
    expect(again.body.status).toBe('gated');
    expect((await gw.request('POST', `/v1/rollouts/${again.body.id}/rollback`, {})).status).toBe(200);
    // No longer gated on it: the first dataset can go.
    expect((await gw.request('DELETE', `/v1/datasets/${dataset}`)).status).toBe(204);
  });

  it('refuses a gate that cannot be met', async () => {
    const dataset = await chainWithDataset('small', right, right);
    const tooFew = await gw.request('POST', '/v1/rollouts', {
      ...rolloutBody('small', dataset),
      gate: { replay: { dataset, maxIncrease: 0.05, minCases: 61 } },
    });
    expect(tooFew.status).toBe(400);
    expect(tooFew.body.error.message).toMatch(/minCases/);
    const otherChain = await gw.request('POST', '/v1/rollouts', rolloutBody('pass', dataset));
    expect(otherChain.status).toBe(400);
    const missing = await gw.request('POST', '/v1/rollouts', rolloutBody('small', '00000000-0000-4000-8000-000000000000'));
    expect(missing.status).toBe(400);
    const empty = await gw.request('POST', '/v1/rollouts', { ...rolloutBody('small', dataset), gate: {} });
    expect(empty.status).toBe(400);
    expect(empty.body.error.code).toBe('validation_failed');
  });
});

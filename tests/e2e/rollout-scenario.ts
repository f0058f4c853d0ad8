/** The rollout scenario both flag stores must pass (embedded and real Unleash). */
import { expect, it } from 'vitest';
import type { FakeUpstream } from '../support/fake-upstream.js';
import type { TestGateway } from '../support/gateway.js';

export function defineRolloutScenario(ctx: () => { gw: TestGateway; upstream: FakeUpstream }): void {
  const call = (tenant: string, environment: string, unit?: string) =>
    ctx().gw.request('POST', '/v1/chains/extract/invoke', { tenant, environment, input: { n: 1 }, ...(unit ? { unit } : {}) });

  let rolloutId: string;
  const tenants = Array.from({ length: 200 }, (_, i) => `t${String(i).padStart(3, '0')}`);

  it('sets up tenants and a chain with two versions', async () => {
    const { gw, upstream } = ctx();
    for (const t of ['acme', 'globex', 'initech', ...tenants])
      expect((await gw.request('PUT', `/v1/tenants/${t}`, {})).status).toBeLessThan(300);
    await gw.request('PUT', '/v1/chains/extract', {});
    expect(
      (await gw.request('POST', '/v1/chains/extract/versions', { version: 'v1', adapter: { type: 'http', url: upstream.url } })).status,
    ).toBe(201);
    expect(
      (await gw.request('POST', '/v1/chains/extract/versions', { version: 'v2', adapter: { type: 'http', url: upstream.url } })).status,
    ).toBe(201);
  });

  it('validates the rollout body', async () => {
    const { gw } = ctx();
    const base = { chain: 'extract', control: 'v1', candidate: 'v2', stages: [{ environments: ['staging'], percent: 100 }] };
    expect((await gw.request('POST', '/v1/rollouts', { ...base, control: 'v2', candidate: 'v1' })).status).toBe(400);
    expect((await gw.request('POST', '/v1/rollouts', { ...base, candidate: 'v9' })).status).toBe(400);
    expect((await gw.request('POST', '/v1/rollouts', { ...base, stages: [] })).status).toBe(400);
    expect((await gw.request('POST', '/v1/rollouts', { ...base, stages: [{ environments: ['staging'], percent: 150 }] })).status).toBe(400);
    expect((await gw.request('POST', '/v1/rollouts', { ...base, chain: 'nope' })).status).toBe(404);
    const badGuardrail = await gw.request('POST', '/v1/rollouts', { ...base, guardrails: [{ metric: 'override_rate', max: 0.2 }] });
    expect(badGuardrail.status).toBe(400);
    expect(badGuardrail.body.error.message).toContain('guardrails');
    // Auto-advance moves on positive evidence that every guardrail holds: none is no evidence.
    const blindAdvance = await gw.request('POST', '/v1/rollouts', { ...base, autoAdvance: { minSamples: 100 } });
    expect(blindAdvance.status).toBe(400);
    expect(blindAdvance.body.error.code).toBeTypeOf('string');
    expect(blindAdvance.body.error.message).toContain('autoAdvance');
    const badOnUnevaluable = await gw.request('POST', '/v1/rollouts', { ...base, onUnevaluable: 'ignore' });
    expect(badOnUnevaluable.status).toBe(400);
  });

  it('creates a staged rollout: staging tenants get the candidate, everything else the control', async () => {
    const { gw } = ctx();
    const res = await gw.request('POST', '/v1/rollouts', {
      chain: 'extract',
      control: 'v1',
      candidate: 'v2',
      stages: [
        { environments: ['staging'], tenants: ['acme', 'globex'], percent: 100 },
        { environments: ['prod'], tenants: tenants, excludeTenants: ['t000'], percent: 50 },
        { environments: ['prod'], percent: 10, splitBy: 'unit' },
      ],
      guardrails: [{ metric: 'override_rate', maxIncrease: 0.05, minSamples: 100 }],
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'running', stage: 0, chain: 'extract', control: 'v1', candidate: 'v2' });
    expect(res.body.flag).toMatch(/^chain-canary\.extract\./);
    rolloutId = res.body.id;

    const staging = await call('acme', 'staging');
    expect(staging.body).toMatchObject({ version: 'v2', variant: 'candidate' });
    expect((await call('globex', 'staging')).body).toMatchObject({ version: 'v2', variant: 'candidate' });
    expect((await call('initech', 'staging')).body).toMatchObject({ version: 'v1', variant: 'default' });
    expect((await call('acme', 'prod')).body).toMatchObject({ version: 'v1', variant: 'default' });
    await gw.services().writer.flush();
    const run = await gw.request('GET', `/v1/runs/${staging.body.runId}`);
    expect(run.body).toMatchObject({ rolloutId, stage: 0, variant: 'candidate', assignmentKey: 'acme' });

    const again = await gw.request('POST', '/v1/rollouts', {
      chain: 'extract',
      control: 'v1',
      candidate: 'v2',
      stages: [{ environments: ['dev'], percent: 100 }],
    });
    expect(again.status).toBe(409);
  });

  it('advances: a 50% tenant stage splits 200 tenants near half and half, sticky per tenant', async () => {
    const { gw } = ctx();
    const adv = await gw.request('POST', `/v1/rollouts/${rolloutId}/advance`, {});
    expect(adv.status).toBe(200);
    expect(adv.body.stage).toBe(1);
    const first = new Map<string, string>();
    for (const t of tenants) first.set(t, (await call(t, 'prod')).body.variant);
    const candidates = [...first.values()].filter((v) => v === 'candidate').length;
    // 199 tenants at 50% (t000 excluded): a binomial 99.5 ± 7; ±30 is far outside chance.
    expect(candidates).toBeGreaterThan(70);
    expect(candidates).toBeLessThan(130);
    expect(first.get('t000')).toBe('default');
    for (const t of tenants.slice(0, 40)) expect((await call(t, 'prod', `doc-${t}`)).body.variant).toBe(first.get(t));
    // Staging stays on stage 0's rule: stages are cumulative.
    expect((await call('acme', 'staging')).body.variant).toBe('candidate');
  });

  it("advances to a unit split: each tenant's traffic splits by unit, sticky per unit", async () => {
    const { gw } = ctx();
    expect((await gw.request('POST', `/v1/rollouts/${rolloutId}/advance`, {})).body.stage).toBe(2);
    const seen = new Map<string, string>();
    for (let i = 0; i < 300; i++) seen.set(`u${i}`, (await call('initech', 'prod', `u${i}`)).body.variant);
    const cand = [...seen.values()].filter((v) => v === 'candidate').length;
    expect(cand).toBeGreaterThan(10); // 10% of 300 = 30 ± 5
    expect(cand).toBeLessThan(60);
    for (let i = 0; i < 30; i++) expect((await call('initech', 'prod', `u${i}`)).body.variant).toBe(seen.get(`u${i}`));
    // A call without unit is assigned on its own run id, never at random seed: recorded as such.
    const noUnit = await call('initech', 'prod');
    await gw.services().writer.flush();
    const run = await gw.request('GET', `/v1/runs/${noUnit.body.runId}`);
    expect(run.body.assignmentKey).toBe(`initech/${noUnit.body.runId}`);
    expect(run.body.stage).toBe(2);
    // At the last stage, advance is a 409.
    expect((await gw.request('POST', `/v1/rollouts/${rolloutId}/advance`, {})).status).toBe(409);
  });

  it('pauses (everyone on the current version at once) and resumes', async () => {
    const { gw } = ctx();
    const paused = await gw.request('POST', `/v1/rollouts/${rolloutId}/pause`, {});
    expect(paused.body.status).toBe('paused');
    expect((await call('acme', 'staging')).body).toMatchObject({ version: 'v1', variant: 'default' });
    expect((await gw.request('POST', `/v1/rollouts/${rolloutId}/pause`, {})).status).toBe(200);
    expect((await gw.request('PUT', '/v1/chains/extract', { current: 'v2' })).status).toBe(409);
    const resumed = await gw.request('POST', `/v1/rollouts/${rolloutId}/resume`, {});
    expect(resumed.body).toMatchObject({ status: 'running', stage: 2 });
    expect((await call('acme', 'staging')).body.variant).toBe('candidate');
  });

  it('rolls back with a reason; leaving rolled_back is a 409', async () => {
    const { gw } = ctx();
    const rb = await gw.request('POST', `/v1/rollouts/${rolloutId}/rollback`, { reason: 'reviewers complain' });
    expect(rb.body.status).toBe('rolled_back');
    expect((await call('acme', 'staging')).body).toMatchObject({ version: 'v1', variant: 'default' });
    expect((await gw.request('POST', `/v1/rollouts/${rolloutId}/rollback`, { reason: 'again' })).status).toBe(200);
    for (const action of ['resume', 'promote', 'advance', 'pause']) {
      expect((await gw.request('POST', `/v1/rollouts/${rolloutId}/${action}`, {})).status).toBe(409);
    }
    const events = await gw.request('GET', `/v1/rollouts/${rolloutId}/events`);
    expect(events.body.events.map((e: any) => e.type)).toEqual(['created', 'advanced', 'advanced', 'paused', 'resumed', 'rolled_back']);
    const rolledBack = events.body.events[5];
    expect(rolledBack).toMatchObject({
      actor: 'admin:ADMIN_TOKEN',
      reason: 'reviewers complain',
      data: { before: { status: 'running', stage: 2 }, after: { status: 'rolled_back', stage: 2 } },
    });
  });

  it('promotes a new rollout: the candidate becomes current and traffic is default on it', async () => {
    const { gw } = ctx();
    const res = await gw.request('POST', '/v1/rollouts', {
      chain: 'extract',
      control: 'v1',
      candidate: 'v2',
      stages: [{ environments: ['staging'], percent: 100 }],
    });
    expect(res.status).toBe(201);
    const promoted = await gw.request('POST', `/v1/rollouts/${res.body.id}/promote`, {});
    expect(promoted.body.status).toBe('promoted');
    expect((await gw.request('POST', `/v1/rollouts/${res.body.id}/promote`, {})).status).toBe(200);
    expect((await gw.request('POST', `/v1/rollouts/${res.body.id}/rollback`, {})).status).toBe(409);
    expect((await gw.request('GET', '/v1/chains/extract')).body.current).toBe('v2');
    expect((await call('acme', 'staging')).body).toMatchObject({ version: 'v2', variant: 'default' });
    expect((await call('acme', 'prod')).body).toMatchObject({ version: 'v2', variant: 'default' });
    const list = await gw.request('GET', '/v1/rollouts');
    expect(list.body.items.map((r: any) => r.status).sort()).toEqual(['promoted', 'rolled_back']);
  });
}

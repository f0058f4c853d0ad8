/**
 * Guardrails end to end: a candidate that makes humans override more is rolled back by itself
 * (flag store, routing, audit log, signed webhook); an equal one is not; a breach that a crashed
 * gateway never acted on is acted on by the next one, exactly once.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { eventually } from '../support/eventually.js';
import { ADMIN, noPostgres, startTestGateway, type TestGateway } from '../support/gateway.js';
import { startGatewayProcess } from '../support/gateway-process.js';
import { startHookReceiver } from '../support/hook-receiver.js';
import { createTestDatabase } from '../support/pg.js';

const SECRET = 'webhook-secret-for-tests';

/** Sets up tenants, a chain whose candidate the reviewers correct far more, and a guarded rollout. */
async function setUp(req: TestGateway['request'], upstream: FakeUpstream, webhookUrl?: string, minSamples = 60) {
  await req('PUT', '/v1/tenants/acme', {});
  await req('PUT', '/v1/chains/extract', {});
  await req('POST', '/v1/chains/extract/versions', { version: 'v1', adapter: { type: 'http', url: upstream.url } });
  await req('POST', '/v1/chains/extract/versions', { version: 'v2', adapter: { type: 'http', url: `${upstream.origin}/v2` } });
  const rollout = await req('POST', '/v1/rollouts', {
    chain: 'extract',
    control: 'v1',
    candidate: 'v2',
    stages: [{ environments: ['prod'], percent: 50, splitBy: 'unit' }],
    guardrails: [{ metric: 'override_rate', maxIncrease: 0.05, minSamples }],
    ...(webhookUrl ? { webhookUrl } : {}),
  });
  expect(rollout.status).toBe(201);
  return rollout.body.id as string;
}

/** Reviewers override 5% of control outputs and 60% of candidate outputs (deterministically). */
function reviewFor(variant: string, i: number): unknown {
  const overridden = variant === 'candidate' ? i % 5 < 3 : i % 20 === 0;
  return overridden ? { total: -1 } : {};
}

describe.skipIf(noPostgres)('guardrails', () => {
  let upstream: FakeUpstream;
  beforeAll(async () => {
    upstream = await startFakeUpstream({ behaviour: { output: () => ({ total: 42 }) } });
  });
  afterAll(async () => upstream?.close());

  it('rolls a worse candidate back by itself: flag, routing, audit log with figures, signed webhook', async () => {
    const hooks = await startHookReceiver();
    const gw = await startTestGateway({ env: { WEBHOOK_SECRET: SECRET, GUARDRAIL_INTERVAL_MS: '60000' } });
    try {
      const id = await setUp(gw.request, upstream, hooks.url);
      let candidateUnit: string | undefined;
      const feedbackSentAt: number[] = [];
      for (let i = 0; i < 1500; i++) {
        const res = await gw.request('POST', '/v1/chains/extract/invoke', {
          tenant: 'acme',
          environment: 'prod',
          input: { i },
          unit: `doc-${i}`,
        });
        if (res.body.variant === 'default') break; // rolled back: routing has followed
        if (res.body.variant === 'candidate') candidateUnit ??= `doc-${i}`;
        feedbackSentAt.push(Date.now());
        await gw.request('POST', `/v1/runs/${res.body.runId}/feedback`, { final: reviewFor(res.body.variant, i) });
      }
      const rollout = await eventually('the rollback', async () => {
        const r = await gw.request('GET', `/v1/rollouts/${id}`);
        return r.body.status === 'rolled_back' && r.body;
      });
      expect(rollout.status).toBe('rolled_back');
      // Routing follows at once: the unit that was on the candidate now gets the current version.
      const after = await gw.request('POST', '/v1/chains/extract/invoke', {
        tenant: 'acme',
        environment: 'prod',
        input: {},
        unit: candidateUnit,
      });
      expect(after.body).toMatchObject({ variant: 'default', version: 'v1' });

      const events = (await gw.request('GET', `/v1/rollouts/${id}/events`)).body.events;
      expect(events.map((e: any) => e.type)).toEqual(['created', 'guardrail_breached', 'rolled_back']);
      const breach = events[1];
      expect(breach.actor).toBe('guardrail');
      expect(breach.reason).toMatch(/override_rate breached/);
      const figures = breach.data.guardrails[0];
      expect(figures).toMatchObject({ metric: 'override_rate', status: 'breached', threshold: 0.05 });
      expect(figures.bound).toBeGreaterThan(0.05);
      expect(figures.samplesByArm.control).toBeGreaterThanOrEqual(60);
      expect(figures.samplesByArm.candidate).toBeGreaterThanOrEqual(60);

      // The comparison agrees, and the webhook came, signed.
      const comparison = (await gw.request('GET', `/v1/rollouts/${id}/comparison`)).body;
      expect(comparison.guardrails[0].status).toBe('breached');
      await eventually('the webhooks', async () => hooks.hooks.some((h) => h.body.type === 'rolled_back'));
      const types = hooks.hooks.map((h) => h.body.type);
      expect(types).toEqual(expect.arrayContaining(['created', 'guardrail_breached', 'rolled_back']));
      for (const h of hooks.hooks) {
        const [t, v1] = h.signature.split(',').map((p) => p.split('=')[1]);
        expect(v1).toBe(createHmac('sha256', SECRET).update(`${t}.${h.raw}`).digest('hex'));
      }
      // From the breaching feedback (the last one sent before the breach) to the rollback, which is
      // also when this replica's routing switched: reported, not asserted (speed is a bench matter).
      const breachAt = Date.parse(breach.at);
      const breachingFeedback = Math.max(...feedbackSentAt.filter((t) => t <= breachAt));
      console.log(`guardrail: rolled back ${breachAt - breachingFeedback} ms after the breaching feedback was sent`);
    } finally {
      await gw.close();
      await hooks.close();
    }
  });

  it('leaves an equal candidate running', async () => {
    const gw = await startTestGateway({ env: { GUARDRAIL_INTERVAL_MS: '200' } });
    try {
      const id = await setUp(gw.request, upstream, undefined, 50);
      for (let i = 0; i < 400; i++) {
        const res = await gw.request('POST', '/v1/chains/extract/invoke', {
          tenant: 'acme',
          environment: 'prod',
          input: { i },
          unit: `doc-${i}`,
        });
        // Both arms overridden 20% of the time.
        await gw.request('POST', `/v1/runs/${res.body.runId}/feedback`, { final: i % 5 === 0 ? { total: -1 } : {} });
      }
      await gw.services().writer.flush();
      await new Promise((r) => setTimeout(r, 600));
      const r = await gw.request('GET', `/v1/rollouts/${id}`);
      expect(r.body.status).toBe('running');
      const comparison = (await gw.request('GET', `/v1/rollouts/${id}/comparison`)).body;
      expect(comparison.guardrails[0].status).toBe('holding');
    } finally {
      await gw.close();
    }
  });

  /**
   * The README's rollout: stage 0 = chosen tenants' staging at 100%, stage 1 = prod at 10% split
   * by unit. Staging reviewers override 30% (of the candidate, and of other tenants' default
   * traffic there, the stage's baseline), prod reviewers 10% of the control. Pooled whole-life
   * totals put staging's 30% candidate reviews beside prod's 10% control: an identical candidate
   * was rolled back. The guardrail reads prod's randomized stratum only.
   */
  async function readmeRollout(gw: TestGateway, prodCandidateOverridden: (i: number) => boolean, webhookUrl?: string) {
    const req = gw.request;
    for (const t of ['acme', 'initech']) await req('PUT', `/v1/tenants/${t}`, {});
    await req('PUT', '/v1/chains/extract', {});
    await req('POST', '/v1/chains/extract/versions', { version: 'v1', adapter: { type: 'http', url: upstream.url } });
    await req('POST', '/v1/chains/extract/versions', { version: 'v2', adapter: { type: 'http', url: `${upstream.origin}/v2` } });
    const created = await req('POST', '/v1/rollouts', {
      chain: 'extract',
      control: 'v1',
      candidate: 'v2',
      stages: [
        { environments: ['staging'], tenants: ['acme'], percent: 100 },
        { environments: ['prod'], tenants: ['acme'], percent: 10, splitBy: 'unit' },
      ],
      guardrails: [{ metric: 'override_rate', maxIncrease: 0.05, minSamples: 100 }],
      ...(webhookUrl ? { webhookUrl } : {}),
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const staging30 = (i: number) => (i % 10 < 3 ? { total: -1 } : {});
    // Other tenants' staging traffic first: the 100% stage's baseline while it runs.
    for (let i = 0; i < 200; i++) {
      const res = await req('POST', '/v1/chains/extract/invoke', { tenant: 'initech', environment: 'staging', input: { i } });
      expect(res.body.variant).toBe('default');
      await req('POST', `/v1/runs/${res.body.runId}/feedback`, { final: staging30(i) });
    }
    await gw.services().writer.flush();
    for (let i = 0; i < 200; i++) {
      const res = await req('POST', '/v1/chains/extract/invoke', { tenant: 'acme', environment: 'staging', input: { i } });
      expect(res.body.variant).toBe('candidate');
      await req('POST', `/v1/runs/${res.body.runId}/feedback`, { final: staging30(i) });
    }
    await gw.services().writer.flush();
    expect((await req('POST', `/v1/rollouts/${id}/advance`, {})).body.stage).toBe(1);
    let candidateReviews = 0;
    for (let i = 0; i < 3000 && candidateReviews < 180; i++) {
      const res = await req('POST', '/v1/chains/extract/invoke', { tenant: 'acme', environment: 'prod', input: { i }, unit: `doc-${i}` });
      if (res.body.variant === 'default') break; // rolled back: routing has followed
      const overridden = res.body.variant === 'candidate' ? prodCandidateOverridden(i) : i % 10 === 0;
      if (res.body.variant === 'candidate') candidateReviews++;
      await req('POST', `/v1/runs/${res.body.runId}/feedback`, { final: overridden ? { total: -1 } : {} });
    }
    await gw.services().writer.flush();
    return id;
  }

  it("holds an identical candidate under the README's staging-100% + prod-10% rollout (strata, not pooled totals)", async () => {
    const gw = await startTestGateway({ env: { GUARDRAIL_INTERVAL_MS: '200' } });
    try {
      const id = await readmeRollout(gw, (i) => i % 10 === 0);
      await new Promise((r) => setTimeout(r, 600));
      expect((await gw.request('GET', `/v1/rollouts/${id}`)).body).toMatchObject({ status: 'running', stage: 1 });
      const comparison = (await gw.request('GET', `/v1/rollouts/${id}/comparison`)).body;
      const check = comparison.guardrails[0];
      expect(check).toMatchObject({ metric: 'override_rate', status: 'holding', controlArm: 'randomized' });
      expect(check.method).toMatch(/^stratified-worst-stage\(1 planned\):finite-sample-cs/);
      // Prod's candidate reviews only: staging's 200 are not in the stratum.
      expect(check.samplesByArm.candidate).toBeGreaterThanOrEqual(100);
      expect(check.samplesByArm.candidate).toBeLessThan(200);
      // The whole-life candidate arm does hold staging's 30%: pooled it would look worse by more
      // than the guardrail's 5 points (about 11.5 points, standard error about 1.2, over runs).
      expect(comparison.arms.candidate.reviewed).toBeGreaterThan(check.samplesByArm.candidate + 150);
      expect(comparison.arms.candidate.overrideRate - comparison.arms.control.overrideRate).toBeGreaterThan(0.06);
      const events = (await gw.request('GET', `/v1/rollouts/${id}/events`)).body.events.map((e: any) => e.type);
      expect(events).toEqual(['created', 'advanced']);
    } finally {
      await gw.close();
    }
  }, 120_000);

  it("rolls back a candidate that is really worse in prod under the README's rollout", async () => {
    const gw = await startTestGateway({ env: { GUARDRAIL_INTERVAL_MS: '200' } });
    try {
      // Prod reviewers override 40% of the candidate's outputs against 10% of the control's.
      const id = await readmeRollout(gw, (i) => i % 10 < 4);
      const rollout = await eventually('the rollback', async () => {
        const r = await gw.request('GET', `/v1/rollouts/${id}`);
        return r.body.status === 'rolled_back' && r.body;
      });
      expect(rollout.stage).toBe(1);
      const events = (await gw.request('GET', `/v1/rollouts/${id}/events`)).body.events;
      expect(events.map((e: any) => e.type)).toEqual(['created', 'advanced', 'guardrail_breached', 'rolled_back']);
      const figures = events[2].data.guardrails[0];
      expect(figures).toMatchObject({ metric: 'override_rate', status: 'breached', controlArm: 'randomized' });
      expect(figures.bound).toBeGreaterThan(0.05);
      // Prod's stratum alone: 40% against 10%, 0.3 in truth. Which documents the candidate gets
      // depends on the rollout's id. It breaches at about 100 candidate reviews, where the bound
      // lies about 0.14 under the estimate (0.20-0.36 over eight runs), so a breach means an
      // estimate of about 0.19 or more: 0.2 was too tight (CI saw 0.194 once).
      expect(figures.estimate).toBeGreaterThan(0.15);
    } finally {
      await gw.close();
    }
  }, 120_000);

  it('a relative guardrail with no control data is unevaluable: warning, event, webhook, and onUnevaluable "pause" pauses', async () => {
    const hooks = await startHookReceiver();
    const gw = await startTestGateway({ env: { WEBHOOK_SECRET: SECRET, GUARDRAIL_INTERVAL_MS: '200' } });
    try {
      const req = gw.request;
      await req('PUT', '/v1/tenants/acme', {});
      await req('PUT', '/v1/chains/extract', {});
      await req('POST', '/v1/chains/extract/versions', { version: 'v1', adapter: { type: 'http', url: upstream.url } });
      await req('POST', '/v1/chains/extract/versions', { version: 'v2', adapter: { type: 'http', url: `${upstream.origin}/v2` } });
      // A 100% stage with no history and no other traffic: no baseline at all.
      const created = await req('POST', '/v1/rollouts', {
        chain: 'extract',
        control: 'v1',
        candidate: 'v2',
        stages: [{ environments: ['staging'], tenants: ['acme'], percent: 100 }],
        guardrails: [{ metric: 'override_rate', maxIncrease: 0.05, minSamples: 20 }],
        onUnevaluable: 'pause',
        webhookUrl: hooks.url,
      });
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      for (let i = 0; i < 40; i++) {
        const res = await req('POST', '/v1/chains/extract/invoke', { tenant: 'acme', environment: 'staging', input: { i } });
        if (res.body.variant !== 'candidate') break; // paused: every call to the control
        // The candidate is overridden 80% of the time, and nothing can say so.
        await req('POST', `/v1/runs/${res.body.runId}/feedback`, { final: i % 5 === 0 ? {} : { total: -1 } });
      }
      await gw.services().writer.flush();
      await eventually('the pause', async () => (await req('GET', `/v1/rollouts/${id}`)).body.status === 'paused');
      const events = (await req('GET', `/v1/rollouts/${id}/events`)).body.events;
      expect(events.map((e: any) => e.type)).toEqual(['created', 'guardrail_unevaluable', 'paused']);
      expect(events[1].data.guardrails[0]).toMatchObject({ metric: 'override_rate', status: 'unevaluable', controlArm: 'baseline' });
      const comparison = (await req('GET', `/v1/rollouts/${id}/comparison`)).body;
      expect(comparison.guardrails[0].status).toBe('unevaluable');
      expect(comparison.warnings).toContain('guardrail_unevaluable');
      await eventually('the webhook', async () => hooks.hooks.some((h) => h.body.type === 'guardrail_unevaluable'));
    } finally {
      await gw.close();
      await hooks.close();
    }
  }, 120_000);

  it('acts after a crash on a breach the crashed gateway never acted on, exactly once', async () => {
    const database = await createTestDatabase();
    const dataDir = mkdtempSync(join(tmpdir(), 'cc-guardrail-crash-'));
    const first = await startGatewayProcess({ databaseUrl: database.url, dataDir, env: { GUARDRAIL_INTERVAL_MS: '600000' } });
    const req = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${first.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json().catch(() => undefined)) as any, headers: {} };
    };
    const locker = new pg.Client({ connectionString: database.url });
    await locker.connect();
    try {
      const id = await setUp(req, upstream);
      // The database takes nothing from here on: every run and review stays in the spool.
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE runs, feedback IN EXCLUSIVE MODE');
      for (let i = 0; i < 400; i++) {
        const res = await req('POST', '/v1/chains/extract/invoke', { tenant: 'acme', environment: 'prod', input: { i }, unit: `doc-${i}` });
        expect(res.status).toBe(200);
        await req('POST', `/v1/runs/${res.body.runId}/feedback`, { final: reviewFor(res.body.variant, i) });
      }
      first.signal('SIGKILL');
      await first.exited;
      await locker.query('ROLLBACK');

      // Two gateways start on the same database: the spool replays, both look, one acts.
      const second = await startTestGateway({ databaseUrl: database.url, dataDir, env: { GUARDRAIL_INTERVAL_MS: '300' } });
      const third = await startTestGateway({ databaseUrl: database.url, env: { GUARDRAIL_INTERVAL_MS: '300' } });
      try {
        await eventually(
          'the rollback after restart',
          async () => (await second.request('GET', `/v1/rollouts/${id}`)).body.status === 'rolled_back',
        );
        await Promise.all([second.services().rollouts.load(), third.services().rollouts.load()]);
        await new Promise((r) => setTimeout(r, 1000));
        const events = (await second.request('GET', `/v1/rollouts/${id}/events`)).body.events.map((e: any) => e.type);
        expect(events).toEqual(['created', 'guardrail_breached', 'rolled_back']);
      } finally {
        await third.close();
        await second.close();
      }
    } finally {
      await locker.end().catch(() => {});
      if (first.child.exitCode === null) first.signal('SIGKILL');
      await database.drop();
    }
  }, 120_000);
});

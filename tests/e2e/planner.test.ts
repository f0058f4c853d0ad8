/**
 * POST /v1/rollouts/plan on a real gateway (PostgreSQL): the contract's answer shape, 400s in the
 * contract's error format, admin only, simulations capped by the compute budget while the gateway
 * keeps answering.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/program.js';
import { ADMIN, noPostgres, startTestGateway, type TestGateway } from '../support/gateway.js';

const PLAN = {
  guardrails: [{ metric: 'override_rate', maxIncrease: 0.03, minSamples: 100 }],
  guardrailAlpha: 0.05,
  control: { overrideRate: 0.1, errorRate: 0.01, reviewRate: 0.8 },
  candidate: { overrideRate: 0.18 },
  traffic: { runsPerDay: 2000, candidateShare: 0.1, days: 14 },
  checkEveryMinutes: 10,
  simulations: 100,
  seed: 1,
};

describe.skipIf(noPostgres)('POST /v1/rollouts/plan', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ listen: true, planBudgetMs: 3000 });
  }, 60_000);
  afterAll(async () => gw?.close());

  it('answers the contract shape, the same for the same seed', async () => {
    // Small enough to finish well within this gateway's 3 s budget (a capped plan depends on the machine's speed).
    const small = { ...PLAN, traffic: { ...PLAN.traffic, days: 5 }, simulations: 40 };
    const res = await gw.request('POST', '/v1/rollouts/plan', small);
    expect(res.status).toBe(200);
    const a = res.body;
    expect(Object.keys(a).sort()).toEqual(['byGuardrail', 'fireProbability', 'method', 'simulations', 'timeToFire', 'verdict']);
    expect(a.simulations).toBe(40);
    expect(a.fireProbability.estimate).toBeGreaterThan(0.9);
    expect(a.fireProbability.ci).toHaveLength(2);
    expect(a.byGuardrail).toEqual([{ metric: 'override_rate', limit: 'maxIncrease', fireProbability: a.fireProbability.estimate }]);
    expect(Object.keys(a.timeToFire).sort()).toEqual(['medianCandidateReviewed', 'medianDays', 'p90CandidateReviewed', 'p90Days']);
    expect(a.verdict.probabilityWorse).toBeGreaterThan(0.9);
    expect(a.method).toMatch(/evaluateGuardrails/);
    expect((await gw.request('POST', '/v1/rollouts/plan', small)).body).toEqual(a);
  }, 60_000);

  it('an identical candidate (no `candidate`): a false-rollback rate, timeToFire null when none fired', async () => {
    const res = await gw.request('POST', '/v1/rollouts/plan', {
      ...PLAN,
      candidate: undefined,
      traffic: { ...PLAN.traffic, days: 2 },
      simulations: 30,
    });
    expect(res.status).toBe(200);
    expect(res.body.fireProbability.estimate).toBeLessThan(0.2);
    expect(res.body.timeToFire === null).toBe(res.body.fireProbability.estimate === 0);
  }, 60_000);

  it.each([
    ['a rate above 1', { ...PLAN, control: { overrideRate: 1.5 } }, 'control.overrideRate'],
    ['a share of 0', { ...PLAN, traffic: { ...PLAN.traffic, candidateShare: 0 } }, 'traffic.candidateShare'],
    ['a share above 1', { ...PLAN, traffic: { ...PLAN.traffic, candidateShare: 1.01 } }, 'traffic.candidateShare'],
    ['a guardrail its metric refuses', { ...PLAN, guardrails: [{ metric: 'override_rate', max: 0.2 }] }, 'guardrails'],
    [
      'more checks than a simulation may make',
      { ...PLAN, traffic: { ...PLAN.traffic, days: 200 }, checkEveryMinutes: 1 },
      'checkEveryMinutes',
    ],
    ['an unknown field', { ...PLAN, budget: 5 }, ''],
  ])('400 on %s, in the error format', async (_why, body, where) => {
    const res = await gw.request('POST', '/v1/rollouts/plan', body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(typeof res.body.error.message).toBe('string');
    expect(JSON.stringify(res.body.error)).toContain(where);
  });

  it('admin only: 401 without a token, 403 with a tenant key', async () => {
    expect((await gw.request('POST', '/v1/rollouts/plan', PLAN, null)).status).toBe(401);
    expect((await gw.request('PUT', '/v1/tenants/acme', { name: 'ACME' })).status).toBeLessThan(300);
    const key = (await gw.request('POST', '/v1/tenants/acme/keys', {})).body.key;
    expect((await gw.request('POST', '/v1/rollouts/plan', PLAN, key)).status).toBe(403);
  });

  it('caps simulations by the compute budget, and keeps answering other requests meanwhile', async () => {
    const heavy = { ...PLAN, candidate: undefined, simulations: 100_000 };
    const started = performance.now();
    const planning = fetch(`${gw.url}/v1/rollouts/plan`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.config.ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(heavy),
    });
    // While the plan runs, the gateway answers.
    await new Promise((r) => setTimeout(r, 300));
    const health = await fetch(`${gw.url}/healthz`);
    const healthAt = performance.now() - started;
    const res = await planning;
    const doneAt = performance.now() - started;
    expect(health.status).toBeLessThan(500);
    expect(healthAt).toBeLessThan(doneAt);
    expect(res.status).toBe(200);
    const a = (await res.json()) as { simulations: number; method: string };
    expect(a.simulations).toBeGreaterThan(0);
    expect(a.simulations).toBeLessThan(100_000);
    expect(a.method).toContain('capped from 100000');
  }, 60_000);

  describe('chain-canary plan', () => {
    const cli = async (...args: string[]) => {
      let out = '';
      let err = '';
      const code = await runCli(['--url', gw.url!, '--token', ADMIN, ...args], { out: (t) => (out += t), err: (t) => (err += t) });
      return { code, out, err };
    };
    const flags = [
      ...['--guardrail', 'override_rate:maxIncrease=0.03,minSamples=100', '--override-rate', '0.1', '--error-rate', '0.01'],
      ...['--review-rate', '0.8', '--candidate-override-rate', '0.18', '--runs-per-day', '2000', '--share', '0.1', '--days', '5'],
      ...['--simulations', '40', '--seed', '1'],
    ];

    it('from flags: the same answer as the API, printed for a person or as JSON', async () => {
      const json = await cli('--json', 'plan', ...flags);
      expect(json.err).toBe('');
      expect(json.code).toBe(0);
      const api = await gw.request('POST', '/v1/rollouts/plan', { ...PLAN, traffic: { ...PLAN.traffic, days: 5 }, simulations: 40 });
      expect(JSON.parse(json.out)).toEqual(api.body);
      const text = await cli('plan', ...flags);
      expect(text.code).toBe(0);
      expect(text.out).toContain('plan: 40 simulated rollouts');
      expect(text.out).toMatch(/rolled back: \d+\.\d% \(95% CI/);
      expect(text.out).toContain('override_rate (maxIncrease)');
      expect(text.out).toMatch(/time to rollback: median [\d.]+ days \(\d+ candidate reviews\)/);
    }, 60_000);

    it('from a JSON file, flags laid over it; a refused body exits non-zero with the reason', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'cc-plan-'));
      try {
        const path = join(dir, 'plan.json');
        writeFileSync(path, JSON.stringify({ ...PLAN, simulations: 999 }));
        const r = await cli('--json', 'plan', '-f', path, '--days', '5', '--simulations', '40');
        expect(r.code).toBe(0);
        expect(JSON.parse(r.out).simulations).toBe(40);
        const bad = await cli('plan', '-f', path, '--share', '1.5');
        expect(bad.code).not.toBe(0);
        expect(bad.err).toContain('candidateShare');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 60_000);
  });
});

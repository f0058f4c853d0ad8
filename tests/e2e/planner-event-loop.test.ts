/**
 * POST /v1/rollouts/plan never holds the gateway (README "Planning a rollout"), on a real gateway
 * (PostgreSQL) through the real route: the heaviest plans the contract takes (a look of 40
 * guardrail checks on a billion runs a day; a look over 10,000 tenants) leave the event loop free
 * and /healthz answered at once, a plan that cannot finish answers on time with what ran, and
 * plans at once share the planner's one thread instead of each taking a core.
 */
import { execFile } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noPostgres, startTestGateway, type TestGateway } from '../support/gateway.js';

const BUDGET_MS = 2000;
/** Over the budget: the thread's start (tsx compiles its modules on first use) and one look, on a loaded 2-core machine. */
const LATE_MS = 3000;

const override = { metric: 'override_rate', maxIncrease: 0.5, minSamples: 1 };
const errors = { metric: 'error_rate', max: 0.9, maxIncrease: 0.5, minSamples: 1 };
/** The outside QA's plan with the most guardrails a plan takes (20: 40 checks): one simulated rollout is 49,968 looks, seconds. */
const heaviestLooks = {
  control: { overrideRate: 0.1, errorRate: 0.01 },
  traffic: { runsPerDay: 1e9, candidateShare: 0.5, days: 34.7 },
  checkEveryMinutes: 1,
  simulations: 2,
  guardrails: Array.from({ length: 10 }, () => [override, errors]).flat(),
};
/** 10,000 tenants: a single look reads all of them (a tenth of a second or more), too long for any slice of the event loop. */
const manyTenants = {
  ...heaviestLooks,
  guardrails: [override],
  // 30 looks: should a look run on the event loop, the test still ends.
  traffic: { runsPerDay: 1e9, candidateShare: 0.5, days: 30 / 1440, splitBy: 'tenant', tenants: 10_000, tenantSpread: 0.1 },
};
/** Cheap rollouts (144 looks), more than any budget runs. */
const cheap = {
  guardrails: [{ metric: 'override_rate', maxIncrease: 0.03, minSamples: 100 }],
  control: { overrideRate: 0.1 },
  traffic: { runsPerDay: 2000, candidateShare: 0.1, days: 1 },
  simulations: 100_000,
};

interface Answered {
  status: number;
  body: { simulations: number; method: string };
  /** ms from `since` to the answer. */
  at: number;
}

/** Wall-clock ms, comparable across processes. */
const wallNow = () => performance.timeOrigin + performance.now();

/**
 * GET /healthz from another process `afterMs` after it starts: a client in this process would
 * wait out a stall of the event loop it shares with the gateway before even sending.
 */
async function healthzFromOutside(url: string, afterMs: number): Promise<{ status: number; sentAt: number; answeredAt: number }> {
  const script = `
    const [url, afterMs] = process.argv.slice(1);
    const wall = () => performance.timeOrigin + performance.now();
    await new Promise((r) => setTimeout(r, Number(afterMs)));
    const sentAt = wall();
    const res = await fetch(url + '/healthz');
    await res.text();
    console.log(JSON.stringify({ status: res.status, sentAt, answeredAt: wall() }));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, url, String(afterMs)]);
  return JSON.parse(stdout);
}

describe.skipIf(noPostgres)('the planner and the event loop', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ listen: true, planBudgetMs: BUDGET_MS });
  }, 60_000);
  afterAll(async () => gw?.close());

  const plan = async (body: unknown, since: number): Promise<Answered> => {
    const res = await fetch(`${gw.url}/v1/rollouts/plan`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.config.ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Answered['body'], at: performance.now() - since };
  };

  it('the heaviest plans leave the event loop free: no stall over 200 ms, /healthz answered at once', async () => {
    const health = healthzFromOutside(gw.url!, 300);
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const started = performance.now();
    const answers = await Promise.all([plan(heaviestLooks, started), plan(manyTenants, started)]);
    const plannedAt = wallNow();
    delay.disable();
    const { status, sentAt, answeredAt } = await health;
    expect(status).toBe(200);
    // Asked while the plans ran (they run to the budget), answered at once: long before they were.
    expect(sentAt).toBeLessThan(plannedAt - 500);
    expect(answeredAt - sentAt).toBeLessThan(500);
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(a.body.method).toContain('capped from 2');
      expect(a.at).toBeLessThan(BUDGET_MS + LATE_MS);
    }
    // Before plans ran off the event loop, a slice was a whole simulated rollout: seconds.
    expect(delay.max / 1e6).toBeLessThan(200);
  }, 120_000);

  it('a plan that cannot finish within its budget answers on time with what ran, and says the budget capped it', async () => {
    const started = performance.now();
    const a = await plan(heaviestLooks, started);
    expect(a.status).toBe(200);
    // One simulated rollout takes many times the budget: none ended.
    expect(a.body.simulations).toBe(0);
    expect(a.body.method).toContain(`capped from 2 by the ${BUDGET_MS / 1000} s compute budget`);
    expect(a.at).toBeGreaterThanOrEqual(BUDGET_MS);
    expect(a.at).toBeLessThan(BUDGET_MS + LATE_MS);
  }, 120_000);

  it('plans at once share the thread: each answers within the budget of its own start, with simulations of its own', async () => {
    await plan({ ...cheap, simulations: 200 }, performance.now()); // the thread is up and its code compiled
    const started = performance.now();
    const together = await Promise.all([plan(cheap, started), plan(cheap, started), plan(cheap, started)]);
    for (const a of together) {
      expect(a.status).toBe(200);
      // Budgets of compute time would make them wait in turn: the third would answer after three budgets.
      expect(a.at).toBeLessThan(BUDGET_MS + LATE_MS);
      expect(a.body.simulations).toBeGreaterThan(0);
      expect(a.body.method).toContain('capped from 100000');
    }
    // How many each runs depends on the cores the machine gives the one thread at that moment, so
    // it is not compared with a plan run alone here (a loaded CI machine made that flaky).
  }, 120_000);
});

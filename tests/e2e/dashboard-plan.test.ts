/**
 * The dashboard's "Plan a rollout" panel in headless Chromium: the form's values become the
 * planner's body (rates in percent on the page), and every figure shown equals the API's answer
 * to the same body after the page's rounding (the rules written out again, as in dashboard.test.ts);
 * a refused plan shows the gateway's reason.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSkipReason, launchBrowser } from '../support/browser.js';
import { ADMIN, noPostgres, startTestGateway, type TestGateway } from '../support/gateway.js';
import { count, pct } from '../support/dashboard-format.js';

const days = (x: number): string => `${x < 1 ? x.toFixed(2) : x.toFixed(1)} days`;

describe.skipIf(!!browserSkipReason)('dashboard plan panel in headless Chromium', () => {
  let gw: TestGateway;
  let browser: Browser;
  beforeAll(async () => {
    gw = await startTestGateway({ storage: noPostgres ? 'pglite' : 'postgres', listen: true });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.close();
  });

  it('plans from the form and shows the API’s figures', async () => {
    const page = await browser.newPage({ viewport: { width: 1360, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`${gw.url}/dashboard`);
    await page.getByTestId('token-input').fill(ADMIN);
    await page.getByTestId('token-submit').click();
    await page.getByTestId('plan-form').waitFor();
    const fill = async (field: string, value: string) => page.getByTestId(`plan-input-${field}`).fill(value);
    await fill('candidateOverrideRate', '18');
    await fill('days', '5');
    await fill('simulations', '60');
    await page.getByTestId('plan-submit').click();
    await page.getByTestId('plan-result').waitFor({ timeout: 60_000 });

    const body = {
      guardrails: [{ metric: 'override_rate', maxIncrease: 0.03, minSamples: 100 }],
      control: { overrideRate: 0.1, errorRate: 0.01, reviewRate: 0.8 },
      candidate: { overrideRate: 0.18 },
      traffic: { runsPerDay: 2000, candidateShare: 0.1, days: 5 },
      checkEveryMinutes: 10,
      simulations: 60,
      seed: 1,
    };
    const api = await gw.request('POST', '/v1/rollouts/plan', body);
    expect(api.status).toBe(200);
    const plan = api.body;
    const text = async (testid: string) => (await page.getByTestId(testid).textContent())?.trim();
    expect(await text('plan-simulations')).toBe(count(plan.simulations));
    expect(await text('plan-fire')).toBe(pct(plan.fireProbability.estimate));
    expect(await text('plan-fire-ci-low')).toBe(pct(plan.fireProbability.ci[0]));
    expect(await text('plan-fire-ci-high')).toBe(pct(plan.fireProbability.ci[1]));
    expect(await text('plan-fire-days')).toBe(days(plan.timeToFire.medianDays));
    expect(await text('plan-fire-reviewed')).toBe(count(plan.timeToFire.medianCandidateReviewed));
    expect(await text('plan-verdict-worse')).toBe(pct(plan.verdict.probabilityWorse));
    expect(await text('plan-verdict-better')).toBe(pct(plan.verdict.probabilityBetter));
    expect(await text('plan-verdict-days')).toBe(days(plan.verdict.medianDaysToVerdict));
    expect(await text('plan-method')).toBe(plan.method);

    const artifacts = join(process.cwd(), 'test-artifacts');
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, 'dashboard-plan.png'), fullPage: true });

    await fill('share', '150');
    await page.getByTestId('plan-submit').click();
    await page.getByTestId('plan-error').waitFor();
    expect(await text('plan-error')).toContain('candidateShare');
    expect(errors).toEqual([]);
  }, 120_000);
});

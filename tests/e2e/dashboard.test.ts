/**
 * The dashboard in a real browser: a gateway on a loopback port, a rollout with a few hundred
 * runs and reviews spread over a day, and headless Chromium (Debian's package, driven by
 * playwright-core) signing in, opening the rollout and reading every figure, which must equal
 * the API's after the page's rounding. Then a lifecycle action through the page, and a
 * screenshot kept at test-artifacts/dashboard.png.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { browserSkipReason, launchBrowser } from '../support/browser.js';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { ADMIN, noPostgres, startTestGateway, type TestGateway } from '../support/gateway.js';
import { fixed, count, pct, pts, ptsBound, ms, pValue } from '../support/dashboard-format.js';

const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const CHAIN = 'invoice-extraction';
const TENANTS = ['acme', 'globex', 'initech'];
const HOURS = 24;
const CALLS_PER_HOUR = 32;

/** A small seeded generator (mulberry32): the same "random" reviews on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An invoice as the AI extracted it. */
const extracted = (input: any) => ({ total: 100 + (input?.doc ?? 0), vendor: 'ACME GmbH', date: '2026-01-31', currency: 'EUR' });

describe('dashboard page', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ storage: noPostgres ? 'pglite' : 'postgres' });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('serves the page and uPlot without a token, under the CSP, and nothing else from node_modules', async () => {
    const pageRes = await gw.request('GET', '/dashboard', undefined, null);
    expect(pageRes.status).toBe(200);
    expect(pageRes.headers['content-type']).toMatch(/^text\/html/);
    expect(pageRes.headers['content-security-policy']).toContain("script-src 'self'");
    expect((await gw.request('GET', '/dashboard/', undefined, null)).status).toBe(200);
    expect((await gw.request('GET', '/dashboard/app.js', undefined, null)).headers['content-type']).toMatch(/javascript/);
    expect((await gw.request('GET', '/dashboard/vendor/uPlot.esm.js', undefined, null)).status).toBe(200);
    expect((await gw.request('GET', '/dashboard/vendor/uPlot.min.css', undefined, null)).status).toBe(200);
    expect((await gw.request('GET', '/dashboard/vendor/uPlot.cjs.js', undefined, null)).status).toBe(404);
    expect((await gw.request('GET', '/dashboard/vendor/../../package.json', undefined, null)).status).toBe(404);
    // The page is public; its data is not.
    expect((await gw.request('GET', '/v1/rollouts', undefined, null)).status).toBe(401);
    const doc = await gw.request('GET', '/openapi.json', undefined, null);
    expect(Object.keys(doc.body.paths).some((p) => p.startsWith('/dashboard'))).toBe(false);
  });
});

describe.skipIf(!!browserSkipReason)('dashboard in headless Chromium', () => {
  let gw: TestGateway;
  let v1: FakeUpstream;
  let v2: FakeUpstream;
  let browser: Browser;
  let page: Page;
  let rolloutId: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    v1 = await startFakeUpstream({ behaviour: { output: extracted } });
    v2 = await startFakeUpstream({ behaviour: { output: extracted } });
    gw = await startTestGateway({ storage: noPostgres ? 'pglite' : 'postgres', listen: true });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    vi.useRealTimers();
    await browser?.close();
    await gw?.close();
    await v1?.close();
    await v2?.close();
  });

  it('sets up a 50% unit-split rollout with a day of runs and reviews', async () => {
    for (const t of TENANTS) expect((await gw.request('PUT', `/v1/tenants/${t}`, { name: t.toUpperCase() })).status).toBeLessThan(300);
    expect((await gw.request('PUT', `/v1/chains/${CHAIN}`, { description: 'Invoices' })).status).toBe(201);
    expect(
      (await gw.request('POST', `/v1/chains/${CHAIN}/versions`, { version: 'v1', adapter: { type: 'http', url: v1.url } })).status,
    ).toBe(201);
    expect(
      (await gw.request('POST', `/v1/chains/${CHAIN}/versions`, { version: 'v2', adapter: { type: 'http', url: v2.url } })).status,
    ).toBe(201);

    // The gateway's clock (Date only; timers stay real) walks through the past day, so the
    // timeseries has hours to draw. It returns to the present before the browser starts.
    const start = Date.now() - (HOURS + 1) * 3_600_000;
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(start);
      const created = await gw.request('POST', '/v1/rollouts', {
        chain: CHAIN,
        control: 'v1',
        candidate: 'v2',
        stages: [
          { environments: ['prod'], percent: 50, splitBy: 'unit' },
          { environments: ['prod'], percent: 100, splitBy: 'unit' },
        ],
        // The candidate is made ~17 points worse, and a guardrail's lower bound sits well below
        // the estimate at this size: these cannot fire, and the page has a running rollout to pause.
        guardrails: [
          { metric: 'override_rate', maxIncrease: 0.25, minSamples: 50 },
          { metric: 'error_rate', max: 0.15, minSamples: 50 },
        ],
      });
      expect(created.status).toBe(201);
      rolloutId = created.body.id;

      const random = seeded(20260131);
      const runs: { runId: string; variant: string; i: number }[] = [];
      let i = 0;
      for (let hour = 0; hour < HOURS; hour++) {
        vi.setSystemTime(start + 60_000 + hour * 3_600_000);
        for (let k = 0; k < CALLS_PER_HOUR; k++, i++) {
          // A few upstream failures in each arm, more in the candidate's.
          v1.setBehaviour(random() < 0.01 ? { status: 500 } : { output: extracted });
          v2.setBehaviour(random() < 0.04 ? { status: 500 } : { output: extracted });
          const res = await gw.request('POST', `/v1/chains/${CHAIN}/invoke`, {
            tenant: TENANTS[i % TENANTS.length],
            environment: 'prod',
            input: { doc: i },
            unit: `doc-${i}`,
          });
          if (res.status === 200) runs.push({ runId: res.body.runId, variant: res.body.variant, i });
          else expect(res.status).toBe(502);
        }
        // Reviews arrive within the hour: most runs are reviewed, and reviewers correct the
        // candidate's totals and vendors more often than the control's.
        vi.setSystemTime(start + 30 * 60_000 + hour * 3_600_000);
        for (const run of runs.splice(0)) {
          if (random() < 0.15) continue;
          const out = extracted({ doc: run.i });
          const final: Record<string, unknown> = { ...out };
          const rates = run.variant === 'candidate' ? { total: 0.22, vendor: 0.08, date: 0.04 } : { total: 0.1, vendor: 0.04, date: 0 };
          if (random() < rates.total) final.total = out.total + 10;
          if (random() < rates.vendor) final.vendor = 'ACME AG';
          if (random() < rates.date) final.date = '2026-02-01';
          const fb = await gw.request('POST', `/v1/runs/${run.runId}/feedback`, { final, reviewer: 'ann' });
          expect(fb.status).toBe(200);
        }
      }
      v1.setBehaviour({ output: extracted });
      v2.setBehaviour({ output: extracted });
      await gw.gateway.services.writer.flush();
    } finally {
      vi.useRealTimers();
    }
    const rollout = await gw.request('GET', `/v1/rollouts/${rolloutId}`);
    expect(rollout.body.status).toBe('running');
  }, 180_000);

  it('asks for a token, says why a wrong one fails, and lists the rollouts', async () => {
    page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    page.on('pageerror', (err) => pageErrors.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(`console: ${msg.text()}`);
    });
    await page.goto(`${gw.url}/dashboard`);
    await page.getByTestId('token-input').fill('not-the-token');
    await page.getByTestId('token-submit').click();
    // The API's own message, in plain words (the 401 is expected: not a page error).
    await expect.poll(() => page.getByTestId('login-error').textContent()).toContain('That token was not accepted');
    pageErrors.length = 0;
    await page.getByTestId('token-input').fill(ADMIN);
    await page.getByTestId('token-submit').click();
    await page.getByTestId(`rollout-link-${rolloutId}`).waitFor();
    expect(await page.getByTestId(`rollout-status-${rolloutId}`).textContent()).toBe('Running');
    expect(await page.evaluate(() => sessionStorage.getItem('chain-canary.token'))).toBe(ADMIN);
  });

  it('shows the same figures as the comparison API', async () => {
    await page.getByTestId(`rollout-link-${rolloutId}`).click();
    await page.locator('[data-testid=rollout-detail][data-state=ready]').waitFor();
    const cmpRes = await gw.request('GET', `/v1/rollouts/${rolloutId}/comparison`);
    expect(cmpRes.status).toBe(200);
    const cmp = cmpRes.body;
    const text = async (testid: string) => (await page.getByTestId(testid).textContent())?.trim();

    // The data is non-trivial: both arms reviewed, overridden and errored.
    for (const arm of ['control', 'candidate'] as const) {
      expect(cmp.arms[arm].reviewed).toBeGreaterThan(100);
      expect(cmp.arms[arm].overridden).toBeGreaterThan(5);
    }
    expect(cmp.arms.candidate.errors).toBeGreaterThan(0);

    for (const arm of ['control', 'candidate'] as const) {
      const a = cmp.arms[arm];
      expect(await text(`${arm}-version`)).toBe(a.version);
      expect(await text(`${arm}-runs`)).toBe(count(a.runs));
      expect(await text(`${arm}-reviewed`)).toBe(count(a.reviewed));
      expect(await text(`${arm}-review-rate`)).toBe(pct(a.reviewRate));
      expect(await text(`${arm}-overridden`)).toBe(count(a.overridden));
      expect(await text(`${arm}-override-rate`)).toBe(pct(a.overrideRate));
      expect(await text(`${arm}-override-rate-ci-low`)).toBe(pct(a.overrideRateCI[0]));
      expect(await text(`${arm}-override-rate-ci-high`)).toBe(pct(a.overrideRateCI[1]));
      expect(await text(`${arm}-errors`)).toBe(count(a.errors));
      expect(await text(`${arm}-error-rate`)).toBe(pct(a.errorRate));
      expect(await text(`${arm}-latency-p50`)).toBe(ms(a.latencyMs.p50));
      expect(await text(`${arm}-latency-p95`)).toBe(ms(a.latencyMs.p95));
    }
    expect(await text('candidate-fallbacks')).toBe(count(cmp.arms.candidate.fallbacks));

    const d = cmp.difference.overrideRate;
    expect(await text('difference-estimate')).toBe(pts(d.estimate));
    expect(await text('difference-ci-low')).toBe(ptsBound(d.alwaysValidCI[0]));
    expect(await text('difference-ci-high')).toBe(ptsBound(d.alwaysValidCI[1]));
    expect(await text('difference-fixed-ci-low')).toBe(ptsBound(d.ci[0]));
    expect(await text('difference-fixed-ci-high')).toBe(ptsBound(d.ci[1]));
    expect(await text('difference-p-value')).toBe(pValue(d.pValue));
    expect(await text('difference-always-valid-p-value')).toBe(pValue(d.alwaysValidPValue));
    expect(await text('error-rate-difference')).toBe(pts(cmp.difference.errorRate.estimate));

    // The verdict in plain words, with the always-valid interval at the rollout's level (95%).
    const size = fixed(Math.abs(d.estimate) * 100, 1);
    const sentence = `The candidate's override rate is ${size} points ${d.estimate > 0 ? 'higher' : 'lower'} (95% always-valid interval ${ptsBound(d.alwaysValidCI[0])} to ${ptsBound(d.alwaysValidCI[1])})`;
    const verdict = await text('verdict');
    expect(verdict).toContain(cmp.verdict === 'insufficient_data' ? `${sentence.charAt(0).toLowerCase()}${sentence.slice(1)}` : sentence);
    const word = {
      candidate_worse: ': worse.',
      candidate_better: ': better.',
      no_significant_difference: ': no significant difference.',
      insufficient_data: 'Not enough data',
    }[cmp.verdict as string];
    expect(verdict).toContain(word);
    expect(await page.getByTestId('verdict-card').getAttribute('data-verdict')).toBe(cmp.verdict);

    expect(await text('srm-observed')).toBe(pct(cmp.srm.observedCandidateShare));
    expect(await text('srm-expected')).toBe(pct(cmp.srm.expectedCandidateShare));
    expect(await text('srm-p-value')).toBe(pValue(cmp.srm.pValue));
    // Review-rate imbalance per stage, next to SRM.
    expect(await text('review-rate-control')).toBe(pct(cmp.arms.control.reviewRate));
    expect(await text('review-rate-candidate')).toBe(pct(cmp.arms.candidate.reviewRate));
    expect(await text('review-rate-p-value')).toBe(pValue(Math.min(...cmp.reviewRateImbalance.byStage.map((s: any) => s.pValue))));

    // Per-field override rates: every field either arm had changed.
    const fields = new Set([...Object.keys(cmp.arms.control.fieldOverrideRates), ...Object.keys(cmp.arms.candidate.fieldOverrideRates)]);
    expect(fields.size).toBeGreaterThanOrEqual(2);
    for (const f of fields) {
      const c = cmp.arms.control.fieldOverrideRates[f];
      const k = cmp.arms.candidate.fieldOverrideRates[f];
      expect(await text(`field-${f}-control`)).toBe(c === undefined ? '—' : pct(c));
      expect(await text(`field-${f}-candidate`)).toBe(k === undefined ? '—' : pct(k));
    }

    // Per tenant: each tenant's runs are split by document, so each has both arms.
    expect(cmp.byTenant.map((t: any) => t.tenant).sort()).toEqual(TENANTS);
    for (const t of cmp.byTenant) {
      for (const arm of ['control', 'candidate'] as const) {
        expect(await text(`tenant-${t.tenant}-${arm}-reviewed`)).toBe(count(t.arms[arm].reviewed));
        expect(await text(`tenant-${t.tenant}-${arm}-override-rate`)).toBe(pct(t.arms[arm].overrideRate));
      }
      expect(await text(`tenant-${t.tenant}-difference`)).toBe(`${pts(t.difference.overrideRate.estimate)} pts`);
    }

    // Guardrails: bound against threshold, in points for a relative limit, percent for an absolute one.
    expect(cmp.guardrails.length).toBe(2);
    for (const [i, g] of cmp.guardrails.entries()) {
      const f = g.quantity === 'rate_difference' ? (v: number) => `${pts(v)} pts` : pct;
      expect(await text(`guardrail-${i}-threshold`)).toBe(f(g.threshold));
      expect(await text(`guardrail-${i}-bound`)).toBe(g.bound === null ? '—' : f(g.bound));
      expect(await text(`guardrail-${i}-samples`)).toBe(count(g.samples));
      expect(await text(`guardrail-${i}-status`)).toBe(
        { waiting: 'Waiting for data', holding: 'Holding', breached: 'Breached', unevaluable: 'Cannot be evaluated' }[g.status as string],
      );
    }

    // The chart drew a day of hourly points for both arms.
    const series = await gw.request('GET', `/v1/rollouts/${rolloutId}/timeseries?bucket=hour`);
    expect(series.status).toBe(200);
    expect(new Set(series.body.points.map((p: any) => p.t)).size).toBeGreaterThanOrEqual(HOURS);
    expect(await page.locator('[data-testid=chart] canvas').count()).toBe(1);
    expect(await page.locator('[data-testid=chart] .u-legend .u-series').count()).toBe(3);

    // The audit log: created, nothing else yet.
    expect(await text('event-0-type')).toBe('Created');

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });

    // The words explain themselves: a glossary, and terms that link to it without leaving the view.
    const glossary = await text('glossary');
    for (const word of ['Arm', 'Stage', 'Override rate', 'Always-valid interval', 'SRM']) expect(glossary).toContain(word);
    const detail = await page.getByTestId('rollout-detail').elementHandle();
    await page.locator('a.term[href="#glossary-srm"]').click();
    expect(page.url()).toContain(`rollout=${rolloutId}`);
    expect(await detail.evaluate((el) => el.isConnected)).toBe(true);

    expect(pageErrors).toEqual([]);
  });

  it('pauses the rollout after a confirmation, and shows it in the page and the API', async () => {
    await page.getByTestId('action-pause').click();
    const dialog = page.getByTestId('confirm-dialog');
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('Every call goes to the control (v1)');
    // Cancelling changes nothing.
    await page.getByTestId('confirm-cancel').click();
    await dialog.waitFor({ state: 'detached' });
    expect((await gw.request('GET', `/v1/rollouts/${rolloutId}`)).body.status).toBe('running');

    await page.getByTestId('action-pause').click();
    await page.getByTestId('confirm-ok').click();
    await expect.poll(() => page.getByTestId('rollout-status').textContent()).toBe('Paused');
    expect(await page.getByTestId('notice').textContent()).toContain('Paused');
    expect(await page.getByTestId('event-0-type').textContent()).toBe('Paused');
    expect(await page.getByTestId('action-resume').isEnabled()).toBe(true);
    expect(await page.getByTestId('action-advance').isDisabled()).toBe(true);
    const api = await gw.request('GET', `/v1/rollouts/${rolloutId}`);
    expect(api.body.status).toBe('paused');
    const events = await gw.request('GET', `/v1/rollouts/${rolloutId}/events`);
    expect(events.body.events.at(-1)).toMatchObject({ type: 'paused', actor: expect.stringContaining('admin') });

    // The token is kept for the session: a reload opens the same rollout without asking again.
    await page.reload();
    await page.locator('[data-testid=rollout-detail][data-state=ready]').waitFor();
    expect(await page.getByTestId('rollout-status').textContent()).toBe('Paused');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-paused.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it('rolls back only with a reason, and makes the rollback stand out', async () => {
    await page.getByTestId('action-rollback').click();
    await page.getByTestId('confirm-ok').click();
    // Without a reason the dialog stays open.
    expect(await page.getByTestId('confirm-dialog').isVisible()).toBe(true);
    await page.getByTestId('confirm-reason').fill('Reviewers fix more totals on v2');
    await page.getByTestId('confirm-ok').click();
    await expect.poll(() => page.getByTestId('rollout-status').textContent()).toBe('Rolled back');
    expect(await page.getByTestId('outcome').textContent()).toContain('Reviewers fix more totals on v2');
    const latest = page.getByTestId('event-0');
    expect(await latest.getAttribute('data-type')).toBe('rolled_back');
    expect(await latest.getAttribute('class')).toContain('tone-alert');
    expect((await gw.request('GET', `/v1/rollouts/${rolloutId}`)).body.status).toBe('rolled_back');
    // An ended rollout offers no more actions.
    expect(await page.getByTestId('action-promote').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });
  it('calls out a guardrail that cannot be evaluated (no control data) and says why', async () => {
    // A 100% staging stage with no staging history and no other staging traffic: no baseline.
    const created = await gw.request('POST', '/v1/rollouts', {
      chain: CHAIN,
      control: 'v1',
      candidate: 'v2',
      stages: [{ environments: ['staging'], tenants: ['acme'], percent: 100 }],
      guardrails: [{ metric: 'override_rate', maxIncrease: 0.05, minSamples: 3 }],
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    for (let doc = 0; doc < 3; doc++) {
      const run = await gw.request('POST', `/v1/chains/${CHAIN}/invoke`, { tenant: 'acme', environment: 'staging', input: { doc } });
      expect(run.body.variant).toBe('candidate');
      await gw.request('POST', `/v1/runs/${run.body.runId}/feedback`, { overrides: [{ field: 'total', value: 1 }] });
    }
    await gw.services().writer.flush();
    const cmp = (await gw.request('GET', `/v1/rollouts/${id}/comparison`)).body;
    expect(cmp.guardrails[0].status).toBe('unevaluable');
    await page.goto(`${gw.url}/dashboard`);
    await page.getByTestId(`rollout-link-${id}`).click();
    await page.locator('[data-testid=rollout-detail][data-state=ready]').waitFor();
    expect((await page.getByTestId('guardrail-0-status').textContent())?.trim()).toBe('Cannot be evaluated');
    expect(await page.getByTestId('guardrail-0-unevaluable').textContent()).toContain('No control data');
    expect(await page.getByTestId('verdict-card').textContent()).toContain('no control data to compare with');
    expect(pageErrors).toEqual([]);
  });
});

/**
 * The dashboard's shadow panel in headless Chromium: a shadow-only rollout over a candidate that
 * gets some totals wrong, reviewed calls, and every figure of the panel equal to the API's after
 * the page's rounding (the rules are written out again here, as in dashboard.test.ts).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSkipReason, launchBrowser } from '../support/browser.js';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { ADMIN, noPostgres, startTestGateway, type TestGateway } from '../support/gateway.js';
import { count, pct, pts, ptsBound, pValue } from '../support/dashboard-format.js';

const N = 60;
const truth = (doc: number) => ({ total: 100 + doc, vendor: 'ACME GmbH' });

describe.skipIf(!!browserSkipReason)('dashboard shadow panel in headless Chromium', () => {
  let gw: TestGateway;
  let v1: FakeUpstream;
  let v2: FakeUpstream;
  let browser: Browser;
  let rolloutId: string;

  beforeAll(async () => {
    // The control gets one total in ten wrong; the candidate one in three, and one vendor in seven.
    v1 = await startFakeUpstream({
      behaviour: { output: (input: any) => ({ ...truth(input.doc), total: truth(input.doc).total + (input.doc % 10 === 0 ? 1 : 0) }) },
    });
    v2 = await startFakeUpstream({
      behaviour: {
        output: (input: any) => ({
          total: truth(input.doc).total + (input.doc % 3 === 0 ? 1 : 0),
          vendor: input.doc % 7 === 0 ? 'ACME' : 'ACME GmbH',
        }),
      },
    });
    gw = await startTestGateway({ storage: noPostgres ? 'pglite' : 'postgres', listen: true });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.close();
    await v1?.close();
    await v2?.close();
  });

  it('shows the shadow comparison as the API gives it', async () => {
    await gw.request('PUT', '/v1/tenants/acme', {});
    await gw.request('PUT', '/v1/chains/invoices', {});
    await gw.request('POST', '/v1/chains/invoices/versions', { version: 'v1', adapter: { type: 'http', url: v1.url } });
    await gw.request('POST', '/v1/chains/invoices/versions', { version: 'v2', adapter: { type: 'http', url: v2.url } });
    const created = await gw.request('POST', '/v1/rollouts', {
      chain: 'invoices',
      control: 'v1',
      candidate: 'v2',
      stages: [],
      shadow: { percent: 100 },
    });
    expect(created.status).toBe(201);
    rolloutId = created.body.id;
    for (let doc = 0; doc < N; doc++) {
      const res = await gw.request('POST', '/v1/chains/invoices/invoke', {
        tenant: 'acme',
        environment: 'prod',
        unit: `doc-${doc}`,
        input: { doc },
      });
      expect(res.status).toBe(200);
      expect((await gw.request('POST', `/v1/runs/${res.body.runId}/feedback`, { final: truth(doc) })).status).toBe(200);
    }
    const deadline = Date.now() + 30_000;
    let shadow: any;
    while (Date.now() < deadline) {
      shadow = (await gw.request('GET', `/v1/rollouts/${rolloutId}/shadow`)).body;
      if (shadow.pairs === N) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(shadow.pairs).toBe(N);
    expect(shadow.onlyCandidateOverridden).toBeGreaterThan(shadow.onlyControlOverridden);

    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`${gw.url}/dashboard?rollout=${rolloutId}`);
    await page.getByTestId('token-input').fill(ADMIN);
    await page.getByTestId('token-submit').click();
    await page.locator('[data-testid=rollout-detail][data-state=ready]').waitFor();
    const text = async (testid: string) => (await page.getByTestId(testid).textContent())?.trim();

    expect(await text('rollout-stage')).toBe('Shadow only: no traffic moves');
    expect(await text('shadow-anchoring')).toContain("saw the control's output");
    expect(await text('warnings')).toContain('Shadow runs');
    expect(await text('shadow-both-ok')).toBe(count(shadow.bothOk));
    expect(await text('shadow-only-control')).toBe(count(shadow.onlyControlOverridden));
    expect(await text('shadow-only-candidate')).toBe(count(shadow.onlyCandidateOverridden));
    expect(await text('shadow-both-overridden')).toBe(count(shadow.bothOverridden));
    expect(await text('shadow-control-rate')).toBe(pct(shadow.controlOverrideRate));
    expect(await text('shadow-candidate-rate')).toBe(pct(shadow.candidateOverrideRate));
    expect(await text('shadow-difference')).toBe(pts(shadow.difference.estimate));
    expect(await text('shadow-ci-low')).toBe(ptsBound(shadow.difference.alwaysValidCI[0]));
    expect(await text('shadow-ci-high')).toBe(ptsBound(shadow.difference.alwaysValidCI[1]));
    expect(await text('shadow-fixed-ci-low')).toBe(ptsBound(shadow.difference.ci[0]));
    expect(await text('shadow-fixed-ci-high')).toBe(ptsBound(shadow.difference.ci[1]));
    expect(await text('shadow-mcnemar-p')).toBe(pValue(shadow.mcnemarPValue));
    expect(await text('shadow-always-valid-p')).toBe(pValue(shadow.difference.alwaysValidPValue));
    expect(await text('shadow-pairs')).toBe(count(N));
    expect(await text('shadow-runs')).toBe(count(shadow.shadowRuns));
    expect(await text('shadow-errors')).toBe('0');
    for (const [f, t] of Object.entries<any>(shadow.byField)) {
      expect(await text(`shadow-field-${f}-control`)).toBe(pct(t.controlOverrideRate));
      expect(await text(`shadow-field-${f}-candidate`)).toBe(pct(t.candidateOverrideRate));
      expect(await text(`shadow-field-${f}-difference`)).toBe(`${pts(t.difference.estimate)} pts`);
    }
    expect(Object.keys(shadow.byField).sort()).toEqual(['total', 'vendor']);
    const artifacts = join(process.cwd(), 'test-artifacts');
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, 'dashboard-shadow.png'), fullPage: true });
    expect(errors).toEqual([]);
  }, 120_000);
});

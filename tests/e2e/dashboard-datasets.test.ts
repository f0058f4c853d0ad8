/**
 * The dashboard's datasets view in headless Chromium: a dataset built from reviewed runs, replayed
 * on two versions, listed with its replays; the paired comparison shows the API's figures after
 * the page's rounding, and every case that changed between the versions opens side by side with
 * the fields the human's record changes highlighted.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSkipReason, launchBrowser } from '../support/browser.js';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { ADMIN, noPostgres, startTestGateway, type TestGateway } from '../support/gateway.js';
import { count, pct, pts, pValue } from '../support/dashboard-format.js';

const N = 40;
const truth = (n: number) => ({ total: 100 + n, vendor: 'ACME GmbH' });

describe.skipIf(!!browserSkipReason)('dashboard datasets view in headless Chromium', () => {
  let gw: TestGateway;
  let v1: FakeUpstream;
  let v2: FakeUpstream;
  let browser: Browser;

  beforeAll(async () => {
    // v1 answers the truth; v2 gets every third total wrong and every fifth vendor short.
    v1 = await startFakeUpstream({ behaviour: { output: (input: any) => truth(input.n) } });
    v2 = await startFakeUpstream({
      behaviour: {
        output: (input: any) => ({
          total: truth(input.n).total + (input.n % 3 === 0 ? 1 : 0),
          vendor: input.n % 5 === 0 ? 'ACME' : 'ACME GmbH',
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

  async function waitForReplay(id: string): Promise<any> {
    const until = Date.now() + 60_000;
    for (;;) {
      const r = await gw.request('GET', `/v1/replays/${id}`);
      if (['done', 'failed', 'cancelled'].includes(r.body.status)) return r.body;
      if (Date.now() > until) throw new Error(`replay ${id} did not finish: ${JSON.stringify(r.body)}`);
      await new Promise((res) => setTimeout(res, 50));
    }
  }

  it('lists datasets and replays, and shows the paired comparison and the changed cases as the API gives them', async () => {
    await gw.request('PUT', '/v1/tenants/acme', {});
    await gw.request('PUT', '/v1/chains/invoices', {});
    await gw.request('POST', '/v1/chains/invoices/versions', { version: 'v1', adapter: { type: 'http', url: v1.url } });
    await gw.request('POST', '/v1/chains/invoices/versions', { version: 'v2', adapter: { type: 'http', url: v2.url } });
    for (let n = 0; n < N; n++) {
      const res = await gw.request('POST', '/v1/chains/invoices/invoke', { tenant: 'acme', environment: 'prod', input: { n } });
      expect(res.status).toBe(200);
      // The human fixes every seventh total, so v1 is overridden there too.
      const final = n % 7 === 0 ? { ...truth(n), total: truth(n).total + 2 } : truth(n);
      expect((await gw.request('POST', `/v1/runs/${res.body.runId}/feedback`, { final })).status).toBe(200);
    }
    await gw.services().writer.flush();
    const dataset = (await gw.request('POST', '/v1/datasets', { name: 'reviewed invoices', chain: 'invoices', from: { limit: 100 } })).body;
    expect(dataset.cases).toBe(N);
    const a = (await gw.request('POST', `/v1/datasets/${dataset.id}/replays`, { version: 'v1' })).body;
    await waitForReplay(a.id);
    const b = (await gw.request('POST', `/v1/datasets/${dataset.id}/replays`, { version: 'v2' })).body;
    const replayB = await waitForReplay(b.id);
    const cmp = (await gw.request('GET', `/v1/replays/${a.id}/compare/${b.id}`)).body;
    expect(cmp.discordant.length).toBeGreaterThan(0);

    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`${gw.url}/dashboard`);
    await page.getByTestId('token-input').fill(ADMIN);
    await page.getByTestId('token-submit').click();
    await page.getByTestId('nav-datasets').click();
    await page.getByTestId(`dataset-row-${dataset.id}`).waitFor();
    const text = async (testid: string) => (await page.getByTestId(testid).textContent())?.trim();
    expect(await text(`dataset-cases-${dataset.id}`)).toBe(count(N));

    await page.getByTestId(`dataset-row-${dataset.id}`).click();
    await page.locator('[data-testid=dataset-detail][data-state=ready]').waitFor();
    expect(await text(`replay-rate-${b.id}`)).toBe(pct(replayB.result.overrideRate));
    // The picker's default: the latest replay (v2) as B against v1 as A.
    expect(await text('cmp-pairs')).toBe(count(cmp.pairs));
    expect(await text('cmp-only-a')).toBe(count(cmp.onlyAOverridden));
    expect(await text('cmp-only-b')).toBe(count(cmp.onlyBOverridden));
    expect(await text('cmp-both')).toBe(count(cmp.bothOverridden));
    expect(await text('cmp-diff')).toBe(`${pts(cmp.difference.estimate)} pts`);
    expect(await text('cmp-p')).toBe(pValue(cmp.mcnemarPValue));

    const changed = page.locator('[data-testid^=changed-case-]');
    expect(await changed.count()).toBe(cmp.discordant.length);
    const first = cmp.discordant[0];
    const item = page.getByTestId(`changed-case-${first.caseId.replace(/[^A-Za-z0-9._-]/g, '_')}`);
    await item.locator('summary').click();
    const highlighted = await item.locator('.case-column dt.changed').allTextContents();
    expect(highlighted.sort()).toEqual([...first.aFields, ...first.bFields].sort());
    expect(errors).toEqual([]);
  }, 180_000);
});

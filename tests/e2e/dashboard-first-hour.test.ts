/**
 * The dashboard as a new user meets it after `npm run demo`: a rollout a few seconds old whose
 * first stage sent two tenants' staging systems wholly to the candidate and whose second splits
 * production documents 50/50. In headless Chromium (Debian's package, playwright-core):
 * - every stage's own arms and difference are on the page, equal to the API's `byStage`, so the
 *   arm cards (all stages) and the headline difference (stages with a control) can be reconciled;
 * - the warning about the stage without a randomized control names that stage, not "the current";
 * - the trend chart of a rollout younger than a minute draws its one bucket's points;
 * - at 420 px the page does not scroll sideways;
 * - "Promote" is not the prominent button while the rollout is at its first stages.
 * Also: a rollout with no runs yet shows the chart's empty state in words.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSkipReason, launchBrowser } from '../support/browser.js';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { ADMIN, noPostgres, startTestGateway, type TestGateway } from '../support/gateway.js';
import { count, pct, pts } from '../support/dashboard-format.js';

const CHAIN = 'invoice-extraction';
const TENANTS = ['acme', 'globex', 'initech', 'umbrella'];

const extracted = (input: any) => ({ total: 100 + (input?.doc ?? 0), vendor: 'ACME GmbH' });

describe.skipIf(!!browserSkipReason)('dashboard, the first hour', () => {
  let gw: TestGateway;
  let v1: FakeUpstream;
  let v2: FakeUpstream;
  let browser: Browser;
  let page: Page;
  let rolloutId: string;
  let emptyRolloutId: string;

  beforeAll(async () => {
    v1 = await startFakeUpstream({ behaviour: { output: extracted } });
    v2 = await startFakeUpstream({ behaviour: { output: extracted } });
    gw = await startTestGateway({ storage: noPostgres ? 'pglite' : 'postgres', listen: true });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.close();
    await v1?.close();
    await v2?.close();
  });

  it('runs a two-stage rollout as the demo does, in seconds', async () => {
    for (const t of TENANTS) expect((await gw.request('PUT', `/v1/tenants/${t}`, {})).status).toBeLessThan(300);
    for (const chain of [CHAIN, 'quiet-chain']) {
      expect((await gw.request('PUT', `/v1/chains/${chain}`, {})).status).toBe(201);
      for (const [version, up] of [
        ['v1', v1],
        ['v2', v2],
      ] as const)
        expect((await gw.request('POST', `/v1/chains/${chain}/versions`, { version, adapter: { type: 'http', url: up.url } })).status).toBe(
          201,
        );
    }
    const created = await gw.request('POST', '/v1/rollouts', {
      chain: CHAIN,
      control: 'v1',
      candidate: 'v2',
      stages: [
        { environments: ['staging'], tenants: ['acme', 'globex'], percent: 100 },
        { environments: ['prod'], percent: 50, splitBy: 'unit' },
      ],
      guardrails: [{ metric: 'override_rate', maxIncrease: 0.5, minSamples: 10 }],
    });
    expect(created.status).toBe(201);
    rolloutId = created.body.id;
    const quiet = await gw.request('POST', '/v1/rollouts', {
      chain: 'quiet-chain',
      control: 'v1',
      candidate: 'v2',
      stages: [{ environments: ['prod'], percent: 50, splitBy: 'unit' }],
      guardrails: [],
    });
    expect(quiet.status).toBe(201);
    emptyRolloutId = quiet.body.id;

    let doc = 0;
    const call = async (tenant: string, environment: string) => {
      const i = ++doc;
      const res = await gw.request('POST', `/v1/chains/${CHAIN}/invoke`, { tenant, environment, input: { doc: i }, unit: `doc-${i}` });
      expect(res.status).toBe(200);
      const final = res.body.variant === 'candidate' && i % 4 === 0 ? { total: -1 } : res.body.output;
      expect((await gw.request('POST', `/v1/runs/${res.body.runId}/feedback`, { final })).status).toBe(200);
    };
    for (let i = 0; i < 40; i++) await call(i % 2 ? 'acme' : 'globex', 'staging');
    expect((await gw.request('POST', `/v1/rollouts/${rolloutId}/advance`, {})).status).toBe(200);
    for (let i = 0; i < 80; i++) await call(TENANTS[i % TENANTS.length]!, 'prod');
    await gw.gateway.services.writer.flush();
  }, 120_000);

  it('shows each stage with its own arms and difference, equal to the API', async () => {
    page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    await page.goto(`${gw.url}/dashboard`);
    await page.getByTestId('token-input').fill(ADMIN);
    await page.getByTestId('token-submit').click();
    await page.getByTestId(`rollout-link-${rolloutId}`).click();
    await page.locator('[data-testid=rollout-detail][data-state=ready]').waitFor();
    const cmp = (await gw.request('GET', `/v1/rollouts/${rolloutId}/comparison`)).body;
    const text = async (testid: string) => (await page.getByTestId(testid).textContent())?.trim();

    expect(cmp.byStage).toHaveLength(2);
    for (const s of cmp.byStage) {
      for (const arm of ['control', 'candidate'] as const) {
        const a = s.arms[arm];
        expect(await text(`by-stage-${s.stage}-${arm}-runs`)).toBe(count(a.runs));
        expect(await text(`by-stage-${s.stage}-${arm}-reviewed`)).toBe(count(a.reviewed));
        expect(await text(`by-stage-${s.stage}-${arm}-override-rate`)).toBe(a.reviewed > 0 ? pct(a.overrideRate) : '—');
      }
    }
    // Stage 1 has no randomized control; stage 2's difference is the headline's (one stratum).
    expect(await text('by-stage-0-difference')).toBe('no randomized control');
    const s2 = cmp.byStage[1];
    expect(await text('by-stage-1-difference')).toBe(`${pts(s2.difference.overrideRate.estimate)} pts`);
    expect(pts(s2.difference.overrideRate.estimate)).toBe(pts(cmp.difference.overrideRate.estimate));
    // The arm cards say which runs they count.
    expect(await text('arms-card')).toContain('every stage');
    expect(await text('tenants-card')).toContain('counts every stage');

    // The warning names the stage it is about (stage 1), not the current one (stage 2, 50%).
    expect(cmp.warnings).toContain('stage_without_randomized_control');
    const warnings = await text('warnings');
    expect(warnings).toContain('Stage 1 (staging');
    expect(warnings).not.toContain('The current stage');
  });

  it('draws the points of a rollout younger than a minute, with a time label', async () => {
    const series = (await gw.request('GET', `/v1/rollouts/${rolloutId}/timeseries?bucket=minute`)).body;
    const times = new Set(series.points.map((p: any) => p.t));
    expect(times.size).toBeLessThanOrEqual(2);
    // Pixels of both arms' colours on the plot's canvas: the points were drawn.
    const colours = await page.evaluate(() => {
      const canvas = document.querySelector('[data-testid=chart] canvas') as HTMLCanvasElement | null;
      if (!canvas) return null;
      const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
      const near = (i: number, [r, g, b]: number[]) =>
        Math.abs(data[i]! - r!) + Math.abs(data[i + 1]! - g!) + Math.abs(data[i + 2]! - b!) < 40;
      let control = 0;
      let candidate = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (near(i, [0x4f, 0x6b, 0xed])) control++;
        if (near(i, [0xe0, 0xa1, 0x00])) candidate++;
      }
      return { control, candidate };
    });
    expect(colours).not.toBeNull();
    expect(colours!.control).toBeGreaterThan(10);
    expect(colours!.candidate).toBeGreaterThan(10);
    // One bucket so far (the usual case: the calls took a few seconds): the note says so, with its time.
    if (times.size === 1) expect(await page.getByTestId('chart-note').textContent()).toMatch(/One minute of data so far \(\d{2}:\d{2}\)/);
  });

  it('does not make Promote the prominent button at the first stages', async () => {
    const cls = (await page.getByTestId('action-promote').getAttribute('class')) ?? '';
    expect(cls).not.toContain('primary');
  });

  it('fits a 420 px wide window without sideways scrolling: the rollout, the list and the sign-in', async () => {
    await page.setViewportSize({ width: 420, height: 900 });
    const overflow = () =>
      page.evaluate(() => ({
        scroll: document.documentElement.scrollWidth,
        client: document.documentElement.clientWidth,
        // What sticks out of the page (for the failure message); a table scrolling inside its own
        // box does not make the page scroll.
        wide: [...document.querySelectorAll('body *')]
          .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
          .filter((el) => {
            for (let p = el.parentElement; p && p !== document.body; p = p.parentElement)
              if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(p).overflowX)) return false;
            return true;
          })
          .slice(0, 5)
          .map((el) => `${el.tagName.toLowerCase()}.${(el as HTMLElement).className}[${(el as HTMLElement).dataset.testid ?? ''}]`),
      }));
    const fits = async (view: string) => {
      await page.waitForTimeout(300);
      const o = await overflow();
      expect({ view, wide: o.wide }).toEqual({ view, wide: [] });
      expect(o.scroll).toBeLessThanOrEqual(o.client);
    };
    await fits('rollout');
    await page.goto(`${gw.url}/dashboard`);
    await page.getByTestId(`rollout-link-${rolloutId}`).waitFor();
    await fits('list');
    await page.getByTestId('sign-out').click();
    await page.getByTestId('token-input').waitFor();
    await fits('sign-in');
    await page.getByTestId('token-input').fill(ADMIN);
    await page.getByTestId('token-submit').click();
    await page.getByTestId(`rollout-link-${rolloutId}`).waitFor();
  });

  it('says in words that a rollout without runs has no trend yet', async () => {
    await page.setViewportSize({ width: 1360, height: 900 });
    await page.goto(`${gw.url}/dashboard?rollout=${emptyRolloutId}`);
    await page.locator('[data-testid=rollout-detail][data-state=ready]').waitFor();
    expect(await page.getByTestId('chart-empty').textContent()).toContain('No reviewed runs yet');
    expect(await page.locator('[data-testid=chart] canvas').count()).toBe(0);
  });
});

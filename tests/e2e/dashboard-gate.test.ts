/**
 * The dashboard's buttons and banners for every rollout status, in headless Chromium against a real
 * gateway: the buttons a rollout offers are exactly the actions the API accepts in its status
 * (each offered one goes through, every request it does not offer is a 409 or changes nothing), a
 * gated rollout is started from the page with an override and a reason (README "Datasets, replays
 * and the gate"), and a rollout whose shadow gate failed (README "Shadow runs") shows no buttons
 * and a banner with the figures it failed on.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rolloutStatusSchema } from '../../src/domain/model/rollout.js';
import { browserSkipReason, launchBrowser } from '../support/browser.js';
import { count, pct, pts } from '../support/dashboard-format.js';
import { eventually } from '../support/eventually.js';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { ADMIN, noPostgres, startTestGateway, type TestGateway } from '../support/gateway.js';

/** The record a reviewer accepts: the control gets it right, the candidate never does. */
const truth = (input: any) => ({ total: 100 + Number(input?.doc ?? 0), vendor: 'ACME GmbH' });
const wrong = (input: any) => ({ ...truth(input), total: truth(input).total + 1 });

const ARTIFACTS = join(process.cwd(), 'test-artifacts');

const TWO_STAGES = [
  { environments: ['prod'], percent: 50, splitBy: 'unit' },
  { environments: ['prod'], percent: 100 },
];
/** A shadow gate that needs more pairs than any test here makes: the rollout stays gated. */
const WAITING_GATE = { shadow: { maxIncrease: 0.05, minPairs: 1000 } };

/** The words the rollout list and the header use for each status. */
const WORDS: Record<string, string> = {
  running: 'Running',
  paused: 'Paused',
  gated: 'Gated',
  rolled_back: 'Rolled back',
  gate_failed: 'Gate failed',
  promoted: 'Promoted',
};

/** Every lifecycle request the API has (the dashboard sends {} but for a reason where one is needed). */
const REQUESTS = [
  { action: 'advance', override: false },
  { action: 'advance', override: true },
  { action: 'pause', override: false },
  { action: 'resume', override: false },
  { action: 'promote', override: false },
  { action: 'rollback', override: false },
] as const;
type Request = (typeof REQUESTS)[number];
const bodyOf = (r: Request) => (r.override ? { override: true, reason: 'probe' } : r.action === 'rollback' ? { reason: 'probe' } : {});

interface Offered {
  key: string;
  action: string;
  override: boolean;
  disabled: boolean;
}

describe.skipIf(!!browserSkipReason)('dashboard buttons and banners for every rollout status, in headless Chromium', () => {
  let gw: TestGateway;
  let v1: FakeUpstream;
  let v2: FakeUpstream;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  let chains = 0;
  let gateFailedId: string;

  beforeAll(async () => {
    v1 = await startFakeUpstream({ behaviour: { output: truth } });
    v2 = await startFakeUpstream({ behaviour: { output: wrong } });
    gw = await startTestGateway({ storage: noPostgres ? 'pglite' : 'postgres', listen: true });
    expect((await gw.request('PUT', '/v1/tenants/acme', {})).status).toBeLessThan(300);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    page.on('pageerror', (err) => pageErrors.push(`pageerror: ${err.message}`));
    await page.goto(`${gw.url}/dashboard`);
    await page.getByTestId('token-input').fill(ADMIN);
    await page.getByTestId('token-submit').click();
    await page.locator('[data-testid=rollouts], [data-testid=no-rollouts]').first().waitFor();
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.close();
    await v1?.close();
    await v2?.close();
  });

  /** A chain of its own (one live rollout per chain), v1 the control's upstream, v2 the candidate's. */
  async function newChain(): Promise<string> {
    const chain = `chain-${++chains}`;
    expect((await gw.request('PUT', `/v1/chains/${chain}`, {})).status).toBe(201);
    for (const [version, upstream] of [
      ['v1', v1],
      ['v2', v2],
    ] as const)
      expect(
        (await gw.request('POST', `/v1/chains/${chain}/versions`, { version, adapter: { type: 'http', url: upstream.url } })).status,
      ).toBe(201);
    return chain;
  }

  async function create(body: Record<string, unknown>): Promise<string> {
    const res = await gw.request('POST', '/v1/rollouts', { chain: await newChain(), control: 'v1', candidate: 'v2', ...body });
    expect(res.status).toBe(201);
    return res.body.id as string;
  }

  async function act(id: string, action: string, body: unknown = {}): Promise<any> {
    const res = await gw.request('POST', `/v1/rollouts/${id}/${action}`, body);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  }

  const get = async (id: string) => (await gw.request('GET', `/v1/rollouts/${id}`)).body;

  /**
   * What the dashboard's actionsFor (public/dashboard/actions.js, imported by the page) offers for a
   * rollout as the API shows it. The page evaluates it from a string: vitest would rewrite an
   * import() in a function passed to evaluate.
   */
  async function offered(id: string): Promise<Offered[]> {
    const rollout = await get(id);
    const cmp = await gw.request('GET', `/v1/rollouts/${id}/comparison`);
    const args = JSON.stringify([rollout, cmp.status === 200 ? cmp.body : undefined]);
    return page.evaluate(
      `import('${gw.url}/dashboard/actions.js').then(({ actionsFor }) => actionsFor(...${args}).map((a) => ({ key: a.key, action: a.action, override: !!a.override, disabled: !!a.disabled })))`,
    );
  }

  async function openRollout(id: string): Promise<void> {
    await page.goto(`${gw.url}/dashboard?rollout=${id}`);
    await page.locator('[data-testid=rollout-detail][data-state=ready]').waitFor();
  }

  const buttons = () => page.locator('.actions button').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.testid));
  const text = async (testid: string) => (await page.getByTestId(testid).textContent())?.trim();

  it('knows every status the API has', async () => {
    const known = await page.evaluate<string[]>(`import('${gw.url}/dashboard/statuses.js').then((m) => m.KNOWN_STATUSES)`);
    expect([...known].sort()).toEqual([...rolloutStatusSchema.options].sort());
    expect(Object.keys(WORDS).sort()).toEqual([...rolloutStatusSchema.options].sort());
  });

  it('fails a gated rollout whose candidate the shadow pairs show worse than maxIncrease', async () => {
    gateFailedId = await create({
      stages: TWO_STAGES,
      shadow: { percent: 100 },
      gate: { shadow: { maxIncrease: 0.05, minPairs: 5 } },
    });
    const { chain } = await get(gateFailedId);
    let doc = 0;
    const failed = await eventually(
      'the shadow gate to fail',
      async () => {
        // A call and its review at a time: every one is the control's (gated: no traffic moves).
        const res = await gw.request('POST', `/v1/chains/${chain}/invoke`, {
          tenant: 'acme',
          environment: 'prod',
          unit: `doc-${doc}`,
          input: { doc },
        });
        expect(res.body).toMatchObject({ version: 'v1', variant: 'default' });
        expect((await gw.request('POST', `/v1/runs/${res.body.runId}/feedback`, { final: truth({ doc }) })).status).toBe(200);
        doc++;
        const r = await get(gateFailedId);
        return r.status === 'gate_failed' && r;
      },
      { timeoutMs: 60_000, everyMs: 10 },
    );
    expect(failed.gate.shadow.state).toBe('failed');
    expect(failed.gate.shadow.figures.lowerBound).toBeGreaterThan(0.05);
  }, 90_000);

  /**
   * Every situation the buttons differ in, each made afresh on a chain of its own: a probe that
   * goes through changes the rollout, so each request gets a new one.
   */
  const SITUATIONS: Record<string, () => Promise<string>> = {
    'running at stage 1 of 2': () => create({ stages: TWO_STAGES }),
    'running at its last stage': () => create({ stages: TWO_STAGES.slice(0, 1) }),
    'running shadow-only': () => create({ stages: [], shadow: { percent: 100 } }),
    'running, its stage held by its shadow gate': async () => {
      const id = await create({
        stages: TWO_STAGES,
        shadow: { percent: 100 },
        gate: { shadow: { maxIncrease: 0.05, minPairs: 1000, everyStage: true } },
      });
      await act(id, 'advance', { override: true, reason: 'start stage 1 to hold it' });
      return id;
    },
    paused: async () => {
      const id = await create({ stages: TWO_STAGES });
      await act(id, 'pause');
      return id;
    },
    gated: () => create({ stages: TWO_STAGES, shadow: { percent: 100 }, gate: WAITING_GATE }),
    'gated shadow-only': () => create({ stages: [], shadow: { percent: 100 }, gate: WAITING_GATE }),
    rolled_back: async () => {
      const id = await create({ stages: TWO_STAGES });
      await act(id, 'rollback', { reason: 'probe' });
      return id;
    },
    promoted: async () => {
      const id = await create({ stages: TWO_STAGES });
      await act(id, 'promote');
      return id;
    },
    // Final: every request is a 409, so one rollout serves every probe.
    gate_failed: async () => gateFailedId,
  };

  it.each(Object.keys(SITUATIONS))('offers exactly the actions the API accepts: %s', async (situation) => {
    const make = SITUATIONS[situation]!;
    const probe = await make();
    const before = await get(probe);
    const offers = await offered(probe);
    const enabled = offers.filter((a) => !a.disabled);
    const isOffered = (r: Request) => enabled.some((a) => a.action === r.action && a.override === r.override);

    // Each offered button's request goes through and moves the rollout; remember where to.
    const reachable = new Set<string>();
    for (const r of REQUESTS.filter(isOffered)) {
      const id = await make();
      const res = await gw.request('POST', `/v1/rollouts/${id}/${r.action}`, bodyOf(r));
      expect(res.status, `${situation}: offered ${r.action}${r.override ? ' with override' : ''}: ${JSON.stringify(res.body)}`).toBe(200);
      expect(`${res.body.status}/${res.body.stage}`).not.toBe(`${before.status}/${before.stage}`);
      reachable.add(`${res.body.status}/${res.body.stage}`);
    }
    // Every other request is refused (409) or changes nothing (repeating what the rollout already
    // is), or reaches only where an offered button does (advance with a needless override).
    for (const r of REQUESTS.filter((r) => !isOffered(r))) {
      const id = situation === 'gate_failed' ? probe : await make();
      const res = await gw.request('POST', `/v1/rollouts/${id}/${r.action}`, bodyOf(r));
      const what = `${situation}: ${r.action}${r.override ? ' with override' : ''} is not offered, but the API answered ${res.status} ${JSON.stringify(res.body)}`;
      if (res.status === 200) {
        const to = `${res.body.status}/${res.body.stage}`;
        expect(to === `${before.status}/${before.stage}` || reachable.has(to), what).toBe(true);
      } else expect(res.status, what).toBe(409);
    }
    // An ended rollout's page shows no buttons at all; a live one's page shows what actionsFor says.
    await openRollout(probe);
    expect(await buttons()).toEqual(offers.map((a) => `action-${a.key}`));
    expect(await text('rollout-status')).toBe(WORDS[before.status]);
    expect(pageErrors).toEqual([]);
  });

  it('a gated rollout offers only "Start without the gate" and "Roll back", and says what it waits for', async () => {
    const id = await create({ stages: TWO_STAGES, shadow: { percent: 100 }, gate: WAITING_GATE });
    await openRollout(id);
    expect(await buttons()).toEqual(['action-override', 'action-rollback']);
    expect(await text('rollout-status')).toBe('Gated');
    expect(await text('rollout-stage')).toBe('Stage 1 of 2 starts when the gate passes');
    expect(await page.getByTestId('stage-0').getAttribute('data-state')).toBe('waiting');
    const banner = page.getByTestId('outcome');
    expect(await banner.getAttribute('data-status')).toBe('gated');
    expect(await banner.textContent()).toMatch(/^Gated: created (just now|\d+ minutes? ago) by admin/);
    expect(await banner.textContent()).toContain('No customer traffic moves until the gate passes');
    expect(await text('outcome-gate-shadow')).toContain('Shadow gate: 0 of 1,000 pairs scored');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-gated.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it('starts a gated rollout from the page: an override with a reason, in the audit log', async () => {
    const id = await create({ stages: TWO_STAGES, shadow: { percent: 100 }, gate: WAITING_GATE });
    await openRollout(id);
    await page.getByTestId('action-override').click();
    const dialog = page.getByTestId('confirm-dialog');
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('Start without the gate?');
    // Without a reason the dialog stays open and nothing is sent.
    await page.getByTestId('confirm-ok').click();
    expect(await dialog.isVisible()).toBe(true);
    expect((await get(id)).status).toBe('gated');
    await page.getByTestId('confirm-reason').fill('The owner signed off: hotfix for credit notes');
    await page.getByTestId('confirm-ok').click();

    await expect.poll(() => text('rollout-status')).toBe('Running');
    expect(await text('notice')).toContain('Started without the gate');
    const rollout = await get(id);
    expect(rollout).toMatchObject({
      status: 'running',
      stage: 0,
      gate: { state: 'overridden', reason: 'The owner signed off: hotfix for credit notes' },
    });
    const events = (await gw.request('GET', `/v1/rollouts/${id}/events`)).body.events;
    expect(events.at(-1)).toMatchObject({
      type: 'advanced',
      actor: expect.stringContaining('admin'),
      reason: 'The owner signed off: hotfix for credit notes',
      data: { override: true, before: { status: 'gated', stage: 0 }, after: { status: 'running', stage: 0 } },
    });
    // The page now offers what a running rollout at stage 1 of 2 does, and its log says what happened.
    expect(await buttons()).toEqual(['action-advance', 'action-pause', 'action-promote', 'action-rollback']);
    expect(await page.getByTestId('outcome').count()).toBe(0);
    expect(await text('event-0')).toContain('to stage 1, overriding the gate');
    expect(await text('event-0')).toContain('The owner signed off: hotfix for credit notes');
    expect(pageErrors).toEqual([]);
  });

  it('a rollout whose gate failed shows no buttons and a banner with the figures it failed on', async () => {
    const rollout = await get(gateFailedId);
    const f = rollout.gate.shadow.figures;
    await openRollout(gateFailedId);
    expect(await page.locator('[data-testid^=action-]').count()).toBe(0);
    expect(await text('rollout-status')).toBe('Gate failed');
    expect(await text('rollout-stage')).toBe('Stage 1 of 2 never started');
    expect(await page.getByTestId('stage-0').getAttribute('data-state')).toBe('never');
    const banner = page.getByTestId('outcome');
    expect(await banner.getAttribute('data-status')).toBe('gate_failed');
    expect(await banner.textContent()).toMatch(/^Gate failed (just now|\d+ minutes? ago) by the gate\. v2 did worse than its gate allows/);
    expect(await banner.textContent()).toContain('no traffic moved, and every call goes to the control (v1)');
    // The figures, as the API gives them, after the page's rounding.
    expect(await text('outcome-gate-shadow-pairs')).toBe(count(f.pairs));
    expect(await text('outcome-gate-shadow-candidate-rate')).toBe(pct(f.candidateOverrideRate));
    expect(await text('outcome-gate-shadow-control-rate')).toBe(pct(f.controlOverrideRate));
    expect(await text('outcome-gate-shadow-estimate')).toBe(`${pts(f.estimate)} pts`);
    expect(await text('outcome-gate-shadow-lower-bound')).toBe(`${pts(f.lowerBound)} pts`);
    expect(await text('outcome-gate-shadow-max-increase')).toBe(`${pts(0.05)} pts`);
    expect(await text('outcome-gate-shadow')).toContain('is above the');
    // The audit log names the gate's event and its figures in words.
    const failedEvent = page.locator('[data-testid^=event-][data-type=gate_failed]');
    expect(await failedEvent.locator('strong').textContent()).toBe('Gate failed');
    expect(await failedEvent.textContent()).toContain(`Shadow gate on ${count(f.pairs)} pairs`);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-gate-failed.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it('lists every status in words, live rollouts before ended ones', async () => {
    await page.goto(`${gw.url}/dashboard`);
    await page.getByTestId('rollouts').waitFor();
    const rows = await page
      .locator('[data-testid^=rollout-status-]')
      .evaluateAll((els) =>
        els.map((e) => ({ id: (e as HTMLElement).dataset.testid!.slice('rollout-status-'.length), word: e.textContent })),
      );
    const items: { id: string; status: string }[] = (await gw.request('GET', '/v1/rollouts')).body.items;
    const statusOf = new Map(items.map((r) => [r.id, r.status]));
    expect(new Set(items.map((r) => r.status))).toEqual(new Set(rolloutStatusSchema.options));
    expect(rows.map((r) => r.word)).toEqual(rows.map((r) => WORDS[statusOf.get(r.id)!]));
    const live = new Set(['running', 'paused', 'gated']);
    const firstEnded = rows.findIndex((r) => !live.has(statusOf.get(r.id)!));
    expect(rows.slice(firstEnded).every((r) => !live.has(statusOf.get(r.id)!))).toBe(true);
    expect(pageErrors).toEqual([]);
  });
});

/**
 * Datasets and replays end to end through the HTTP API, on real PostgreSQL and on PGlite: a
 * dataset built from reviewed runs of a chain, replayed on two versions (loopback upstreams that
 * answer differently), and the paired comparison checked against an independent count of the
 * fields that differ; uploads (JSON, JSON Lines), export, cancel, and the contract's errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.js';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { noPostgres, startTestGateway, type TestGateway } from '../support/gateway.js';
import { wilsonInterval } from '../../src/domain/stats/proportions.js';

const storages = [...(noPostgres ? [] : (['postgres'] as const)), ...(process.env.CC_SKIP_PGLITE ? [] : (['pglite'] as const))];

/** What version 1 answers: the invoice as the input describes it. */
const v1Output = (input: any) => ({ total: input.n * 10, vendor: input.vendor, date: '2026-01-31', lines: [input.n] });
/** Version 2: wrong totals on every third invoice, an abbreviated vendor on every fourth, a date fixed on every seventh. */
const v2Output = (input: any) => ({
  ...v1Output(input),
  date: input.n % 7 === 0 ? '2026-02-01' : '2026-01-31',
  total: input.n % 3 === 0 ? input.n * 10 + 1 : input.n * 10,
  vendor: input.n % 4 === 0 ? input.vendor.slice(0, 4) : input.vendor,
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(storages)('datasets and replays on %s', { timeout: 120_000 }, (storage) => {
  let gw: TestGateway;
  let up1: FakeUpstream;
  let up2: FakeUpstream;
  let slow: FakeUpstream;
  let broken: FakeUpstream;
  let openai: FakeOpenAI;
  let acmeKey: string;
  /** run id → what the human accepted, built by the test itself. */
  const humanRecord = new Map<string, Record<string, unknown>>();
  const inputs = new Map<string, any>();
  let reviewed = 0;
  let overriddenRuns = 0;

  async function waitForReplay(id: string): Promise<any> {
    // Generous: the machine is shared; this bounds a hang, it does not measure speed.
    const until = Date.now() + 100_000;
    for (;;) {
      const r = await gw.request('GET', `/v1/replays/${id}`);
      expect(r.status).toBe(200);
      if (['done', 'failed', 'cancelled'].includes(r.body.status)) return r.body;
      if (Date.now() > until) throw new Error(`replay ${id} did not finish: ${JSON.stringify(r.body)}`);
      await sleep(50);
    }
  }

  beforeAll(async () => {
    [up1, up2, slow, broken] = await Promise.all([
      startFakeUpstream({ behaviour: { output: v1Output } }),
      startFakeUpstream({ behaviour: { output: v2Output } }),
      startFakeUpstream({ behaviour: { output: v1Output, delayMs: 150 } }),
      startFakeUpstream({ behaviour: { status: 500 } }),
    ]);
    // An OpenAI-compatible server: the reply is the invoice the prompt names, as JSON.
    openai = await startFakeOpenAI({
      reply: (messages) => JSON.stringify({ total: Number(/n=(\d+)/.exec(messages.at(-1)!.content)![1]) * 10 }),
    });
    gw = await startTestGateway({ storage, env: { OPENAI_API_KEY: 'sk-test-replays', OPENAI_BASE_URL: openai.baseURL } });
    for (const t of ['acme', 'globex']) expect((await gw.request('PUT', `/v1/tenants/${t}`, {})).status).toBe(201);
    acmeKey = (await gw.request('POST', '/v1/tenants/acme/keys', {})).body.key;
    expect((await gw.request('PUT', '/v1/chains/invoices', {})).status).toBe(201);
    for (const [version, url] of [
      ['v1', up1.url],
      ['v2', up2.url],
      ['slow', slow.url],
      ['broken', broken.url],
    ] as const) {
      expect(
        (await gw.request('POST', '/v1/chains/invoices/versions', { version, adapter: { type: 'http', url, timeoutMs: 5000 } })).status,
      ).toBe(201);
    }
    // 36 runs of v1 (current): 24 reviewed by three forms, 12 left unreviewed.
    for (let n = 1; n <= 36; n++) {
      const tenant = n % 2 === 0 ? 'acme' : 'globex';
      const input = { n, vendor: n % 5 === 0 ? 'Globex Corporation' : 'ACME GmbH' };
      const res = await gw.request('POST', '/v1/chains/invoices/invoke', { tenant, environment: n % 3 === 0 ? 'prod' : 'staging', input });
      expect(res.status).toBe(200);
      const runId = res.body.runId as string;
      inputs.set(runId, input);
      const out = v1Output(input);
      if (n % 3 === 2) continue; // not reviewed
      reviewed++;
      let fb: unknown;
      if (n % 4 === 0) {
        // The human corrected the total (sending only the fields the review tool tracks).
        fb = { final: { total: out.total + 5, vendor: out.vendor } };
        humanRecord.set(runId, { total: out.total + 5, vendor: out.vendor });
        overriddenRuns++;
      } else if (n % 7 === 0) {
        fb = { overrides: [{ field: 'date', value: '2026-02-01' }] };
        humanRecord.set(runId, { ...out, date: '2026-02-01' });
        overriddenRuns++;
      } else {
        fb = { overrides: [] };
        humanRecord.set(runId, out);
      }
      const f = await gw.request('POST', `/v1/runs/${runId}/feedback`, fb);
      expect(f.status).toBe(200);
    }
    await gw.services().writer.flush();
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all([up1?.close(), up2?.close(), slow?.close(), broken?.close(), openai?.close()]);
  });

  let dataset: any;
  let replayA: any;
  let replayB: any;

  it("builds a dataset from reviewed runs: input as stored, expected = the output with the human's changes", async () => {
    const res = await gw.request('POST', '/v1/datasets', { name: 'all reviewed', chain: 'invoices', from: { limit: 100 } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'all reviewed', chain: 'invoices', cases: reviewed, redactedInputs: 0 });
    expect(res.body.fields).toEqual(['date', 'lines', 'total', 'vendor']);
    dataset = res.body;
    const cases = await gw.request('GET', `/v1/datasets/${dataset.id}/cases?limit=500`);
    expect(cases.status).toBe(200);
    expect(cases.body.items).toHaveLength(reviewed);
    for (const c of cases.body.items) {
      const runId = c.source.runId;
      expect(c.input).toEqual(inputs.get(runId));
      const human = humanRecord.get(runId)!;
      // The final form tracks the fields it sent; the overrides form covers the whole output.
      if (c.trackedFields) {
        expect(c.trackedFields).toEqual(['total', 'vendor']);
        expect({ total: c.expected.total, vendor: c.expected.vendor }).toEqual(human);
      } else expect(c.expected).toEqual(human);
      expect(['acme', 'globex']).toContain(c.source.tenant);
    }
    // Paging: two pages of 10 and the rest, no case twice.
    const p1 = await gw.request('GET', `/v1/datasets/${dataset.id}/cases?limit=10`);
    const p2 = await gw.request('GET', `/v1/datasets/${dataset.id}/cases?limit=10&cursor=${p1.body.nextCursor}`);
    expect(new Set([...p1.body.items, ...p2.body.items].map((c: any) => c.caseId)).size).toBe(20);
  });

  it('filters: overridden only, tenants and environments, latest, per tenant, seeded random', async () => {
    const over = await gw.request('POST', '/v1/datasets', { name: 'over', chain: 'invoices', from: { overriddenOnly: true } });
    expect(over.body.cases).toBe(overriddenRuns);
    const acme = await gw.request('POST', '/v1/datasets', {
      name: 'acme prod',
      chain: 'invoices',
      from: { tenants: ['acme'], environments: ['prod'] },
    });
    const acmeCases = (await gw.request('GET', `/v1/datasets/${acme.body.id}/cases`)).body.items;
    expect(acmeCases.length).toBeGreaterThan(0);
    expect(acmeCases.every((c: any) => c.source.tenant === 'acme' && c.source.environment === 'prod')).toBe(true);
    const latest = await gw.request('POST', '/v1/datasets', { name: 'latest 3', chain: 'invoices', from: { limit: 3 } });
    const latestNs = (await gw.request('GET', `/v1/datasets/${latest.body.id}/cases`)).body.items.map((c: any) => c.input.n);
    const reviewedNs = [...humanRecord.keys()].map((id) => inputs.get(id).n).sort((a, b) => b - a);
    expect(latestNs).toEqual(reviewedNs.slice(0, 3));
    const perTenant = await gw.request('POST', '/v1/datasets', { name: 'balanced', chain: 'invoices', from: { perTenant: 2, limit: 10 } });
    const tenants = (await gw.request('GET', `/v1/datasets/${perTenant.body.id}/cases`)).body.items.map((c: any) => c.source.tenant).sort();
    expect(tenants).toEqual(['acme', 'acme', 'globex', 'globex']);
    const pick = async (seed: number) => {
      const d = await gw.request('POST', '/v1/datasets', {
        name: `random ${seed}`,
        chain: 'invoices',
        from: { sample: 'random', seed, limit: 8 },
      });
      return (await gw.request('GET', `/v1/datasets/${d.body.id}/cases`)).body.items.map((c: any) => c.source.runId);
    };
    const [r1, r1again, r2] = [await pick(1), await pick(1), await pick(2)];
    expect(r1).toEqual(r1again);
    expect(r1).toHaveLength(8);
    expect(r2).not.toEqual(r1);
    const listed = await gw.request('GET', '/v1/datasets?chain=invoices');
    expect(listed.body.items.length).toBeGreaterThanOrEqual(7);
  });

  it('replays two versions; the paired comparison counts what an independent count of differing fields says', async () => {
    const runsBefore = (await gw.request('GET', '/v1/runs?chain=invoices&limit=500')).body.items.length;
    const a = await gw.request('POST', `/v1/datasets/${dataset.id}/replays`, { version: 'v1' });
    expect(a.status).toBe(202);
    expect(a.body.statusUrl).toBe(`/v1/replays/${a.body.id}`);
    const b = await gw.request('POST', `/v1/datasets/${dataset.id}/replays`, { version: 'v2', concurrency: 3 });
    replayA = await waitForReplay(a.body.id);
    replayB = await waitForReplay(b.body.id);
    expect(replayA).toMatchObject({ status: 'done', version: 'v1', dataset: dataset.id, progress: { done: reviewed, total: reviewed } });
    expect(replayB.progress).toEqual({ done: reviewed, total: reviewed });

    // The independent count: each case's expected against what each upstream answers for its input.
    const cases = (await gw.request('GET', `/v1/datasets/${dataset.id}/cases?limit=500`)).body.items;
    const differing = (expected: any, tracked: string[] | undefined, output: any) =>
      Object.keys(expected).filter((f) => (!tracked || tracked.includes(f)) && JSON.stringify(expected[f]) !== JSON.stringify(output[f]));
    let bothOk = 0;
    let onlyA = 0;
    let onlyB = 0;
    let both = 0;
    const perField: Record<string, { a: number; b: number; onlyA: number; onlyB: number }> = {};
    for (const c of cases) {
      const fa = differing(c.expected, c.trackedFields, v1Output(c.input));
      const fb = differing(c.expected, c.trackedFields, v2Output(c.input));
      if (fa.length && fb.length) both++;
      else if (fa.length) onlyA++;
      else if (fb.length) onlyB++;
      else bothOk++;
      for (const f of new Set([...fa, ...fb])) {
        perField[f] ??= { a: 0, b: 0, onlyA: 0, onlyB: 0 };
        if (fa.includes(f)) perField[f].a++;
        if (fb.includes(f)) perField[f].b++;
        if (fa.includes(f) && !fb.includes(f)) perField[f].onlyA++;
        if (fb.includes(f) && !fa.includes(f)) perField[f].onlyB++;
      }
    }
    // The comparison below would be vacuous without cases of each kind.
    expect(Math.min(bothOk, onlyA, onlyB, both)).toBeGreaterThan(0);
    const cmp = await gw.request('GET', `/v1/replays/${replayA.id}/compare/${replayB.id}`);
    expect(cmp.status).toBe(200);
    expect(cmp.body).toMatchObject({
      pairs: reviewed,
      bothOk,
      onlyAOverridden: onlyA,
      onlyBOverridden: onlyB,
      bothOverridden: both,
      errors: { a: 0, b: 0, both: 0 },
      warnings: [],
    });
    expect(cmp.body.difference.estimate).toBeCloseTo((onlyB - onlyA) / reviewed, 12);
    expect(cmp.body.difference.ci[0]).toBeLessThan(cmp.body.difference.estimate);
    expect(cmp.body.difference.ci[1]).toBeGreaterThan(cmp.body.difference.estimate);
    expect(cmp.body.mcnemarPValue).toBeGreaterThan(0);
    expect(cmp.body.mcnemarPValue).toBeLessThanOrEqual(1);
    for (const [f, counts] of Object.entries(perField)) {
      expect(cmp.body.byField[f], f).toMatchObject({ onlyAOverridden: counts.onlyA, onlyBOverridden: counts.onlyB });
      expect(cmp.body.byField[f].aOverrideRate).toBeCloseTo(counts.a / reviewed, 12);
      expect(cmp.body.byField[f].bOverrideRate).toBeCloseTo(counts.b / reviewed, 12);
    }
    expect(cmp.body.discordant).toHaveLength(onlyA + onlyB);

    // The result: would-be override rate with its interval, per-field rates, latency.
    expect(replayA.result.cases).toBe(reviewed);
    expect(replayA.result.overridden).toBe(onlyA + both);
    expect(replayB.result.overridden).toBe(onlyB + both);
    expect(replayB.result.overrideRate).toBeCloseTo((onlyB + both) / reviewed, 12);
    expect(replayB.result.overrideRateCI[0]).toBeLessThanOrEqual(replayB.result.overrideRate);
    expect(replayB.result.fieldOverrideRates.total).toBeCloseTo((perField.total?.b ?? 0) / reviewed, 12);
    expect(replayB.result.fieldOverrideRates.lines).toBe(0);
    expect(replayB.result.latencyMs.p95).toBeGreaterThan(0);

    // Per case: the overridden ones with their fields.
    const changed = await gw.request('GET', `/v1/replays/${replayB.id}/cases?overridden=true`);
    expect(changed.body.items).toHaveLength(onlyB + both);
    for (const item of changed.body.items) {
      expect(item.overridden).toBe(true);
      expect(item.fields).toEqual(
        differing(item.expected, cases.find((c: any) => c.caseId === item.caseId).trackedFields, v2Output(item.input)).sort(),
      );
      expect(item.output).toEqual(v2Output(item.input));
    }
    // Replays are not production runs.
    expect((await gw.request('GET', '/v1/runs?chain=invoices&limit=500')).body.items.length).toBe(runsBefore);
  });

  it('cancels a running replay: it stops calling the upstream and keeps what it scored', async () => {
    const res = await gw.request('POST', `/v1/datasets/${dataset.id}/replays`, { version: 'slow', concurrency: 1 });
    slow.reset();
    for (let i = 0; i < 200 && slow.calls < 2; i++) await sleep(25);
    const cancelled = await gw.request('POST', `/v1/replays/${res.body.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    const callsAtCancel = slow.calls;
    const again = await gw.request('POST', `/v1/replays/${res.body.id}/cancel`);
    expect(again.body.status).toBe('cancelled');
    await sleep(400);
    const after = await gw.request('GET', `/v1/replays/${res.body.id}`);
    expect(after.body.status).toBe('cancelled');
    expect(after.body.progress.done).toBeLessThan(reviewed);
    expect(slow.calls).toBe(callsAtCancel);
    // Cancelling a finished replay is a conflict.
    const done = await gw.request('POST', `/v1/replays/${replayA.id}/cancel`);
    expect(done.status).toBe(409);
    expect(done.body.error.code).toBe('conflict');
  });

  it('uploads JSON and JSON Lines until the first replay, exports JSON Lines that upload again', async () => {
    const created = await gw.request('POST', '/v1/datasets', { name: 'hand-kept', chain: 'invoices' });
    expect(created.body.cases).toBe(0);
    const id = created.body.id;
    const json = await gw.request('POST', `/v1/datasets/${id}/cases`, [
      { input: { n: 1, vendor: 'ACME GmbH' }, expected: { total: 10 } },
      { input: { n: 3, vendor: 'ACME GmbH' }, expected: { total: 30, vendor: 'ACME GmbH' }, trackedFields: ['total'] },
    ]);
    expect(json.status).toBe(201);
    expect(json.body.cases).toBe(2);
    const lines = [
      { input: { n: 4, vendor: 'ACME GmbH' }, expected: { vendor: 'ACME GmbH' } },
      { input: { n: 6, vendor: 'ACME GmbH' }, expected: { total: 60, date: '2026-01-31' } },
      { input: { n: 5, vendor: '[REDACTED:email]' }, expected: 'whole record' },
    ]
      .map((l) => JSON.stringify(l))
      .join('\n');
    const jsonl = await gw.request('POST', `/v1/datasets/${id}/cases`, `${lines}\n`, undefined, { 'content-type': 'application/x-ndjson' });
    expect(jsonl.status).toBe(201);
    expect(jsonl.body).toMatchObject({ cases: 5, redactedInputs: 1 });
    expect(jsonl.body.fields).toEqual(['$', 'date', 'total', 'vendor']);

    const bad = await gw.request(
      'POST',
      `/v1/datasets/${id}/cases`,
      `${JSON.stringify({ input: 1, expected: 2 })}\n{not json}\n`,
      undefined,
      { 'content-type': 'application/jsonl' },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'invalid_jsonl', details: { line: 2 } });
    const missing = await gw.request('POST', `/v1/datasets/${id}/cases`, [{ input: 1 }]);
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe('validation_failed');
    expect(missing.body.error.message).toMatch(/^body\.0\.expected/);
    expect((await gw.request('POST', `/v1/datasets/${id}/cases`, [])).status).toBe(400);

    const replay = await gw.request('POST', `/v1/datasets/${id}/replays`, { version: 'v2', repeats: 2 });
    expect(replay.status).toBe(202);
    const done = await waitForReplay(replay.body.id);
    expect(done.progress).toEqual({ done: 10, total: 10 });
    // v2 answers n = 3 and n = 6 with a wrong total; n = 4 abbreviates the vendor; the string record never matches.
    expect(done.result.overridden).toBe(2 * 4);
    expect(done.result.repeatDisagreement).toEqual({ cases: 5, disagreeing: 0, rate: 0 });
    // Repeats of a case are not new cases: the interval is that of the 5 cases (4 overridden), not of 10 results.
    expect(done.result).toMatchObject({ cases: 10, overrideRate: 0.8 });
    expect(done.result.overrideRateCI[0]).toBeCloseTo(wilsonInterval(4, 5)[0], 12);
    expect(done.result.overrideRateCI[1]).toBeCloseTo(wilsonInterval(4, 5)[1], 12);
    const locked = await gw.request('POST', `/v1/datasets/${id}/cases`, [{ input: 1, expected: 1 }]);
    expect(locked.status).toBe(409);
    expect(locked.body.error.code).toBe('dataset_immutable');

    const exported = await gw.request('GET', `/v1/datasets/${id}/export`);
    expect(exported.status).toBe(200);
    expect(exported.headers['content-type']).toMatch(/^application\/x-ndjson/);
    const exportedLines = (exported.body as string)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(exportedLines).toHaveLength(5);
    expect(exportedLines[1]).toMatchObject({ input: { n: 3 }, trackedFields: ['total'] });
    const copy = await gw.request('POST', '/v1/datasets', { name: 'copy', chain: 'invoices' });
    const reupload = await gw.request('POST', `/v1/datasets/${copy.body.id}/cases`, exported.body, undefined, {
      'content-type': 'application/x-ndjson',
    });
    expect(reupload.status).toBe(201);
    expect(reupload.body.cases).toBe(5);

    expect((await gw.request('DELETE', `/v1/datasets/${copy.body.id}`)).status).toBe(204);
    expect((await gw.request('GET', `/v1/datasets/${copy.body.id}`)).status).toBe(404);
  });

  it('a replay whose every call failed has no override rate, and its comparison says so', async () => {
    const d = await gw.request('POST', '/v1/datasets', { name: 'ten', chain: 'invoices' });
    const cases = Array.from({ length: 10 }, (_, i) => ({ input: { n: i + 1, vendor: 'ACME GmbH' }, expected: { total: (i + 1) * 10 } }));
    expect((await gw.request('POST', `/v1/datasets/${d.body.id}/cases`, cases)).status).toBe(201);
    const ok = await gw.request('POST', `/v1/datasets/${d.body.id}/replays`, { version: 'v1' });
    const failing = await gw.request('POST', `/v1/datasets/${d.body.id}/replays`, { version: 'broken' });
    await waitForReplay(ok.body.id);
    const done = await waitForReplay(failing.body.id);
    expect(done.status).toBe('done');
    expect(done.result).toMatchObject({
      cases: 10,
      errors: 10,
      errorRate: 1,
      overridden: 0,
      overrideRate: null,
      overrideRateCI: null,
      fieldOverrideRates: { total: null },
    });
    const cmp = await gw.request('GET', `/v1/replays/${ok.body.id}/compare/${failing.body.id}`);
    expect(cmp.status).toBe(200);
    expect(cmp.body).toMatchObject({
      pairs: 0,
      cases: 0,
      aOverrideRate: null,
      bOverrideRate: null,
      difference: { estimate: null, ci: [-1, 1] },
      errors: { a: 0, b: 10, both: 0 },
      warnings: ['no_pairs', 'mostly_errors'],
    });
    expect(cmp.body.byField.total).toMatchObject({ pairs: 0, aOverrideRate: null, difference: { estimate: null } });
  });

  it('replays an OpenAI prompt version through the real SDK and sums its token usage', async () => {
    const prompt = {
      version: 'prompt',
      adapter: {
        type: 'openai',
        model: 'gpt-test',
        messages: [{ role: 'user', content: 'invoice n={{input.n}}' }],
        responseFormat: { type: 'object', properties: { total: { type: 'number' } } },
      },
    };
    expect((await gw.request('POST', '/v1/chains/invoices/versions', prompt)).status).toBe(201);
    const d = await gw.request('POST', '/v1/datasets', { name: 'prompted', chain: 'invoices' });
    const cases = [1, 2, 3, 4].map((n) => ({ input: { n }, expected: { total: n === 4 ? 41 : n * 10 } }));
    expect((await gw.request('POST', `/v1/datasets/${d.body.id}/cases`, cases)).status).toBe(201);
    const r = await gw.request('POST', `/v1/datasets/${d.body.id}/replays`, { version: 'prompt' });
    const done = await waitForReplay(r.body.id);
    expect(done.result).toMatchObject({
      cases: 4,
      errors: 0,
      overridden: 1,
      usage: { promptTokens: 48, completionTokens: 20, resultsWithUsage: 4 },
    });
    expect(openai.calls).toBeGreaterThanOrEqual(4);
  });

  it("answers bad input in the contract's error format", async () => {
    const unknownId = '00000000-0000-4000-8000-000000000000';
    const notFound = await gw.request('GET', `/v1/datasets/${unknownId}`);
    expect(notFound.status).toBe(404);
    expect(notFound.body.error).toMatchObject({ code: 'not_found' });
    expect((await gw.request('GET', '/v1/datasets/not-a-uuid')).body.error.code).toBe('validation_failed');
    expect((await gw.request('POST', '/v1/datasets', { name: 'x', chain: 'nope' })).status).toBe(404);
    const badFilter = await gw.request('POST', '/v1/datasets', { name: 'x', chain: 'invoices', from: { sample: 'sometimes' } });
    expect(badFilter.status).toBe(400);
    expect(badFilter.body.error.message).toMatch(/^body\.from\.sample/);
    const range = await gw.request('POST', '/v1/datasets', {
      name: 'x',
      chain: 'invoices',
      from: { from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' },
    });
    expect(range.status).toBe(400);
    // A tenant or environment that does not exist is refused, as in a rollout stage, not an empty dataset.
    const noTenant = await gw.request('POST', '/v1/datasets', { name: 'x', chain: 'invoices', from: { tenants: ['acme', 'acme-typo'] } });
    expect(noTenant.status).toBe(400);
    expect(noTenant.body.error).toMatchObject({ code: 'unknown_tenant', details: { field: 'body.from.tenants', tenants: ['acme-typo'] } });
    const noEnvironment = await gw.request('POST', '/v1/datasets', {
      name: 'x',
      chain: 'invoices',
      from: { environments: ['production'] },
    });
    expect(noEnvironment.status).toBe(400);
    expect(noEnvironment.body.error).toMatchObject({ code: 'unknown_environment', details: { field: 'body.from.environments.0' } });
    expect((await gw.request('POST', `/v1/datasets/${dataset.id}/replays`, { version: 'v9' })).status).toBe(404);
    expect((await gw.request('POST', `/v1/datasets/${dataset.id}/replays`, { version: 'v1', concurrency: 0 })).status).toBe(400);
    expect((await gw.request('POST', `/v1/datasets/${unknownId}/replays`, { version: 'v1' })).status).toBe(404);
    const empty = await gw.request('POST', '/v1/datasets', { name: 'empty', chain: 'invoices' });
    const emptyReplay = await gw.request('POST', `/v1/datasets/${empty.body.id}/replays`, { version: 'v1' });
    expect(emptyReplay.status).toBe(409);
    expect(emptyReplay.body.error.code).toBe('dataset_empty');
    const other = await gw.request('POST', '/v1/datasets', { name: 'other', chain: 'invoices', from: { limit: 2 } });
    const otherReplay = await gw.request('POST', `/v1/datasets/${other.body.id}/replays`, { version: 'v1' });
    const mixed = await gw.request('GET', `/v1/replays/${replayA.id}/compare/${otherReplay.body.id}`);
    expect(mixed.status).toBe(400);
    expect(mixed.body.error.code).toBe('different_datasets');
    expect((await gw.request('GET', `/v1/replays/${unknownId}`)).status).toBe(404);
    expect((await gw.request('GET', `/v1/replays/${replayA.id}/cases?cursor=nonsense`)).status).toBe(400);
    // Admin only: a tenant key is 403 whatever the body.
    expect((await gw.request('GET', '/v1/datasets', undefined, acmeKey)).status).toBe(403);
    expect((await gw.request('POST', '/v1/datasets', '{not json', acmeKey)).status).toBe(403);
    expect((await gw.request('GET', `/v1/replays/${replayA.id}`, undefined, null)).status).toBe(401);
    await waitForReplay(otherReplay.body.id);
  });

  it('counts redacted inputs and never keeps PII from a redacted chain', async () => {
    expect((await gw.request('PUT', '/v1/chains/contacts', { redaction: { mode: 'patterns' } })).status).toBe(201);
    expect(
      (await gw.request('POST', '/v1/chains/contacts/versions', { version: 'v1', adapter: { type: 'http', url: up1.url } })).status,
    ).toBe(201);
    for (const vendor of ['mail ann@example.com', 'ACME GmbH']) {
      const run = await gw.request('POST', '/v1/chains/contacts/invoke', { tenant: 'acme', environment: 'prod', input: { n: 2, vendor } });
      // The human writes an e-mail address into the vendor: a correction redaction must not keep.
      expect(
        (await gw.request('POST', `/v1/runs/${run.body.runId}/feedback`, { final: { vendor: 'bob@example.com', total: 21 } })).status,
      ).toBe(200);
    }
    await gw.services().writer.flush();
    const d = await gw.request('POST', '/v1/datasets', { name: 'contacts', chain: 'contacts', from: {} });
    expect(d.body).toMatchObject({ cases: 2, redactedInputs: 1 });
    const cases = (await gw.request('GET', `/v1/datasets/${d.body.id}/cases`)).body.items;
    expect(JSON.stringify(cases)).not.toContain('example.com');
    for (const c of cases) {
      // The redacted correction is unknown: not compared, not tracked.
      expect(c.expected.total).toBe(21);
      expect(c.expected).not.toHaveProperty('vendor');
      expect(c.trackedFields).toEqual(['total']);
    }
  });

  it('erasing a tenant (GDPR) deletes the dataset cases that came from its runs, with their replay results', async () => {
    const before = (await gw.request('GET', `/v1/datasets/${dataset.id}/cases?limit=500`)).body.items;
    const globex = before.filter((c: any) => c.source.tenant === 'globex').length;
    expect(globex).toBeGreaterThan(0);
    const erasure = await gw.request('DELETE', '/v1/tenants/globex/runs');
    expect(erasure.status).toBe(202);
    let status: any;
    for (let i = 0; i < 400; i++) {
      status = (await gw.request('GET', erasure.body.statusUrl)).body;
      if (status.status !== 'running') break;
      await sleep(50);
    }
    expect(status).toMatchObject({ status: 'done', deletedDatasetCases: expect.any(Number) });
    const after = (await gw.request('GET', `/v1/datasets/${dataset.id}/cases?limit=500`)).body.items;
    expect(after).toHaveLength(before.length - globex);
    expect(after.every((c: any) => c.source.tenant === 'acme')).toBe(true);
    expect((await gw.request('GET', `/v1/datasets/${dataset.id}`)).body.cases).toBe(before.length - globex);
    const results = (await gw.request('GET', `/v1/replays/${replayA.id}/cases?limit=500`)).body.items;
    expect(results).toHaveLength(before.length - globex);
  });
});

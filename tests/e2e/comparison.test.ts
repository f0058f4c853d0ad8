/**
 * The comparison end to end through the HTTP API on PostgreSQL: a 50% unit split with upstream
 * failures and fallbacks, known feedback (some re-sent, some after a rollback), every count and
 * rate checked against an independent computation from the runs this test made, and every
 * interval against the stats module's functions on those counts; the timeseries agrees with the
 * comparison; filters; GDPR erasure; a tenant split; baselines.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateGuardrails } from '../../src/domain/guardrails/guardrail-status.js';
import type { Guardrail } from '../../src/domain/model/rollout-spec.js';
import {
  compareProportions,
  compareRatios,
  DEFAULT_DIFFERENCE_TUNING,
  differenceSequenceName,
  histogramQuantile,
  LATENCY_BUCKET_COUNT,
  latencyBucketIndex,
  sampleRatioMismatch,
  sequentialSrm,
  stratifiedInterval,
  stratifiedTwoSidedPValue,
  wilsonInterval,
} from '../../src/domain/stats/index.js';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { noPostgres, startTestGateway, type TestGateway } from '../support/gateway.js';

interface Made {
  i: number;
  runId: string;
  tenant: string;
  variant: string;
  unitKey: string;
  /** Filled after the flush, from the stored run. */
  errored?: boolean;
  fallback?: boolean;
  latencyMs?: number;
  /** The feedback that counts (the last one sent). */
  feedback?: { overridden: boolean; fields: string[] };
}

const OUTPUT = { total: 100, vendor: 'ACME GmbH', date: '2026-01-31' };

/** The arm as the contract defines it, from the runs this test made. */
function expectedArm(runs: Made[]) {
  const errors = runs.filter((r) => r.errored).length;
  const reviewed = runs.filter((r) => !r.errored && r.feedback);
  const overridden = reviewed.filter((r) => r.feedback!.overridden).length;
  const fields: Record<string, number> = {};
  for (const r of reviewed) for (const f of r.feedback!.fields) fields[f] = (fields[f] ?? 0) + 1;
  const hist = new Array<number>(LATENCY_BUCKET_COUNT).fill(0);
  for (const r of runs) hist[latencyBucketIndex(r.latencyMs!)]! += 1;
  return {
    runs: runs.length,
    errors,
    fallbacks: runs.filter((r) => r.fallback).length,
    reviewed: reviewed.length,
    overridden,
    fields,
    hist,
    answered: runs.length - errors,
  };
}

type Expected = ReturnType<typeof expectedArm>;

function checkArm(actual: any, e: Expected, version: string, fieldNames: string[]): void {
  expect(actual).toMatchObject({
    version,
    runs: e.runs,
    errors: e.errors,
    fallbacks: e.fallbacks,
    reviewed: e.reviewed,
    overridden: e.overridden,
  });
  expect(actual.errorRate).toBe(e.runs ? e.errors / e.runs : 0);
  expect(actual.reviewRate).toBe(e.answered ? e.reviewed / e.answered : 0);
  expect(actual.overrideRate).toBe(e.reviewed ? e.overridden / e.reviewed : 0);
  expect(actual.overrideRateCI).toEqual([...wilsonInterval(e.overridden, e.reviewed)]);
  expect(Object.keys(actual.fieldOverrideRates).sort()).toEqual([...fieldNames].sort());
  for (const f of fieldNames) expect(actual.fieldOverrideRates[f]).toBe(e.reviewed ? (e.fields[f] ?? 0) / e.reviewed : 0);
  expect(actual.latencyMs).toEqual({
    p50: histogramQuantile(e.hist, 0.5) ?? null,
    p95: histogramQuantile(e.hist, 0.95) ?? null,
    p99: histogramQuantile(e.hist, 0.99) ?? null,
  });
}

/** One stratum at `share`: fixed-sample figures from compareProportions, always-valid ones from the finite-sample sequence. */
function checkDifference(actual: any, cand: { x: number; n: number }, ctrl: { x: number; n: number }, alpha = 0.05, share = 0.5): void {
  const d = compareProportions(cand, ctrl, { alpha });
  expect(actual.estimate).toBe(d.estimate);
  expect(actual.ci).toEqual([...d.ci]);
  expect(actual.pValue).toBe(d.pValue);
  const seq = [{ share, candidate: cand, control: ctrl }];
  const design = { tuning: DEFAULT_DIFFERENCE_TUNING, center: 0, plannedStrata: 1 };
  expect(actual.alwaysValidCI).toEqual([...stratifiedInterval(seq, alpha, design)]);
  expect(actual.alwaysValidPValue).toBe(stratifiedTwoSidedPValue(seq, design));
  expect(actual.method).toBe(differenceSequenceName({ share, tuning: DEFAULT_DIFFERENCE_TUNING, center: 0 }));
}

const fieldsOf = (...arms: Expected[]) => [...new Set(arms.flatMap((a) => Object.keys(a.fields)))].sort();
const sumTimeseries = (points: any[], arm: string, key: string) => points.filter((p) => p.arm === arm).reduce((n, p) => n + p[key], 0);

describe.skipIf(noPostgres)('comparison on PostgreSQL', () => {
  let gw: TestGateway;
  let v1: FakeUpstream;
  let v2: FakeUpstream;
  let unitRollout: string;
  const made: Made[] = [];

  const invoke = (chain: string, tenant: string, environment: string, unit?: string) =>
    gw.request('POST', `/v1/chains/${chain}/invoke`, { tenant, environment, input: { doc: 1 }, ...(unit ? { unit } : {}) });
  const feedback = (runId: string, final: Record<string, unknown>) => gw.request('POST', `/v1/runs/${runId}/feedback`, { final });
  const flush = () => gw.gateway.services.writer.flush();
  const compare = async (id: string, query = '') => {
    const res = await gw.request('GET', `/v1/rollouts/${id}/comparison${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  };

  /** Errors, fallbacks and exact stored latencies, read from the runs table itself. */
  async function fillFromDatabase(runs: Made[]): Promise<void> {
    const result = await gw.gateway.database.db.execute(
      sql`SELECT id, (error IS NOT NULL) AS errored, fallback, latency_ms::float8 AS latency FROM runs WHERE id = ANY(${sql.param(runs.map((r) => r.runId))}::uuid[])`,
    );
    const rows = (result as { rows: { id: string; errored: boolean; fallback: boolean; latency: number }[] }).rows;
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const r of runs) {
      const row = byId.get(r.runId)!;
      r.errored = row.errored;
      r.fallback = row.fallback;
      r.latencyMs = Number(row.latency);
    }
  }

  beforeAll(async () => {
    v1 = await startFakeUpstream({ behaviour: { output: () => OUTPUT } });
    v2 = await startFakeUpstream({ behaviour: { output: () => OUTPUT } });
    gw = await startTestGateway();
    for (const t of ['acme', 'globex', 'initech', ...Array.from({ length: 12 }, (_, i) => `t${String(i).padStart(2, '0')}`)]) {
      expect((await gw.request('PUT', `/v1/tenants/${t}`, {})).status).toBeLessThan(300);
    }
    for (const chain of ['invoices', 'claims', 'memos', 'notes']) {
      await gw.request('PUT', `/v1/chains/${chain}`, {});
      expect(
        (await gw.request('POST', `/v1/chains/${chain}/versions`, { version: 'v1', adapter: { type: 'http', url: v1.url } })).status,
      ).toBe(201);
      expect(
        (await gw.request('POST', `/v1/chains/${chain}/versions`, { version: 'v2', adapter: { type: 'http', url: v2.url } })).status,
      ).toBe(201);
    }
  });
  afterAll(async () => {
    await gw?.close();
    await v1?.close();
    await v2?.close();
  });

  const guardrails: Guardrail[] = [
    { metric: 'override_rate', maxIncrease: 0.05, minSamples: 30 },
    { metric: 'error_rate', max: 0.5, maxIncrease: 0.2, minSamples: 10 },
    { metric: 'latency_p95_ms', max: 10_000, minSamples: 10 },
  ];

  it('runs a 50% unit split with failures, fallbacks and known feedback', async () => {
    const res = await gw.request('POST', '/v1/rollouts', {
      chain: 'invoices',
      control: 'v1',
      candidate: 'v2',
      stages: [{ environments: ['prod'], tenants: ['acme', 'globex'], percent: 50, splitBy: 'unit' }],
      guardrails,
      fallbackToControl: true,
    });
    expect(res.status).toBe(201);
    unitRollout = res.body.id;

    const candidateFails = new Set([3, 11, 25, 40, 77, 101, 130]);
    const controlFails = new Set([8, 21, 50, 90, 140]);
    const bothFail = new Set([13, 99]);
    for (let i = 0; i < 160; i++) {
      const tenant = i % 2 === 0 ? 'acme' : 'globex';
      const unit = `doc-${i % 120}`; // 40 units come back: sticky, and counted once for SRM
      v1.setBehaviour(controlFails.has(i) || bothFail.has(i) ? { status: 500 } : { output: () => OUTPUT });
      v2.setBehaviour(candidateFails.has(i) || bothFail.has(i) ? { status: 500 } : { output: () => OUTPUT });
      const r = await invoke('invoices', tenant, 'prod', unit);
      expect([200, 502]).toContain(r.status);
      made.push({ i, runId: r.body.runId, tenant, variant: r.body.variant ?? 'unknown', unitKey: `${tenant}/${unit}` });
      // Some feedback right away: it may reach the database in the same batch as its run.
      if (i % 9 === 2 && r.status === 200) {
        expect((await feedback(r.body.runId, { total: 7 })).status).toBe(200);
        made[made.length - 1]!.feedback = { overridden: true, fields: ['total'] };
      }
    }
    // Arms are drawn at random: make sure each kind of failure hit its arm at least once.
    let i = 160;
    const until = async (failing: FakeUpstream, seen: (r: { status: number; body: any }) => boolean) => {
      v1.setBehaviour(failing === v1 ? { status: 500 } : { output: () => OUTPUT });
      v2.setBehaviour(failing === v2 ? { status: 500 } : { output: () => OUTPUT });
      for (; i < 260; i++) {
        const tenant = i % 2 === 0 ? 'acme' : 'globex';
        const r = await invoke('invoices', tenant, 'prod', `doc-${i}`);
        made.push({ i, runId: r.body.runId, tenant, variant: 'unknown', unitKey: `${tenant}/doc-${i}` });
        if (seen(r)) return void i++;
      }
    };
    await until(v2, (r) => r.status === 200 && r.body.variant === 'candidate' && r.body.version === 'v1'); // a fallback
    await until(v1, (r) => r.status === 502); // a control error (the candidate would have answered)
    v1.setBehaviour({ output: () => OUTPUT });
    v2.setBehaviour({ output: () => OUTPUT });
    await flush();
    await fillFromDatabase(made);
    // The variant of an errored call is on its run.
    const rows = (await gw.gateway.database.db.execute(sql`SELECT id, variant FROM runs WHERE rollout_id = ${unitRollout}`)) as unknown as {
      rows: { id: string; variant: string }[];
    };
    const variants = new Map(rows.rows.map((r) => [r.id, r.variant]));
    for (const m of made) m.variant = variants.get(m.runId)!;
    expect(new Set(made.map((m) => m.variant))).toEqual(new Set(['control', 'candidate']));
    expect(made.some((m) => m.fallback)).toBe(true);
    expect(made.some((m) => m.errored && !m.fallback && m.variant === 'control')).toBe(true);

    for (const m of made) {
      if (m.i % 4 === 3 || m.i % 9 === 2) continue;
      const fields = m.i % 5 === 0 ? ['total'] : m.i % 7 === 0 ? ['total', 'vendor'] : m.i % 11 === 0 ? ['date'] : [];
      const final: Record<string, unknown> = { ...OUTPUT };
      if (fields.includes('total')) final.total = 1;
      if (fields.includes('vendor')) final.vendor = 'Other';
      if (fields.includes('date')) final.date = null;
      if (m.i % 10 === 1) await feedback(m.runId, { total: 5, vendor: 'x' }); // replaced below
      const fb = await feedback(m.runId, final);
      if (m.errored && !m.fallback) {
        expect(fb.status).toBe(409); // no output: nothing to review
        continue;
      }
      expect(fb.status).toBe(200);
      expect(fb.body.fields).toEqual(fields);
      if (m.i % 6 === 0) expect((await feedback(m.runId, final)).status).toBe(200); // re-sent: counted once
      m.feedback = { overridden: fields.length > 0, fields };
    }
    await flush();
  });

  it('counts every arm exactly and computes the statistics from those counts', async () => {
    const body = await compare(unitRollout);
    const cand = expectedArm(made.filter((m) => m.variant === 'candidate'));
    const ctrl = expectedArm(made.filter((m) => m.variant === 'control'));
    const fields = fieldsOf(cand, ctrl);
    expect(body).toMatchObject({ rolloutId: unitRollout, chain: 'invoices', analysisUnit: 'run', controlArm: 'randomized', alpha: 0.05 });
    expect(body.window.granularity).toBe('rollout');
    checkArm(body.arms.candidate, cand, 'v2', fields);
    checkArm(body.arms.control, ctrl, 'v1', fields);
    expect(cand.fallbacks).toBeGreaterThan(0);
    expect(body.arms.candidate.errors).toBeGreaterThanOrEqual(body.arms.candidate.fallbacks);
    checkDifference(body.difference.overrideRate, { x: cand.overridden, n: cand.reviewed }, { x: ctrl.overridden, n: ctrl.reviewed });
    checkDifference(body.difference.errorRate, { x: cand.errors, n: cand.runs }, { x: ctrl.errors, n: ctrl.runs });

    const keys = (variant: string) => new Set(made.filter((m) => m.variant === variant).map((m) => m.unitKey)).size;
    const srm = sampleRatioMismatch([{ expectedCandidateShare: 0.5, candidate: keys('candidate'), control: keys('control') }]);
    const seqSrm = sequentialSrm([{ share: 0.5, candidate: keys('candidate'), control: keys('control') }]);
    // The sequential per-stage test decides; sticky assignment: no key in both arms.
    expect(body.srm).toMatchObject({ pValue: seqSrm.pValue, mismatch: seqSrm.mismatch, keysInBothArms: 0, chiSquare: srm.chiSquare });
    expect(body.srm).toMatchObject({ expectedCandidateShare: 0.5, observedCandidateShare: srm.observedCandidateShare });
    expect(body.srm.keys).toEqual({ control: keys('control'), candidate: keys('candidate') });

    // Fewer than 100 reviewed runs per arm.
    expect(cand.reviewed).toBeLessThan(100);
    expect(body.verdict).toBe('insufficient_data');

    expect(body.byStage).toHaveLength(1);
    expect(body.byStage[0]).toMatchObject({
      stage: 0,
      percent: 50,
      splitBy: 'unit',
      controlArm: 'randomized',
      analysisUnit: 'run',
      verdict: 'insufficient_data',
    });
    checkArm(body.byStage[0].arms.candidate, cand, 'v2', fields);

    for (const tenant of ['acme', 'globex']) {
      const row = body.byTenant.find((t: any) => t.tenant === tenant);
      const tc = expectedArm(made.filter((m) => m.variant === 'candidate' && m.tenant === tenant));
      const tt = expectedArm(made.filter((m) => m.variant === 'control' && m.tenant === tenant));
      checkArm(row.arms.candidate, tc, 'v2', fieldsOf(tc, tt));
      checkArm(row.arms.control, tt, 'v1', fieldsOf(tc, tt));
    }
    expect(body.byEnvironment.map((e: any) => e.environment)).toEqual(['prod']);

    // Guardrails: the pure policy on the same counts, the one randomized stage as the stratum.
    const inputs = {
      controlArm: 'randomized' as const,
      plannedStrata: 1,
      strata: [
        {
          stage: 0,
          share: 0.5,
          control: { runs: ctrl.runs, errors: ctrl.errors, reviewed: ctrl.reviewed, overridden: ctrl.overridden, latencyHist: ctrl.hist },
          candidate: { runs: cand.runs, errors: cand.errors, reviewed: cand.reviewed, overridden: cand.overridden, latencyHist: cand.hist },
        },
      ],
    };
    expect(body.guardrails).toEqual(JSON.parse(JSON.stringify(evaluateGuardrails(guardrails, inputs, 0.05))));
    expect(body.guardrails.map((g: any) => `${g.metric}:${g.limit}`)).toEqual([
      'override_rate:maxIncrease',
      'error_rate:max',
      'error_rate:maxIncrease',
      'latency_p95_ms:max',
    ]);
    const inputsFromService = await gw.gateway.services.comparison.guardrailInputs(unitRollout);
    expect(inputsFromService.strata).toHaveLength(1);
    expect(inputsFromService.strata[0]!.candidate).toMatchObject({
      runs: cand.runs,
      errors: cand.errors,
      reviewed: cand.reviewed,
      overridden: cand.overridden,
    });
  });

  it("answers the timeseries with the comparison's totals at every bucket size", async () => {
    const body = await compare(unitRollout);
    for (const bucket of ['minute', 'hour', 'day']) {
      const res = await gw.request('GET', `/v1/rollouts/${unitRollout}/timeseries?bucket=${bucket}`);
      expect(res.status).toBe(200);
      expect(res.body.bucket).toBe(bucket);
      for (const arm of ['control', 'candidate']) {
        for (const key of ['runs', 'reviewed', 'overridden', 'errors']) {
          expect(sumTimeseries(res.body.points, arm, key), `${bucket} ${arm} ${key}`).toBe(body.arms[arm][key]);
        }
      }
      for (const p of res.body.points) expect(p.latencyP95Ms).toBeGreaterThan(0);
    }
    const day = await gw.request('GET', `/v1/rollouts/${unitRollout}/timeseries?bucket=day`);
    const cand = expectedArm(made.filter((m) => m.variant === 'candidate'));
    if (day.body.points.length === 2) expect(day.body.points[1].latencyP95Ms).toBe(histogramQuantile(cand.hist, 0.95));
    expect((await gw.request('GET', `/v1/rollouts/${unitRollout}/timeseries?bucket=week`)).status).toBe(400);
  });

  it('filters by tenant, environment, stage and an hour window', async () => {
    const acme = await compare(unitRollout, '?tenant=acme');
    const cand = expectedArm(made.filter((m) => m.variant === 'candidate' && m.tenant === 'acme'));
    const ctrl = expectedArm(made.filter((m) => m.variant === 'control' && m.tenant === 'acme'));
    checkArm(acme.arms.candidate, cand, 'v2', fieldsOf(cand, ctrl));
    checkArm(acme.arms.control, ctrl, 'v1', fieldsOf(cand, ctrl));
    expect(acme.byTenant.map((t: any) => t.tenant)).toEqual(['acme']);

    const none = await compare(unitRollout, '?environment=staging');
    expect(none.arms.candidate.runs + none.arms.control.runs).toBe(0);
    expect(none.verdict).toBe('insufficient_data');
    // A name the chain does not have is a typo, not an environment without runs.
    const typo = await gw.request('GET', `/v1/rollouts/${unitRollout}/comparison?environment=production`);
    expect(typo.status).toBe(400);
    expect(typo.body.error).toMatchObject({ code: 'unknown_environment', details: { field: 'query.environment' } });

    const all = await compare(unitRollout);
    const from = new Date(Date.now() - 90 * 60_000).toISOString();
    const to = new Date(Date.now() + 5 * 60_000).toISOString();
    const windowed = await compare(unitRollout, `?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&stage=0`);
    expect(windowed.window.granularity).toBe('hour');
    expect(new Date(windowed.window.from).getUTCMinutes()).toBe(0);
    expect(new Date(windowed.window.to).getUTCMinutes()).toBe(0);
    expect(windowed.warnings).toContain('window_widened_to_hours');
    expect(windowed.arms).toEqual(all.arms);
    const past = await compare(unitRollout, `?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z`);
    expect(past.arms.candidate.runs).toBe(0);

    expect((await gw.request('GET', `/v1/rollouts/${unitRollout}/comparison?stage=3`)).status).toBe(400);
    expect((await gw.request('GET', `/v1/rollouts/${unitRollout}/comparison?from=yesterday`)).status).toBe(400);
    expect((await gw.request('GET', `/v1/rollouts/00000000-0000-4000-8000-000000000000/comparison`)).status).toBe(404);
    const key = (await gw.request('POST', '/v1/tenants/acme/keys', {})).body.key;
    expect((await gw.request('GET', `/v1/rollouts/${unitRollout}/comparison`, undefined, key)).status).toBe(403);
    const doc = await gw.request('GET', '/openapi.json', undefined, null);
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/v1/rollouts/{id}/comparison', '/v1/rollouts/{id}/timeseries']));
  });

  it("counts feedback that arrives after a rollback in its run's arm", async () => {
    expect((await gw.request('POST', `/v1/rollouts/${unitRollout}/rollback`, { reason: 'test' })).status).toBe(200);
    const late = made.filter((m) => !m.errored && !m.feedback).slice(0, 12);
    expect(late.some((m) => m.variant === 'candidate')).toBe(true);
    for (const m of late) {
      expect((await feedback(m.runId, { vendor: 'Late AG' })).status).toBe(200);
      m.feedback = { overridden: true, fields: ['vendor'] };
    }
    await flush();
    const body = await compare(unitRollout);
    const cand = expectedArm(made.filter((m) => m.variant === 'candidate'));
    const ctrl = expectedArm(made.filter((m) => m.variant === 'control'));
    checkArm(body.arms.candidate, cand, 'v2', fieldsOf(cand, ctrl));
    checkArm(body.arms.control, ctrl, 'v1', fieldsOf(cand, ctrl));
    // After the rollback, calls are default traffic: not in the rollout's arms.
    expect((await invoke('invoices', 'acme', 'prod', 'doc-1')).body.variant).toBe('default');
    await flush();
    expect((await compare(unitRollout)).arms.candidate.runs).toBe(cand.runs);
  });

  it('analyses a tenant split per tenant (delta method) and withholds significance below 10 tenants', async () => {
    const tenants = Array.from({ length: 12 }, (_, i) => `t${String(i).padStart(2, '0')}`);
    const res = await gw.request('POST', '/v1/rollouts', {
      chain: 'claims',
      control: 'v1',
      candidate: 'v2',
      stages: [{ environments: ['prod'], tenants, percent: 50 }],
    });
    expect(res.status).toBe(201);
    const id = res.body.id;
    const runs: Made[] = [];
    for (const [ti, tenant] of tenants.entries()) {
      for (let k = 0; k < 3 + ti; k++) {
        const r = await invoke('claims', tenant, 'prod', `u${k}`);
        expect(r.status).toBe(200);
        const overridden = (ti + k) % 3 === 0;
        expect((await feedback(r.body.runId, overridden ? { total: 1 } : {})).status).toBe(200);
        runs.push({
          i: k,
          runId: r.body.runId,
          tenant,
          variant: r.body.variant,
          unitKey: tenant,
          feedback: { overridden, fields: overridden ? ['total'] : [] },
        });
      }
    }
    await flush();
    await fillFromDatabase(runs);
    const body = await compare(id);
    expect(body.analysisUnit).toBe('tenant');
    const arms = { candidate: runs.filter((r) => r.variant === 'candidate'), control: runs.filter((r) => r.variant === 'control') };
    const cand = expectedArm(arms.candidate);
    const ctrl = expectedArm(arms.control);
    checkArm(body.arms.candidate, cand, 'v2', fieldsOf(cand, ctrl));
    checkArm(body.arms.control, ctrl, 'v1', fieldsOf(cand, ctrl));
    const clusters = (list: Made[]) =>
      [...new Set(list.map((r) => r.tenant))].map((t) => {
        const e = expectedArm(list.filter((r) => r.tenant === t));
        return { num: e.overridden, den: e.reviewed };
      });
    const { candidate: _c, control: _t, ...d } = compareRatios(clusters(arms.candidate), clusters(arms.control), { alpha: 0.05 });
    // Fixed-sample figures per tenant as before; the always-valid ones tenant-level (CR2, one cluster per tenant).
    expect(body.difference.overrideRate).toMatchObject({ estimate: d.estimate, ci: [...d.ci], pValue: d.pValue });
    expect(body.difference.overrideRate.method).toMatch(/^tenant-cluster:cr2/);
    // Twelve tenants split in two: fewer than ten per arm.
    expect(body.warnings).toContain('too_few_tenants');
    expect(body.verdict).toBe('insufficient_data');
    const tenantsPer = (v: string) => new Set(runs.filter((r) => r.variant === v).map((r) => r.tenant)).size;
    expect(body.srm.keys).toEqual({ control: tenantsPer('control'), candidate: tenantsPer('candidate') });
    // A tenant sits in one arm: its own difference is uninformative.
    for (const row of body.byTenant) expect(row.arms.candidate.runs === 0 || row.arms.control.runs === 0).toBe(true);
  });

  it("compares a 100% stage with the same tenants' earlier traffic (baseline) and never claims a winner", async () => {
    const before: Made[] = [];
    for (let k = 0; k < 110; k++) {
      const r = await invoke('memos', 'acme', 'prod');
      expect(r.body.variant).toBe('default');
      const overridden = k % 10 === 0;
      await feedback(r.body.runId, overridden ? { total: 1 } : {});
      before.push({
        i: k,
        runId: r.body.runId,
        tenant: 'acme',
        variant: 'default',
        unitKey: 'acme',
        feedback: { overridden, fields: overridden ? ['total'] : [] },
      });
    }
    // Other tenants' default traffic and other environments are not the same tenants' baseline.
    await invoke('memos', 'globex', 'prod');
    await invoke('memos', 'acme', 'staging');
    const res = await gw.request('POST', '/v1/rollouts', {
      chain: 'memos',
      control: 'v1',
      candidate: 'v2',
      stages: [{ environments: ['prod'], tenants: ['acme'], percent: 100 }],
      guardrails: [{ metric: 'override_rate', maxIncrease: 0.05, minSamples: 100 }],
    });
    expect(res.status).toBe(201);
    const id = res.body.id;
    const after: Made[] = [];
    for (let k = 0; k < 110; k++) {
      const r = await invoke('memos', 'acme', 'prod');
      expect(r.body.variant).toBe('candidate');
      const overridden = k % 2 === 0;
      after.push({
        i: k,
        runId: r.body.runId,
        tenant: 'acme',
        variant: 'candidate',
        unitKey: 'acme',
        feedback: { overridden, fields: overridden ? ['total'] : [] },
      });
    }
    // Reviews come after the calls: the guardrail job may roll the candidate back once they
    // land (the breach below is real), which changes nothing of what is compared.
    for (const m of after) expect((await feedback(m.runId, m.feedback!.overridden ? { total: 1 } : {})).status).toBe(200);
    await flush();
    await fillFromDatabase([...before, ...after]);
    const body = await compare(id);
    expect(body.controlArm).toBe('baseline');
    expect(body.baseline.kind).toBe('same_tenants_before');
    expect(body.warnings).toEqual(expect.arrayContaining(['baseline_observational', 'baseline_same_tenants_before']));
    const cand = expectedArm(after);
    const ctrl = expectedArm(before);
    checkArm(body.arms.candidate, cand, 'v2', ['total']);
    checkArm(body.arms.control, ctrl, 'v1', ['total']);
    checkDifference(body.difference.overrideRate, { x: cand.overridden, n: cand.reviewed }, { x: ctrl.overridden, n: ctrl.reviewed });
    // 50% against 10% overrides would be "worse" with a randomized control; a baseline never says so.
    expect(body.difference.overrideRate.alwaysValidCI[0]).toBeGreaterThan(0);
    expect(body.verdict).toBe('no_significant_difference');
    expect(body.byStage[0]).toMatchObject({ controlArm: 'baseline', verdict: 'no_significant_difference' });
    // Guardrails still act on the baseline.
    expect(body.guardrails[0]).toMatchObject({ metric: 'override_rate', controlArm: 'baseline', status: 'breached' });
    const inputs = await gw.gateway.services.comparison.guardrailInputs(id);
    expect(inputs).toMatchObject({ controlArm: 'baseline', plannedStrata: 1 });
    expect(inputs.strata[0]!.control).toMatchObject({ runs: ctrl.runs, reviewed: ctrl.reviewed, overridden: ctrl.overridden });
    const rollout = await gw.gateway.services.rollouts.get(id);
    const evaluation = await gw.gateway.services.comparison.evaluateGuardrails(rollout);
    expect(evaluation.samples).toEqual({ control: ctrl.reviewed, candidate: cand.reviewed });
    expect(evaluation.guardrails[0]!.status).toBe('breached');
  });

  it("falls back to other tenants' concurrent default traffic when the same tenants have too little", async () => {
    for (let k = 0; k < 3; k++) await feedback((await invoke('notes', 'acme', 'prod')).body.runId, {});
    const res = await gw.request('POST', '/v1/rollouts', {
      chain: 'notes',
      control: 'v1',
      candidate: 'v2',
      stages: [{ environments: ['prod'], tenants: ['acme'], percent: 100 }],
    });
    const id = res.body.id;
    const others: Made[] = [];
    for (let k = 0; k < 20; k++) {
      const tenant = k % 2 ? 'globex' : 'initech';
      const r = await invoke('notes', tenant, 'prod');
      expect(r.body.variant).toBe('default');
      const overridden = k % 4 === 0;
      await feedback(r.body.runId, overridden ? { vendor: 'x' } : {});
      others.push({
        i: k,
        runId: r.body.runId,
        tenant,
        variant: 'default',
        unitKey: tenant,
        feedback: { overridden, fields: overridden ? ['vendor'] : [] },
      });
    }
    await invoke('notes', 'globex', 'staging'); // another environment
    for (let k = 0; k < 5; k++) await invoke('notes', 'acme', 'prod');
    await flush();
    await fillFromDatabase(others);
    const body = await compare(id);
    expect(body.controlArm).toBe('baseline');
    expect(body.baseline.kind).toBe('other_tenants_concurrent');
    expect(body.warnings).toEqual(expect.arrayContaining(['baseline_observational', 'baseline_other_tenants']));
    checkArm(body.arms.control, expectedArm(others), 'v1', ['vendor']);
    expect(body.arms.candidate.runs).toBe(5);
    expect(body.verdict).toBe('insufficient_data');
    expect(body.byEnvironment.map((e: any) => e.environment)).toEqual(['prod']);
  });

  it('erases a tenant from every aggregate (GDPR)', async () => {
    const res = await gw.request('DELETE', '/v1/tenants/globex/runs');
    expect(res.status).toBe(202);
    let status = 'running';
    for (let i = 0; i < 100 && status === 'running'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      status = (await gw.request('GET', res.body.statusUrl)).body.status;
    }
    expect(status).toBe('done');
    const left = made.filter((m) => m.tenant !== 'globex');
    const body = await compare(unitRollout);
    const cand = expectedArm(left.filter((m) => m.variant === 'candidate'));
    const ctrl = expectedArm(left.filter((m) => m.variant === 'control'));
    checkArm(body.arms.candidate, cand, 'v2', fieldsOf(cand, ctrl));
    checkArm(body.arms.control, ctrl, 'v1', fieldsOf(cand, ctrl));
    expect(body.byTenant.map((t: any) => t.tenant)).toEqual(['acme']);
    const keys = (variant: string) => new Set(left.filter((m) => m.variant === variant).map((m) => m.unitKey)).size;
    expect(body.srm.keys).toEqual({ control: keys('control'), candidate: keys('candidate') });
    const ts = await gw.request('GET', `/v1/rollouts/${unitRollout}/timeseries?bucket=minute`);
    for (const arm of ['control', 'candidate'])
      for (const key of ['runs', 'reviewed', 'overridden', 'errors'])
        expect(sumTimeseries(ts.body.points, arm, key)).toBe(body.arms[arm][key]);
    const inputs = await gw.gateway.services.comparison.guardrailInputs(unitRollout);
    expect(inputs.strata[0]!.candidate.latencyHist).toEqual(cand.hist);
    const windowed = await compare(unitRollout, `?from=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}`);
    expect(windowed.arms).toEqual(body.arms);
  });

  it('keeps all-time totals through retention while the time buckets go with their runs', async () => {
    const before = await compare(unitRollout);
    const deleted = await gw.gateway.services.runStore.deleteOlderThan(new Date(Date.now() + 2 * 3_600_000));
    expect(deleted).toBeGreaterThan(0);
    const after = await compare(unitRollout);
    expect(after.arms).toEqual(before.arms);
    expect(after.srm).toEqual(before.srm);
    const ts = await gw.request('GET', `/v1/rollouts/${unitRollout}/timeseries?bucket=hour`);
    expect(ts.body.points).toEqual([]);
    const windowed = await compare(unitRollout, `?from=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}`);
    expect(windowed.arms.candidate.runs).toBe(0);
  });
});

describe.skipIf(process.env.CC_SKIP_PGLITE)('comparison on embedded PGlite', () => {
  let gw: TestGateway;
  let v1: FakeUpstream;
  let v2: FakeUpstream;
  beforeAll(async () => {
    v1 = await startFakeUpstream({ behaviour: { output: () => OUTPUT } });
    v2 = await startFakeUpstream({ behaviour: { output: () => OUTPUT } });
    gw = await startTestGateway({ storage: 'pglite' });
  });
  afterAll(async () => {
    await gw?.close();
    await v1?.close();
    await v2?.close();
  });

  it('keeps the same aggregates, timeseries and erasure', async () => {
    for (const t of ['acme', 'globex']) await gw.request('PUT', `/v1/tenants/${t}`, {});
    await gw.request('PUT', '/v1/chains/invoices', {});
    await gw.request('POST', '/v1/chains/invoices/versions', { version: 'v1', adapter: { type: 'http', url: v1.url } });
    await gw.request('POST', '/v1/chains/invoices/versions', { version: 'v2', adapter: { type: 'http', url: v2.url } });
    const id = (
      await gw.request('POST', '/v1/rollouts', {
        chain: 'invoices',
        control: 'v1',
        candidate: 'v2',
        stages: [{ environments: ['prod'], percent: 50, splitBy: 'unit' }],
      })
    ).body.id;
    const made: { runId: string; tenant: string; variant: string; errored: boolean; overridden?: boolean }[] = [];
    for (let i = 0; i < 40; i++) {
      const tenant = i % 3 ? 'acme' : 'globex';
      const r = await gw.request('POST', '/v1/chains/invoices/invoke', { tenant, environment: 'prod', input: {}, unit: `u${i}` });
      const m = { runId: r.body.runId, tenant, variant: r.body.variant, errored: r.status !== 200 };
      if (!m.errored && i % 4 !== 0) {
        await gw.request('POST', `/v1/runs/${m.runId}/feedback`, { final: i % 2 ? { total: 3 } : {} });
        made.push({ ...m, overridden: i % 2 === 1 });
      } else made.push(m);
    }
    // Candidate failures (without fallbackToControl, a 502): call until the candidate took one.
    v2.setBehaviour({ status: 500 });
    for (let i = 100; i < 200; i++) {
      const r = await gw.request('POST', '/v1/chains/invoices/invoke', { tenant: 'acme', environment: 'prod', input: {}, unit: `u${i}` });
      made.push({ runId: r.body.runId, tenant: 'acme', variant: r.body.variant, errored: r.status !== 200 });
      if (r.status !== 200) break;
    }
    v2.setBehaviour({ output: () => OUTPUT });
    await gw.gateway.services.writer.flush();
    // A 502 answer names no variant: the stored run does.
    for (const m of made) if (m.errored) m.variant = (await gw.request('GET', `/v1/runs/${m.runId}`)).body.variant;
    expect(made.some((m) => m.errored && m.variant === 'candidate')).toBe(true);
    const check = async (runs: typeof made) => {
      const body = (await gw.request('GET', `/v1/rollouts/${id}/comparison`)).body;
      const ts = (await gw.request('GET', `/v1/rollouts/${id}/timeseries?bucket=minute`)).body;
      for (const arm of ['control', 'candidate']) {
        const mine = runs.filter((r) => r.variant === arm);
        expect(body.arms[arm]).toMatchObject({
          runs: mine.length,
          errors: mine.filter((r) => r.errored).length,
          reviewed: mine.filter((r) => r.overridden !== undefined).length,
          overridden: mine.filter((r) => r.overridden).length,
        });
        for (const key of ['runs', 'reviewed', 'overridden', 'errors'])
          expect(sumTimeseries(ts.points, arm, key)).toBe(body.arms[arm][key]);
      }
    };
    await check(made);
    const erase = await gw.request('DELETE', '/v1/tenants/globex/runs');
    for (let i = 0; i < 200 && (await gw.request('GET', erase.body.statusUrl)).body.status === 'running'; i++)
      await new Promise((r) => setTimeout(r, 20));
    await check(made.filter((m) => m.tenant !== 'globex'));
  });
});

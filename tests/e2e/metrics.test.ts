/**
 * GET /metrics: the Prometheus text after real traffic through the gateway: counters with the
 * right values per chain, version and variant, histograms, state gauges, process metrics, and
 * nothing that names a tenant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { noPostgres, startTestGateway, type TestGateway } from '../support/gateway.js';

/** The value of one sample line, by metric name and exact label set (in any order). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) got[k!] = v!;
    const want = Object.entries(labels);
    if (want.length === Object.keys(got).length && want.every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

const TENANT = 'tenant-zebra-7781';
const OTHER = 'globex-secret-4410';

describe('Prometheus metrics', () => {
  let gw: TestGateway;
  let upstream: FakeUpstream;
  let key: string;
  let rolloutId: string;
  const chain = 'invoice-extraction';
  const v1 = { chain, version: 'v1', variant: 'default' };

  const scrape = async (): Promise<string> => {
    const res = await gw.request('GET', '/metrics', undefined, null);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return res.body as string;
  };
  const invoke = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    gw.request('POST', `/v1/chains/${chain}/invoke`, { environment: 'prod', ...body }, key, headers);

  beforeAll(async () => {
    upstream = await startFakeUpstream({ behaviour: { output: () => ({ total: 42, vendor: 'ACME GmbH' }) } });
    gw = await startTestGateway({ storage: noPostgres ? 'pglite' : 'postgres' });
    expect((await gw.request('PUT', `/v1/tenants/${TENANT}`, { name: 'Zebra Holdings' })).status).toBe(201);
    expect((await gw.request('PUT', `/v1/tenants/${OTHER}`, {})).status).toBe(201);
    key = (await gw.request('POST', `/v1/tenants/${TENANT}/keys`, { name: 'metrics-test' })).body.key;
    expect((await gw.request('PUT', `/v1/chains/${chain}`, {})).status).toBe(201);
    for (const version of ['v1', 'v2']) {
      expect(
        (
          await gw.request('POST', `/v1/chains/${chain}/versions`, {
            version,
            adapter: { type: 'http', url: upstream.url, timeoutMs: 2000 },
          })
        ).status,
      ).toBe(201);
    }
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it('is public and starts with process metrics and no chain series', async () => {
    const text = await scrape();
    expect(sample(text, 'chain_canary_calls_total', v1)).toBeUndefined();
    expect(text).toContain('# TYPE chain_canary_calls_total counter');
    expect(text).toContain('# TYPE chain_canary_call_duration_seconds histogram');
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(sample(text, 'chain_canary_run_backlog')).toBeGreaterThanOrEqual(0);
  });

  it('counts calls, errors, latency, feedback and overrides per chain, version and variant', async () => {
    const runIds: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await invoke({ input: { doc: `secret-input-${i}` }, externalId: `EXT-SECRET-${i}`, unit: `unit-secret-${i}` });
      expect(res.status).toBe(200);
      runIds.push(res.body.runId);
    }
    // A replay of an Idempotency-Key is no new call.
    expect((await invoke({ input: { doc: 'again' } }, { 'idempotency-key': 'k-1' })).status).toBe(200);
    expect((await invoke({ input: { doc: 'again' } }, { 'idempotency-key': 'k-1' })).headers['idempotent-replayed']).toBe('true');
    // Through the LangServe route too.
    const ls = await gw.request(
      'POST',
      `/chains/${chain}/invoke`,
      { input: { doc: 'ls' }, config: { configurable: { environment: 'prod' } } },
      key,
    );
    expect(ls.status).toBe(200);
    // An upstream failure.
    upstream.setBehaviour({ status: 500 });
    expect((await invoke({ input: { doc: 'fails' } })).status).toBe(502);
    upstream.setBehaviour({ output: () => ({ total: 42, vendor: 'ACME GmbH' }) });

    // Two reviews, one of which changed a field.
    expect((await gw.request('POST', `/v1/runs/${runIds[0]}/feedback`, { final: { total: 43, vendor: 'ACME GmbH' } }, key)).status).toBe(
      200,
    );
    expect((await gw.request('POST', `/v1/runs/${runIds[1]}/feedback`, { overrides: [] }, key)).status).toBe(200);

    const text = await scrape();
    expect(sample(text, 'chain_canary_calls_total', v1)).toBe(7);
    expect(sample(text, 'chain_canary_errors_total', { ...v1, code: 'upstream_failed' })).toBe(1);
    expect(sample(text, 'chain_canary_fallbacks_total', v1)).toBe(0);
    expect(sample(text, 'chain_canary_feedback_total', v1)).toBe(2);
    expect(sample(text, 'chain_canary_overrides_total', v1)).toBe(1);
    expect(sample(text, 'chain_canary_call_duration_seconds_count', v1)).toBe(7);
    expect(sample(text, 'chain_canary_call_duration_seconds_bucket', { ...v1, le: '+Inf' })).toBe(7);
    expect(sample(text, 'chain_canary_call_duration_seconds_sum', v1)).toBeGreaterThan(0);
    expect(sample(text, 'chain_canary_gateway_overhead_seconds_count', v1)).toBe(7);
    // Buckets are cumulative.
    const buckets = text
      .split('\n')
      .filter((l) => l.startsWith('chain_canary_call_duration_seconds_bucket{') && l.includes('version="v1"'))
      .map((l) => Number(l.split(' ').pop()));
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
    // The version that was called has a closed circuit breaker.
    expect(sample(text, 'chain_canary_circuit_breaker_state', { chain, version: 'v1', state: 'closed' })).toBe(1);
    expect(sample(text, 'chain_canary_circuit_breaker_state', { chain, version: 'v1', state: 'open' })).toBe(0);
  });

  it('labels rollout traffic by variant, shows the rollout and its guardrails, and counts a rollback', async () => {
    const created = await gw.request('POST', '/v1/rollouts', {
      chain,
      control: 'v1',
      candidate: 'v2',
      stages: [{ environments: ['staging'], tenants: [TENANT], percent: 100 }],
    });
    expect(created.status).toBe(201);
    rolloutId = created.body.id;
    for (let i = 0; i < 3; i++) expect((await invoke({ environment: 'staging', input: { doc: `c-${i}` } })).body.variant).toBe('candidate');
    const candidate = { chain, version: 'v2', variant: 'candidate' };

    gw.gateway.services.metrics.setGuardrailState(rolloutId, 'override_rate', 'holding');
    let text = await scrape();
    expect(sample(text, 'chain_canary_calls_total', candidate)).toBe(3);
    expect(sample(text, 'chain_canary_calls_total', v1)).toBe(7);
    expect(sample(text, 'chain_canary_rollout_stage', { chain, rollout: rolloutId })).toBe(0);
    expect(sample(text, 'chain_canary_rollout_status', { chain, rollout: rolloutId, status: 'running' })).toBe(1);
    expect(sample(text, 'chain_canary_guardrail_state', { rollout: rolloutId, metric: 'override_rate', state: 'holding' })).toBe(1);
    expect(sample(text, 'chain_canary_guardrail_state', { rollout: rolloutId, metric: 'override_rate', state: 'breached' })).toBe(0);
    expect(sample(text, 'chain_canary_rollbacks_total', { chain, version: 'v2', trigger: 'manual' })).toBe(0);
    expect(sample(text, 'chain_canary_rollout_events_total', { chain, type: 'created' })).toBe(1);

    expect((await gw.request('POST', `/v1/rollouts/${rolloutId}/rollback`, { reason: 'metrics test' })).status).toBe(200);
    text = await scrape();
    expect(sample(text, 'chain_canary_rollbacks_total', { chain, version: 'v2', trigger: 'manual' })).toBe(1);
    expect(sample(text, 'chain_canary_rollbacks_total', { chain, version: 'v2', trigger: 'automatic' })).toBe(0);
    expect(sample(text, 'chain_canary_rollout_events_total', { chain, type: 'rolled_back' })).toBe(1);
    // A finished rollout leaves the state gauges.
    expect(sample(text, 'chain_canary_rollout_stage', { chain, rollout: rolloutId })).toBeUndefined();
    expect(sample(text, 'chain_canary_guardrail_state', { rollout: rolloutId, metric: 'override_rate', state: 'holding' })).toBeUndefined();
  });

  it('never names a tenant, a key, a unit, an external id or an input', async () => {
    const text = await scrape();
    for (const secret of [TENANT, OTHER, 'Zebra', key, 'metrics-test', 'secret-input', 'EXT-SECRET', 'unit-secret', 'ACME']) {
      expect(text).not.toContain(secret);
    }
    // Every chain_canary series is labelled from the fixed, tenant-free label names.
    const allowed = new Set(['chain', 'version', 'variant', 'code', 'type', 'le', 'rollout', 'metric', 'state', 'status', 'trigger']);
    for (const line of text.split('\n')) {
      if (!line.startsWith('chain_canary_')) continue;
      for (const [, label] of line.matchAll(/([a-zA-Z_]\w*)="/g)) expect(allowed).toContain(label);
    }
  });
});

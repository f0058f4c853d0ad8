/**
 * A candidate call answered by the control (fallbackToControl) is visible: the caller's answer
 * says `fallback: true` (REST, LangServe invoke and stream), the gateway logs one warn line per
 * fallback (what failed, not the upstream's text), and /metrics counts it on the candidate's
 * series. A call that did not fall back carries no `fallback`, and an idempotent replay keeps the
 * flag without a second log line.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { noPostgres, startTestGateway, type TestGateway } from '../support/gateway.js';

describe.skipIf(noPostgres)('fallback to control is visible', () => {
  let gw: TestGateway;
  let good: FakeUpstream;
  let broken: FakeUpstream;
  let logs = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs += chunk.toString();
      done();
    },
  });
  const fallbackLines = () =>
    logs
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .filter((l) => typeof l.msg === 'string' && l.msg.includes('fallbackToControl'));

  beforeAll(async () => {
    good = await startFakeUpstream({ behaviour: { output: () => ({ total: 1 }) } });
    broken = await startFakeUpstream({ behaviour: { status: 500, rawBody: '{"detail": "sk-LEAKED-SECRET boom"}' } });
    gw = await startTestGateway({ logStream: sink, env: { LOG_LEVEL: 'info' } });
    await gw.request('PUT', '/v1/tenants/acme', {});
    await gw.request('PUT', '/v1/chains/c', {});
    await gw.request('POST', '/v1/chains/c/versions', { version: 'v1', adapter: { type: 'http', url: good.url } });
    await gw.request('POST', '/v1/chains/c/versions', { version: 'v2', adapter: { type: 'http', url: broken.url } });
    const rollout = await gw.request('POST', '/v1/rollouts', {
      chain: 'c',
      control: 'v1',
      candidate: 'v2',
      stages: [{ environments: ['prod'], percent: 100 }],
      guardrails: [],
      fallbackToControl: true,
    });
    expect(rollout.status).toBe(201);
  });
  afterAll(async () => {
    await gw?.close();
    await good?.close();
    await broken?.close();
  });

  it('says fallback: true in the REST answer, and logs what failed once', async () => {
    const res = await gw.request('POST', '/v1/chains/c/invoke', { tenant: 'acme', environment: 'prod', input: {} }, undefined, {
      'idempotency-key': 'fb-1',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ version: 'v1', variant: 'candidate', output: { total: 1 }, fallback: true });
    const lines = fallbackLines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 40,
      runId: res.body.runId,
      chain: 'c',
      candidate: 'v2',
      answeredBy: 'v1',
      candidateError: 'upstream_failed',
      upstreamStatus: 500,
    });
    expect(lines[0].msg).toBe('candidate v2 of chain c failed (upstream_failed, HTTP 500); the control v1 answered (fallbackToControl)');
    expect(logs).not.toContain('LEAKED');

    // The retry gets the first answer, flag included, and is not logged again.
    const again = await gw.request('POST', '/v1/chains/c/invoke', { tenant: 'acme', environment: 'prod', input: {} }, undefined, {
      'idempotency-key': 'fb-1',
    });
    expect(again.body).toMatchObject({ runId: res.body.runId, fallback: true });
    expect(fallbackLines()).toHaveLength(1);
  });

  it('says it in LangServe metadata, for invoke and stream', async () => {
    const config = { configurable: { tenant: 'acme', environment: 'prod' } };
    const inv = await gw.request('POST', '/chains/c/invoke', { input: {}, config });
    expect(inv.status).toBe(200);
    expect(inv.body.metadata).toMatchObject({ version: 'v1', variant: 'candidate', fallback: true });
    const stream = await gw.request('POST', '/chains/c/stream', { input: {}, config });
    expect(stream.status).toBe(200);
    const raw = typeof stream.body === 'string' ? stream.body : JSON.stringify(stream.body);
    expect(raw).toMatch(/event: metadata\ndata: \{"run_id":"[0-9a-f-]{36}","fallback":true\}/);
  });

  it('leaves it out when the call did not fall back', async () => {
    const res = await gw.request('POST', '/v1/chains/c/invoke', { tenant: 'acme', environment: 'staging', input: {} });
    expect(res.status).toBe(200);
    expect(res.body.variant).toBe('default');
    expect('fallback' in res.body).toBe(false);
  });

  it('counts every fallback in /metrics on the candidate series', async () => {
    const text = (await gw.request('GET', '/metrics')).body as string;
    expect(text).toMatch(/^chain_canary_fallbacks_total\{chain="c",version="v2",variant="candidate"\} 3$/m);
    expect(fallbackLines()).toHaveLength(3);
  });
});

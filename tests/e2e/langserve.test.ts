/**
 * The LangChain drop-in: the real RemoteRunnable from @langchain/core 0.3 against a gateway on a
 * loopback port, pointed at /chains/<chain> with nothing else changed but headers and config.
 */
import { RemoteRunnable } from '@langchain/core/runnables/remote';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { ADMIN, noPostgres, startTestGateway, type TestGateway } from '../support/gateway.js';

interface Seen {
  url: string;
  status: number;
  headers: Headers;
  text: string;
  requestBody: any;
}

describe('LangServe-compatible routes with the real RemoteRunnable', () => {
  let gw: TestGateway;
  let upstream: FakeUpstream;
  let acmeKey: string;
  let seen: Seen[];

  /** fetch that keeps what went over the wire, so tests can read run ids and headers. */
  const recordingFetch = async (url: string, init: RequestInit): Promise<Response> => {
    const res = await fetch(url, init);
    const text = await res.clone().text();
    seen.push({ url, status: res.status, headers: res.headers, text, requestBody: JSON.parse(String(init.body)) });
    return res;
  };
  const last = (): Seen => seen[seen.length - 1]!;
  const remote = (headers: Record<string, string>, chain = 'invoice-extraction') =>
    new RemoteRunnable<any, any, any>({ url: `${gw.url}/chains/${chain}/`, options: { headers, timeout: 10_000 }, fetch: recordingFetch });

  const output = (input: any) => ({ total: 42, vendor: 'ACME GmbH', doc: input?.doc ?? null });

  beforeAll(async () => {
    upstream = await startFakeUpstream({ behaviour: { output } });
    gw = await startTestGateway({ storage: noPostgres ? 'pglite' : 'postgres', listen: true });
    expect((await gw.request('PUT', '/v1/tenants/acme', {})).status).toBe(201);
    expect((await gw.request('PUT', '/v1/tenants/globex', {})).status).toBe(201);
    acmeKey = (await gw.request('POST', '/v1/tenants/acme/keys', { name: 'langchain-app' })).body.key;
    expect((await gw.request('PUT', '/v1/chains/invoice-extraction', {})).status).toBe(201);
    const v1 = await gw.request('POST', '/v1/chains/invoice-extraction/versions', {
      version: 'v1',
      adapter: { type: 'http', url: upstream.url, timeoutMs: 2000 },
    });
    expect(v1.status).toBe(201);
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });
  beforeEach(() => {
    seen = [];
    upstream.setBehaviour({ output });
    upstream.reset();
  });

  it('invokes with a tenant key and the environment from config.configurable, and the run takes feedback', async () => {
    const chain = remote({ Authorization: `Bearer ${acmeKey}` });
    const out = await chain.invoke(
      { doc: 'inv-1' },
      { configurable: { environment: 'staging', externalId: 'INV-1' }, metadata: { app: 'review-ui' } },
    );
    expect(out).toEqual({ total: 42, vendor: 'ACME GmbH', doc: 'inv-1' });

    // What RemoteRunnable sent, and LangServe's answer shape.
    const wire = last();
    expect(wire.url).toBe(`${gw.url}/chains/invoice-extraction/invoke`);
    expect(wire.requestBody).toMatchObject({ input: { doc: 'inv-1' }, config: { configurable: { environment: 'staging' } }, kwargs: {} });
    expect(wire.status).toBe(200);
    expect(wire.headers.get('server-timing')).toMatch(/^gateway;dur=\d+\.\d+, upstream;dur=\d+\.\d+$/);
    const body = JSON.parse(wire.text);
    expect(body).toEqual({
      output: { total: 42, vendor: 'ACME GmbH', doc: 'inv-1' },
      metadata: {
        run_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        feedback_tokens: [],
        chain: 'invoice-extraction',
        version: 'v1',
        variant: 'default',
      },
    });
    // The upstream got the LangServe body the http adapter sends.
    expect(upstream.requests[0]!.body).toEqual({ input: { doc: 'inv-1' } });

    const runId = body.metadata.run_id as string;
    const run = await gw.request('GET', `/v1/runs/${runId}`, undefined, acmeKey);
    expect(run.status).toBe(200);
    // LangChain copies configurable values into metadata; only the caller's own metadata is kept.
    expect(run.body).toMatchObject({
      runId,
      tenant: 'acme',
      environment: 'staging',
      externalId: 'INV-1',
      input: { doc: 'inv-1' },
      metadata: { app: 'review-ui' },
    });
    expect(run.body.metadata).not.toHaveProperty('environment');

    const fb = await gw.request('POST', `/v1/runs/${runId}/feedback`, { final: { total: 43, vendor: 'ACME GmbH' } }, acmeKey);
    expect(fb.status).toBe(200);
    expect(fb.body).toEqual({ runId, overridden: true, fields: ['total'] });
    // And by the external id the LangChain app set in configurable.
    const byExternal = await gw.request(
      'POST',
      '/v1/feedback',
      { chain: 'invoice-extraction', externalId: 'INV-1', overrides: [] },
      acmeKey,
    );
    expect(byExternal.status).toBe(200);
    expect(byExternal.body.runId).toBe(runId);
  });

  it('takes tenant and environment from the x-tenant / x-environment headers', async () => {
    const chain = remote({ Authorization: `Bearer ${ADMIN}`, 'x-tenant': 'globex', 'x-environment': 'prod' });
    expect(await chain.invoke({ doc: 'g-1' })).toEqual(output({ doc: 'g-1' }));
    const runId = JSON.parse(last().text).metadata.run_id;
    expect((await gw.request('GET', `/v1/runs/${runId}`)).body).toMatchObject({ tenant: 'globex', environment: 'prod' });
  });

  it('lets config.configurable win over the headers, with an admin token', async () => {
    const chain = remote({ Authorization: `Bearer ${ADMIN}`, 'x-tenant': 'globex', 'x-environment': 'prod' });
    await chain.invoke({ doc: 'a-1' }, { configurable: { tenant: 'acme', environment: 'staging', unit: 'doc-7' } });
    const runId = JSON.parse(last().text).metadata.run_id;
    expect((await gw.request('GET', `/v1/runs/${runId}`)).body).toMatchObject({ tenant: 'acme', environment: 'staging', unit: 'doc-7' });
  });

  it('surfaces auth and input errors as HTTP errors with our JSON error shape', async () => {
    // A tenant key naming another tenant: 403, by configurable or by header.
    const acme = remote({ Authorization: `Bearer ${acmeKey}` });
    await expect(acme.invoke({ doc: 'x' }, { configurable: { tenant: 'globex', environment: 'prod' } })).rejects.toThrow(
      /^403 Error: .*"code":"forbidden"/,
    );
    await expect(
      remote({ Authorization: `Bearer ${acmeKey}`, 'x-tenant': 'globex' }).invoke({ doc: 'x' }, { configurable: { environment: 'prod' } }),
    ).rejects.toThrow(/^403 Error/);
    // No or a wrong token: 401.
    await expect(remote({}).invoke({ doc: 'x' }, { configurable: { environment: 'prod' } })).rejects.toThrow(/^401 Error/);
    await expect(
      remote({ Authorization: 'Bearer cc_nonsense' }).invoke({ doc: 'x' }, { configurable: { environment: 'prod' } }),
    ).rejects.toThrow(/^401 Error/);
    // No environment anywhere: 400 naming the field.
    await expect(acme.invoke({ doc: 'x' })).rejects.toThrow(/^400 Error: .*body\.config\.configurable\.environment/);
    // A bad id: 400 from validation.
    await expect(acme.invoke({ doc: 'x' }, { configurable: { environment: 'pr od' } })).rejects.toThrow(/^400 Error: .*validation_failed/);
    // An admin token must name the tenant.
    await expect(
      remote({ Authorization: `Bearer ${ADMIN}` }).invoke({ doc: 'x' }, { configurable: { environment: 'prod' } }),
    ).rejects.toThrow(/^400 Error: .*configurable\.tenant/);
    // Unknown chain and unknown tenant: 404.
    await expect(
      remote({ Authorization: `Bearer ${acmeKey}` }, 'nope').invoke({ doc: 'x' }, { configurable: { environment: 'prod' } }),
    ).rejects.toThrow(/^404 Error/);
    await expect(
      remote({ Authorization: `Bearer ${ADMIN}` }).invoke({ doc: 'x' }, { configurable: { tenant: 'initech', environment: 'prod' } }),
    ).rejects.toThrow(/^404 Error/);
    expect(upstream.calls).toBe(0);
  });

  it('answers an upstream failure with 502 and the run id, and the run is recorded', async () => {
    upstream.setBehaviour({ status: 500 });
    const chain = remote({ Authorization: `Bearer ${acmeKey}` });
    await expect(chain.invoke({ doc: 'bad' }, { configurable: { environment: 'staging' } })).rejects.toThrow(
      /^502 Error: .*upstream_failed/,
    );
    const body = JSON.parse(last().text);
    expect(body.runId).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.error.code).toBe('upstream_failed');
    expect(last().headers.get('server-timing')).toMatch(/^gateway;dur=/);
    const run = await gw.request('GET', `/v1/runs/${body.runId}`, undefined, acmeKey);
    expect(run.body).toMatchObject({ tenant: 'acme', environment: 'staging' });
    expect(run.body.error).toMatchObject({ code: 'upstream_failed' });
  });

  it('batches: one run per input, outputs in order, run ids in metadata', async () => {
    const chain = remote({ Authorization: `Bearer ${acmeKey}` });
    const outs = await chain.batch([{ doc: 'b-1' }, { doc: 'b-2' }, { doc: 'b-3' }], { configurable: { environment: 'staging' } });
    expect(outs).toEqual([output({ doc: 'b-1' }), output({ doc: 'b-2' }), output({ doc: 'b-3' })]);
    const wire = last();
    expect(wire.url).toBe(`${gw.url}/chains/invoice-extraction/batch`);
    // RemoteRunnable sends one config per input.
    expect(Array.isArray(wire.requestBody.config)).toBe(true);
    expect(wire.requestBody.config).toHaveLength(3);
    expect(wire.headers.get('server-timing')).toMatch(/^gateway;dur=\d+\.\d+, upstream;dur=\d+\.\d+$/);
    const body = JSON.parse(wire.text);
    expect(body.metadata.run_ids).toHaveLength(3);
    expect(new Set(body.metadata.run_ids).size).toBe(3);
    expect(body.metadata.responses.map((r: any) => r.run_id)).toEqual(body.metadata.run_ids);
    for (const [i, runId] of (body.metadata.run_ids as string[]).entries()) {
      const run = await gw.request('GET', `/v1/runs/${runId}`, undefined, acmeKey);
      expect(run.body).toMatchObject({ tenant: 'acme', environment: 'staging', input: { doc: `b-${i + 1}` } });
    }
    expect(upstream.calls).toBe(3);
    const fb = await gw.request('POST', `/v1/runs/${body.metadata.run_ids[1]}/feedback`, { overrides: [] }, acmeKey);
    expect(fb.status).toBe(200);
  });

  it('batches with a config per input (different tenants) and checks every caller before any call', async () => {
    const admin = remote({ Authorization: `Bearer ${ADMIN}` });
    const outs = await admin.batch(
      [{ doc: 'p-1' }, { doc: 'p-2' }],
      [{ configurable: { tenant: 'acme', environment: 'prod' } }, { configurable: { tenant: 'globex', environment: 'prod' } }],
    );
    expect(outs).toEqual([output({ doc: 'p-1' }), output({ doc: 'p-2' })]);
    const ids = JSON.parse(last().text).metadata.run_ids;
    expect((await gw.request('GET', `/v1/runs/${ids[0]}`)).body.tenant).toBe('acme');
    expect((await gw.request('GET', `/v1/runs/${ids[1]}`)).body.tenant).toBe('globex');

    upstream.reset();
    const acme = remote({ Authorization: `Bearer ${acmeKey}` });
    await expect(
      acme.batch(
        [{ doc: 'q-1' }, { doc: 'q-2' }],
        [{ configurable: { environment: 'prod' } }, { configurable: { tenant: 'globex', environment: 'prod' } }],
      ),
    ).rejects.toThrow(/^403 Error/);
    expect(upstream.calls).toBe(0);
  });

  it('answers a batch with a failed call as 502 naming the failures, with every run id', async () => {
    const res = await fetch(`${gw.url}/chains/invoice-extraction/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${acmeKey}` },
      body: JSON.stringify({ inputs: [{ doc: 'ok' }], config: { configurable: { environment: 'staging' } } }),
    });
    expect(res.status).toBe(200);
    upstream.setBehaviour({ status: 503 });
    const failed = await fetch(`${gw.url}/chains/invoice-extraction/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${acmeKey}` },
      body: JSON.stringify({ inputs: [{ doc: 'x' }, { doc: 'y' }], config: { configurable: { environment: 'staging' } } }),
    });
    expect(failed.status).toBe(502);
    const body: any = await failed.json();
    expect(body.runIds).toHaveLength(2);
    expect(body.error.code).toBe('upstream_failed');
    expect(body.error.details.failures.map((f: any) => f.index)).toEqual([0, 1]);
    // A config list of the wrong length is a 400.
    const mismatch = await fetch(`${gw.url}/chains/invoice-extraction/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${acmeKey}` },
      body: JSON.stringify({ inputs: [{ doc: 'x' }, { doc: 'y' }], config: [{ configurable: { environment: 'staging' } }] }),
    });
    expect(mismatch.status).toBe(400);
    expect((await mismatch.json()).error.message).toMatch(/^body\.config/);
  });

  it('streams: metadata with the run id, one data event with the output, end', async () => {
    const chain = remote({ Authorization: `Bearer ${acmeKey}` });
    const chunks: unknown[] = [];
    for await (const chunk of await chain.stream({ doc: 's-1' }, { configurable: { environment: 'staging' } })) chunks.push(chunk);
    expect(chunks).toEqual([output({ doc: 's-1' })]);
    const wire = last();
    expect(wire.url).toBe(`${gw.url}/chains/invoice-extraction/stream`);
    expect(wire.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(wire.headers.get('server-timing')).toMatch(/^gateway;dur=/);
    const runId = /event: metadata\ndata: \{"run_id":"([0-9a-f-]{36})"\}/.exec(wire.text)?.[1];
    expect(runId).toBeDefined();
    expect(wire.text.endsWith('event: end\n\n')).toBe(true);
    const run = await gw.request('GET', `/v1/runs/${runId}`, undefined, acmeKey);
    expect(run.body).toMatchObject({ tenant: 'acme', environment: 'staging', input: { doc: 's-1' } });

    upstream.setBehaviour({ status: 500 });
    const failing = async () => {
      for await (const _ of await chain.stream({ doc: 's-2' }, { configurable: { environment: 'staging' } })) void _;
    };
    await expect(failing()).rejects.toThrow(/^RemoteRunnable call failed with status code 502: \S/);
  });

  it('streamLog: the run log state id is the run id, and it takes feedback', async () => {
    const chain = remote({ Authorization: `Bearer ${acmeKey}` });
    const patches: any[] = [];
    // Copies as they arrive: the client goes on to apply these very patch objects to its own
    // RunLog, and applying a patch mutates the objects it adds.
    for await (const patch of chain.streamLog({ doc: 'l-1' }, { configurable: { environment: 'staging' } }))
      patches.push(structuredClone(patch.ops));
    const wire = last();
    expect(wire.url).toBe(`${gw.url}/chains/invoice-extraction/stream_log`);
    expect(wire.status).toBe(200);
    expect(wire.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(wire.text.endsWith('event: end\n\n')).toBe(true);
    // LangChain's own RunLog, built from the patches as an app would.
    const { RunLog, RunLogPatch } = await import('@langchain/core/tracers/log_stream');
    let log: InstanceType<typeof RunLog> | undefined;
    for (const ops of patches) {
      const patch = new RunLogPatch({ ops });
      log = log ? log.concat(patch) : RunLog.fromRunLogPatch(patch);
    }
    expect(log!.state.final_output).toEqual(output({ doc: 'l-1' }));
    expect(log!.state.streamed_output).toEqual([output({ doc: 'l-1' })]);
    const runId = log!.state.id;
    expect(runId).toMatch(/^[0-9a-f-]{36}$/);
    const fb = await gw.request('POST', `/v1/runs/${runId}/feedback`, { final: { total: 41 } }, acmeKey);
    expect(fb.body).toEqual({ runId, overridden: true, fields: ['total'] });

    upstream.setBehaviour({ status: 500 });
    const failing = async () => {
      for await (const _ of chain.streamLog({ doc: 'l-2' }, { configurable: { environment: 'staging' } })) void _;
    };
    await expect(failing()).rejects.toThrow(/^502 Error: /);
  });

  it('streamEvents: every event carries the run id, and it takes feedback', async () => {
    const chain = remote({ Authorization: `Bearer ${acmeKey}` });
    const events: any[] = [];
    for await (const e of chain.streamEvents({ doc: 'e-1' }, { version: 'v2', configurable: { environment: 'staging' } })) events.push(e);
    expect(last().url).toBe(`${gw.url}/chains/invoice-extraction/stream_events`);
    expect(events.map((e) => e.event)).toEqual(['on_chain_start', 'on_chain_stream', 'on_chain_end']);
    const runId = events[0].run_id;
    expect(runId).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(events.map((e) => e.run_id))).toEqual(new Set([runId]));
    expect(events[2].data.output).toEqual(output({ doc: 'e-1' }));
    expect(events[0].metadata).toMatchObject({ run_id: runId, version: 'v1', variant: 'default' });
    const fb = await gw.request('POST', `/v1/runs/${runId}/feedback`, { overrides: [] }, acmeKey);
    expect(fb.body).toEqual({ runId, overridden: false, fields: [] });
  });

  it("the README's recipe: externalId and unit in configurable, then POST /v1/feedback by external id", async () => {
    // As "Wire in a LangChain app" has it: invoke() returns the output only, so the app names
    // the record it is about and sends the reviewer's record by that name.
    const chain = remote({ authorization: `Bearer ${acmeKey}` });
    const result = await chain.invoke(
      { doc: 'INV-2041' },
      { configurable: { environment: 'staging', externalId: 'INV-2041', unit: 'INV-2041' } },
    );
    expect(result).toEqual(output({ doc: 'INV-2041' }));
    const fb = await gw.request(
      'POST',
      '/v1/feedback',
      { chain: 'invoice-extraction', externalId: 'INV-2041', final: { ...result, total: 43 } },
      acmeKey,
    );
    expect(fb.status).toBe(200);
    expect(fb.body).toMatchObject({ overridden: true, fields: ['total'] });
    const run = await gw.request('GET', `/v1/runs/${fb.body.runId}`, undefined, acmeKey);
    expect(run.body).toMatchObject({ externalId: 'INV-2041', unit: 'INV-2041', feedback: { overridden: true, fields: ['total'] } });
  });

  it('replays an Idempotency-Key without a second upstream call', async () => {
    const headers = { Authorization: `Bearer ${acmeKey}`, 'Idempotency-Key': 'lc-retry-1' };
    const chain = remote(headers);
    const first = await chain.invoke({ doc: 'i-1' }, { configurable: { environment: 'staging' } });
    const firstRun = JSON.parse(last().text).metadata.run_id;
    const again = await chain.invoke({ doc: 'i-1' }, { configurable: { environment: 'staging' } });
    expect(again).toEqual(first);
    expect(JSON.parse(last().text).metadata.run_id).toBe(firstRun);
    expect(last().headers.get('idempotent-replayed')).toBe('true');
    expect(upstream.calls).toBe(1);
  });

  it('documents the routes in the OpenAPI document', async () => {
    const doc = await gw.request('GET', '/openapi.json', undefined, null);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/chains/{chain}/invoke',
        '/chains/{chain}/batch',
        '/chains/{chain}/stream',
        '/chains/{chain}/stream_log',
        '/chains/{chain}/stream_events',
      ]),
    );
  });
});

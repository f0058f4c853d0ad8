/**
 * Issue 19 items 12 and 3: two replicas on one database (each with its own spool). Feedback sent
 * to the replica that did not answer the call, right after the call, finds the run once the
 * other replica's batch lands (FEEDBACK_WAIT_MS), by run id and by external id; feedback by
 * external id stays within the caller's tenant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { noPostgres, startTestGateway, type TestGateway } from '../support/gateway.js';

describe.skipIf(noPostgres)('feedback across replicas', () => {
  let a: TestGateway;
  let b: TestGateway;
  let upstream: FakeUpstream;
  let acme: string;
  let globex: string;

  beforeAll(async () => {
    upstream = await startFakeUpstream({ behaviour: { output: () => ({ total: 10, vendor: 'ACME' }) } });
    a = await startTestGateway();
    for (const t of ['acme', 'globex']) await a.request('PUT', `/v1/tenants/${t}`, {});
    acme = (await a.request('POST', '/v1/tenants/acme/keys', {})).body.key;
    globex = (await a.request('POST', '/v1/tenants/globex/keys', {})).body.key;
    await a.request('PUT', '/v1/chains/invoices', {});
    await a.request('POST', '/v1/chains/invoices/versions', { version: 'v1', adapter: { type: 'http', url: upstream.url } });
    // The second replica starts after the setup, so its catalog has the tenants, keys and chain.
    b = await startTestGateway({ databaseUrl: a.database!.url });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await upstream?.close();
  });

  const invoke = (gw: TestGateway, key: string, externalId?: string) =>
    gw.request('POST', '/v1/chains/invoices/invoke', { environment: 'prod', input: {}, ...(externalId ? { externalId } : {}) }, key);

  it('takes feedback by run id on the other replica right after the call', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const { runId } = (await invoke(a, acme)).body;
      const fb = await b.request('POST', `/v1/runs/${runId}/feedback`, { final: { total: 11 } }, acme);
      statuses.push(fb.status);
      if (fb.status === 200) expect(fb.body).toEqual({ runId, overridden: true, fields: ['total'] });
    }
    expect(statuses).toEqual(Array(10).fill(200));
  });

  it('takes feedback by external id on the other replica, on the run of the caller’s tenant', async () => {
    const ours = (await invoke(a, acme, 'INV-7')).body.runId;
    const fb = await b.request('POST', '/v1/feedback', { chain: 'invoices', externalId: 'INV-7', final: { total: 12 } }, acme);
    expect(fb.status).toBe(200);
    expect(fb.body.runId).toBe(ours);
    // Another tenant's run with the same external id, answered later, is not acme's.
    const theirs = (await invoke(a, globex, 'INV-7')).body.runId;
    expect((await a.request('POST', '/v1/feedback', { chain: 'invoices', externalId: 'INV-7', overrides: [] }, acme)).body.runId).toBe(
      ours,
    );
    expect((await b.request('POST', '/v1/feedback', { chain: 'invoices', externalId: 'INV-7', overrides: [] }, globex)).body.runId).toBe(
      theirs,
    );
  });

  it('answers 404 for a run id that names no run', async () => {
    const res = await b.request('POST', '/v1/runs/6f1c1e0e-3c4b-4f6a-9a53-0c4c1d2e3f40/feedback', { overrides: [] }, acme);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });
});

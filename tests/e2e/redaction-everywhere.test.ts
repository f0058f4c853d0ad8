/**
 * Redaction covers every part of a run that can carry personal data (issue 19 item 4): with
 * `{"mode": "patterns"}`, the upstream's error excerpt (an upstream that echoes its input),
 * `metadata`, `externalId`, `unit` (and the assignment key built from it) and the feedback's
 * `reviewer` are stored without the e-mail, phone number, IBAN or card, read back through the
 * API and straight from the database. Lookups by external id still find the run: feedback by
 * external id (queued and stored) and the runs list (with and without a chain).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { noPostgres, startTestGateway, type TestGateway } from '../support/gateway.js';

const EMAIL = 'ann.lee@example.com';
const PHONE = '+49 170 1234567';
const IBAN = 'DE89370400440532013000';
const CARD = '4111 1111 1111 1111';
const PII = [EMAIL, PHONE, IBAN, CARD, '1234567', '0532013000', '1111 1111'];

describe.skipIf(noPostgres)('redaction of every part of a run', () => {
  let gw: TestGateway;
  let upstream: FakeUpstream;
  let db: pg.Client;

  /** Every stored run and feedback of the database, as text. */
  const dump = async () => {
    await gw.services().writer.flush();
    const runs = await db.query('SELECT row_to_json(r)::text AS t FROM runs r');
    const fb = await db.query('SELECT row_to_json(f)::text AS t FROM feedback f');
    return [...runs.rows, ...fb.rows].map((r: { t: string }) => r.t).join('\n');
  };
  const expectNoPii = (text: string) => {
    for (const p of PII) expect(text, `contains ${p}`).not.toContain(p);
  };

  beforeAll(async () => {
    upstream = await startFakeUpstream({ behaviour: { output: (input) => ({ echo: input, total: 1 }) } });
    gw = await startTestGateway();
    db = new pg.Client({ connectionString: gw.config.DATABASE_URL });
    await db.connect();
    await gw.request('PUT', '/v1/tenants/acme', {});
    await gw.request('PUT', '/v1/chains/kyc', { redaction: { mode: 'patterns' } });
    for (const v of ['v1', 'v2'])
      await gw.request('POST', '/v1/chains/kyc/versions', { version: v, adapter: { type: 'http', url: upstream.url } });
    // A unit split, so the assignment key holds the unit.
    const rollout = await gw.request('POST', '/v1/rollouts', {
      chain: 'kyc',
      control: 'v1',
      candidate: 'v2',
      stages: [{ environments: ['prod'], percent: 50, splitBy: 'unit' }],
    });
    expect(rollout.status).toBe(201);
  });
  afterAll(async () => {
    await db?.end();
    await gw?.close();
    await upstream?.close();
  });

  it("keeps the patterns out of metadata, ids, the unit's assignment key and the reviewer", async () => {
    const res = await gw.request('POST', '/v1/chains/kyc/invoke', {
      tenant: 'acme',
      environment: 'prod',
      input: { note: `mail ${EMAIL}` },
      externalId: EMAIL,
      unit: `customer ${PHONE}`,
      metadata: { contact: EMAIL, notes: [`iban ${IBAN}`, { card: CARD }] },
    });
    expect(res.status).toBe(200);
    // The caller's answer is not redacted.
    expect(res.body.output.echo.note).toContain(EMAIL);

    // Feedback by external id while the run is still queued, with a reviewer's e-mail.
    const fb = await gw.request('POST', '/v1/feedback', { chain: 'kyc', externalId: EMAIL, final: { total: 2 }, reviewer: EMAIL });
    expect(fb.status).toBe(200);
    expect(fb.body).toMatchObject({ runId: res.body.runId, overridden: true, fields: ['total'] });

    const stored = (await gw.request('GET', `/v1/runs/${res.body.runId}`)).body;
    expectNoPii(JSON.stringify(stored));
    expect(stored.metadata.notes[0]).toBe('iban [REDACTED:iban]');
    expect(stored.externalId).toMatch(/^hmac:[A-Za-z0-9_-]{43}$/);
    expect(stored.unit).toMatch(/^hmac:/);
    expect(stored.assignmentKey).toBe(`acme/${stored.unit}`);
    expect(stored.feedback.reviewer).toBe('[REDACTED:email]');
    expectNoPii(await dump());

    // After the run is stored: feedback by external id and the runs list still find it.
    const again = await gw.request('POST', '/v1/feedback', { chain: 'kyc', externalId: EMAIL, final: { total: 1 } });
    expect(again.body).toMatchObject({ runId: res.body.runId, overridden: false });
    const byChain = await gw.request('GET', `/v1/runs?chain=kyc&externalId=${encodeURIComponent(EMAIL)}`);
    expect(byChain.body.items.map((r: any) => r.runId)).toEqual([res.body.runId]);
    const anyChain = await gw.request('GET', `/v1/runs?externalId=${encodeURIComponent(EMAIL)}`);
    expect(anyChain.body.items.map((r: any) => r.runId)).toEqual([res.body.runId]);
    const byHash = await gw.request('GET', `/v1/runs?externalId=${encodeURIComponent(stored.externalId)}`);
    expect(byHash.body.items.map((r: any) => r.runId)).toEqual([res.body.runId]);
  });

  it("keeps the patterns out of an upstream's error excerpt that echoes the input", async () => {
    upstream.setBehaviour({
      status: 500,
      rawBody: JSON.stringify({ detail: `cannot parse input: mail ${EMAIL}, phone ${PHONE}, iban ${IBAN}, card ${CARD}` }),
    });
    try {
      const res = await gw.request('POST', '/v1/chains/kyc/invoke', { tenant: 'acme', environment: 'prod', input: { n: 1 } });
      expect(res.status).toBe(502);
      const stored = (await gw.request('GET', `/v1/runs/${res.body.runId}`)).body;
      expect(stored.error.details.body).toContain('[REDACTED:email]');
      expect(stored.error.details.status).toBe(500);
      expectNoPii(JSON.stringify(stored));
      expectNoPii(await dump());
    } finally {
      upstream.setBehaviour({ output: (input) => ({ echo: input, total: 1 }) });
    }
  });

  it('with path redaction, drops the error excerpt (no path can be found in it) and keeps ids as sent', async () => {
    await gw.request('PUT', '/v1/chains/paths', { redaction: { mode: 'paths', paths: ['customer.email'] } });
    await gw.request('POST', '/v1/chains/paths/versions', { version: 'v1', adapter: { type: 'http', url: upstream.url } });
    upstream.setBehaviour({ status: 500, rawBody: `echo ${EMAIL}` });
    try {
      const res = await gw.request('POST', '/v1/chains/paths/invoke', {
        tenant: 'acme',
        environment: 'prod',
        input: { customer: { email: EMAIL } },
        externalId: 'INV-7',
      });
      const stored = (await gw.request('GET', `/v1/runs/${res.body.runId}`)).body;
      expect(stored.input.customer.email).toBe('[REDACTED:path]');
      expect(stored.error.details.body).toBe('[REDACTED:path_mode]');
      expect(stored.externalId).toBe('INV-7');
      expect(JSON.stringify(stored)).not.toContain(EMAIL);
    } finally {
      upstream.setBehaviour({ output: (input) => ({ echo: input, total: 1 }) });
    }
  });

  it('leaves runs of a chain without redaction as they were sent', async () => {
    await gw.request('PUT', '/v1/chains/plain', {});
    await gw.request('POST', '/v1/chains/plain/versions', { version: 'v1', adapter: { type: 'http', url: upstream.url } });
    const res = await gw.request('POST', '/v1/chains/plain/invoke', {
      tenant: 'acme',
      environment: 'prod',
      input: 1,
      externalId: EMAIL,
      metadata: { a: EMAIL },
    });
    const stored = (await gw.request('GET', `/v1/runs/${res.body.runId}`)).body;
    expect(stored.externalId).toBe(EMAIL);
    expect(stored.metadata.a).toBe(EMAIL);
    expect((await gw.request('POST', '/v1/feedback', { chain: 'plain', externalId: EMAIL, final: { total: 1 } })).status).toBe(200);
  });
});

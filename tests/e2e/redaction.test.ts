/**
 * PII redaction before storage: the stored run holds placeholders, yet feedback sent later is
 * still diffed against what the AI really said (through keyed hashes of the redacted fields).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { noPostgres, startTestGateway, type TestGateway } from '../support/gateway.js';

describe.skipIf(noPostgres)('PII redaction', () => {
  let gw: TestGateway;
  let upstream: FakeUpstream;
  beforeAll(async () => {
    upstream = await startFakeUpstream({
      behaviour: { output: () => ({ email: 'jane.doe@example.com', iban: 'DE89 3704 0044 0532 0130 00', total: 12 }) },
    });
    gw = await startTestGateway();
    await gw.request('PUT', '/v1/tenants/acme', {});
    await gw.request('PUT', '/v1/chains/kyc', { redaction: { mode: 'patterns' } });
    await gw.request('POST', '/v1/chains/kyc/versions', { version: 'v1', adapter: { type: 'http', url: upstream.url } });
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it('stores placeholders, answers the caller in full, and still diffs feedback right', async () => {
    const res = await gw.request('POST', '/v1/chains/kyc/invoke', {
      tenant: 'acme',
      environment: 'prod',
      input: { note: 'call +49 30 1234 5678 or mail jane.doe@example.com' },
    });
    expect(res.status).toBe(200);
    expect(res.body.output.email).toBe('jane.doe@example.com');
    await gw.services().writer.flush();
    const run = await gw.request('GET', `/v1/runs/${res.body.runId}`);
    expect(JSON.stringify(run.body)).not.toContain('jane.doe@example.com');
    expect(JSON.stringify(run.body)).not.toContain('0532 0130 00');
    expect(run.body.output).toMatchObject({ email: '[REDACTED:email]', iban: '[REDACTED:iban]', total: 12 });
    expect(run.body.input.note).not.toContain('5678');

    const same = await gw.request('POST', `/v1/runs/${res.body.runId}/feedback`, {
      final: { email: 'jane.doe@example.com', iban: 'DE89 3704 0044 0532 0130 00', total: 12 },
    });
    expect(same.body).toMatchObject({ overridden: false, fields: [] });
    const changed = await gw.request('POST', `/v1/runs/${res.body.runId}/feedback`, { final: { email: 'jane@example.org', total: 12 } });
    expect(changed.body).toMatchObject({ overridden: true, fields: ['email'] });
  });

  it('rejects an invalid redaction config with a 400 naming the field', async () => {
    const res = await gw.request('PUT', '/v1/chains/kyc', { redaction: { mode: 'regex' } });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('redaction');
  });
});

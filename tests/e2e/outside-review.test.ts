/**
 * Findings of a review from outside (2026-12-07), each through the real gateway:
 * - a run whose chain answered JSON `null` is an answered run: it shows `output: null`, replays
 *   as such, takes feedback, and can be drawn into a dataset (before, feedback was a 409
 *   `run_errored` and the run sat in the review rate's denominator for good);
 * - an Idempotency-Key of a batch does not meet a single call's key (`<key>:1` used to replay the
 *   batch's second run to an unrelated call);
 * - an Idempotency-Key that breaks its rule (1 to 255 visible ASCII characters) is a 400
 *   `validation_failed` on the REST and LangServe invoke routes alike, and the OpenAPI document
 *   declares it on both; the LangServe streams are documented as `text/event-stream`;
 * - `%00` in the runs list's `externalId` is a 400 `validation_failed`, not a 500 from PostgreSQL;
 * - a chain's environments cannot drop one its active rollout names (its stage would match nothing);
 * - a chain's `updatedAt` moves with its current version at once, not at the next catalog refresh;
 * - named admin keys, which the README and the key model had, can be made and revoked
 *   (`/v1/admin-keys`); the shadow report has an operationId and a summary;
 * - a POST with the JSON content type and no body (as curl helpers send) is no body, not a 400
 *   `invalid_json`; `Authorization: bearer …` is taken (the scheme is case-insensitive);
 * - trackedFields refuse duplicates and `$other`; a plan that ends before its first look is a 400;
 * - a compressed body is a 415 `unsupported_media_type` naming Content-Encoding;
 * - feedback by external id that finds no run names the chain (a misspelt chain reads as one).
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { ADMIN, noPostgres, startTestGateway, type TestGateway } from '../support/gateway.js';

describe.skipIf(noPostgres)('findings of a review from outside', () => {
  let gw: TestGateway;
  let upstream: FakeUpstream;

  beforeAll(async () => {
    // Answers `input.out` when the input has it (JSON null included), else echoes the input.
    upstream = await startFakeUpstream({
      behaviour: {
        output: (input) =>
          input !== null && typeof input === 'object' && 'out' in input ? (input as { out: unknown }).out : { echo: input },
      },
    });
    gw = await startTestGateway({ listen: true });
    await gw.request('PUT', '/v1/tenants/acme', {});
    await gw.request('PUT', '/v1/chains/nulls', {});
    await gw.request('POST', '/v1/chains/nulls/versions', { version: 'v1', adapter: { type: 'http', url: upstream.url } });
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it('a chain that answered null made an answered run: shown, replayed, reviewed and drawn into a dataset', async () => {
    const call = () =>
      gw.request(
        'POST',
        '/v1/chains/nulls/invoke',
        { tenant: 'acme', environment: 'prod', externalId: 'null-1', input: { out: null } },
        undefined,
        { 'idempotency-key': 'null-key' },
      );
    const first = await call();
    expect(first.status).toBe(200);
    expect(first.body).toHaveProperty('output', null);
    await gw.services().writer.flush();

    const run = await gw.request('GET', `/v1/runs/${first.body.runId}`);
    expect(run.status).toBe(200);
    expect(run.body).toHaveProperty('output', null);
    expect(run.body.error).toBeUndefined();

    // A retry on another replica's view: the stored run, not the in-memory answer.
    const stored = await gw.services().runStore.byIdempotencyKey('acme', 'nulls', 'null-key');
    expect(stored?.id).toBe(first.body.runId);
    const again = await call();
    expect(again.status).toBe(200);
    expect(again.body.runId).toBe(first.body.runId);
    expect(again.body).toHaveProperty('output', null);

    const fb = await gw.request('POST', '/v1/feedback', { chain: 'nulls', externalId: 'null-1', tenant: 'acme', final: { total: 12 } });
    expect(fb.status).toBe(200);
    expect(fb.body).toMatchObject({ runId: first.body.runId, overridden: true, fields: ['$'] });
    await gw.services().writer.flush();

    const ds = await gw.request('POST', '/v1/datasets', { name: 'nulls-reviewed', chain: 'nulls', from: {} });
    expect(ds.status).toBe(201);
    expect(ds.body.cases).toBe(1);
  });

  it("a batch's Idempotency-Key does not meet a single call's key", async () => {
    const batch = await gw.request(
      'POST',
      '/chains/nulls/batch',
      { inputs: [{ from: 'batch0' }, { from: 'batch1' }], config: { configurable: { tenant: 'acme', environment: 'prod' } } },
      undefined,
      { 'idempotency-key': 'bk' },
    );
    expect(batch.status).toBe(200);
    const single = await gw.request(
      'POST',
      '/v1/chains/nulls/invoke',
      { tenant: 'acme', environment: 'prod', input: { from: 'single' } },
      undefined,
      {
        'idempotency-key': 'bk:1',
      },
    );
    expect(single.status).toBe(200);
    expect(single.body.output).toEqual({ echo: { from: 'single' } });
    expect(single.headers['idempotent-replayed']).toBeUndefined();
    expect(batch.body.metadata.run_ids).not.toContain(single.body.runId);

    // The batch's own retry still replays both of its runs.
    const retry = await gw.request(
      'POST',
      '/chains/nulls/batch',
      { inputs: [{ from: 'x' }, { from: 'y' }], config: { configurable: { tenant: 'acme', environment: 'prod' } } },
      undefined,
      { 'idempotency-key': 'bk' },
    );
    expect(retry.body.metadata.run_ids).toEqual(batch.body.metadata.run_ids);
    expect(retry.body.output).toEqual([{ echo: { from: 'batch0' } }, { echo: { from: 'batch1' } }]);
  });

  it('an Idempotency-Key with a space (or over 255 characters) is a 400 naming the header, on both invoke routes', async () => {
    for (const key of ['bk 1', 'k'.repeat(256)]) {
      const rest = await gw.request('POST', '/v1/chains/nulls/invoke', { tenant: 'acme', environment: 'prod', input: 1 }, undefined, {
        'idempotency-key': key,
      });
      const langserve = await gw.request(
        'POST',
        '/chains/nulls/invoke',
        { input: 1, config: { configurable: { tenant: 'acme', environment: 'prod' } } },
        undefined,
        {
          'idempotency-key': key,
        },
      );
      for (const res of [rest, langserve]) {
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe('validation_failed');
        expect(JSON.stringify(res.body.error)).toContain('idempotency-key');
      }
    }
  });

  it('documents the Idempotency-Key on the REST invoke, and the LangServe streams as text/event-stream', async () => {
    const doc = (await gw.request('GET', '/openapi.json', undefined, null)).body;
    const invoke = doc.paths['/v1/chains/{chain}/invoke'].post;
    expect(
      invoke.parameters.find((p: { in: string; name: string }) => p.in === 'header' && p.name === 'idempotency-key')?.schema.pattern,
    ).toBeTruthy();
    for (const path of ['stream', 'stream_log', 'stream_events']) {
      expect(Object.keys(doc.paths[`/chains/{chain}/${path}`].post.responses['200'].content)).toEqual(['text/event-stream']);
    }
    expect(Object.keys(doc.paths['/chains/{chain}/invoke'].post.responses['200'].content)).toEqual(['application/json']);
    expect(doc.paths['/v1/rollouts/{id}/shadow'].get).toMatchObject({
      operationId: 'getRolloutShadow',
      summary: expect.stringContaining('shadow'),
    });
    expect(doc.paths['/v1/admin-keys'].post.operationId).toBe('createAdminKey');
  });

  it("a chain's environments keep those its active rollout names (409 environment_in_use), until it ends", async () => {
    await gw.request('PUT', '/v1/chains/envs', {});
    for (const version of ['v1', 'v2']) {
      await gw.request('POST', '/v1/chains/envs/versions', { version, adapter: { type: 'http', url: upstream.url } });
    }
    const rollout = await gw.request('POST', '/v1/rollouts', {
      chain: 'envs',
      control: 'v1',
      candidate: 'v2',
      stages: [
        { environments: ['staging'], tenants: ['acme'], percent: 100 },
        { environments: ['prod'], percent: 10 },
      ],
    });
    expect(rollout.status).toBe(201);
    const dropProd = await gw.request('PUT', '/v1/chains/envs', { environments: ['dev', 'staging'] });
    expect(dropProd.status).toBe(409);
    expect(dropProd.body.error).toMatchObject({
      code: 'environment_in_use',
      details: { rollout: rollout.body.id, environments: ['prod'] },
    });
    expect((await gw.request('PUT', '/v1/chains/envs', { environments: ['dev', 'staging', 'prod', 'qa'] })).status).toBe(200);
    expect((await gw.request('POST', `/v1/rollouts/${rollout.body.id}/rollback`, { reason: 'done' })).status).toBe(200);
    expect((await gw.request('PUT', '/v1/chains/envs', { environments: ['dev', 'staging'] })).status).toBe(200);
  });

  it("a chain's updatedAt follows its current version at once: set by the first version, and by a promotion", async () => {
    await gw.request('PUT', '/v1/chains/stamps', {});
    const v1 = await gw.request('POST', '/v1/chains/stamps/versions', { version: 'v1', adapter: { type: 'http', url: upstream.url } });
    const chain = await gw.request('GET', '/v1/chains/stamps');
    expect(chain.body).toMatchObject({ current: 'v1', updatedAt: v1.body.createdAt });
    await gw.request('POST', '/v1/chains/stamps/versions', { version: 'v2', adapter: { type: 'http', url: upstream.url } });
    const rollout = await gw.request('POST', '/v1/rollouts', {
      chain: 'stamps',
      control: 'v1',
      candidate: 'v2',
      stages: [{ environments: ['prod'], percent: 10 }],
    });
    const promoted = await gw.request('POST', `/v1/rollouts/${rollout.body.id}/promote`, { reason: 'fine' });
    expect(promoted.status).toBe(200);
    expect((await gw.request('GET', '/v1/chains/stamps')).body).toMatchObject({ current: 'v2', updatedAt: promoted.body.updatedAt });
  });

  it('a named admin key has the admin rights, is named in the audit log, and stops working once revoked', async () => {
    const created = await gw.request('POST', '/v1/admin-keys', { name: 'release-bot' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'release-bot', id: expect.any(String), key: expect.any(String) });
    const bot = created.body.key as string;
    expect((await gw.request('GET', '/v1/tenants', undefined, bot)).status).toBe(200);
    await gw.request('PUT', '/v1/chains/botted', {}, bot);
    for (const version of ['v1', 'v2']) {
      await gw.request('POST', '/v1/chains/botted/versions', { version, adapter: { type: 'http', url: upstream.url } }, bot);
    }
    const rollout = await gw.request(
      'POST',
      '/v1/rollouts',
      { chain: 'botted', control: 'v1', candidate: 'v2', stages: [{ environments: ['prod'], percent: 10 }] },
      bot,
    );
    expect(rollout.status).toBe(201);
    const events = await gw.request('GET', `/v1/rollouts/${rollout.body.id}/events`);
    expect(JSON.stringify(events.body)).toContain('release-bot');

    // A tenant key may not make one; a key of a tenant cannot be revoked here.
    const tenantKey = (await gw.request('POST', '/v1/tenants/acme/keys', {})).body;
    expect((await gw.request('POST', '/v1/admin-keys', {}, tenantKey.key)).status).toBe(403);
    expect((await gw.request('DELETE', `/v1/admin-keys/${tenantKey.id}`)).status).toBe(404);
    expect((await gw.request('GET', '/v1/runs', undefined, tenantKey.key)).status).toBe(200);

    expect((await gw.request('DELETE', `/v1/admin-keys/${created.body.id}`)).status).toBe(204);
    expect((await gw.request('GET', '/v1/tenants', undefined, bot)).status).toBe(401);
    expect((await gw.request('DELETE', `/v1/admin-keys/${created.body.id}`)).status).toBe(404);
  });

  it('a POST with the JSON content type and no body is no body: taken where none is needed, else validation_failed', async () => {
    const post = async (path: string, authorization = `Bearer ${ADMIN}`) => {
      const res = await fetch(`${gw.url!}${path}`, { method: 'POST', headers: { authorization, 'content-type': 'application/json' } });
      return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } };
    };
    await gw.request('PUT', '/v1/chains/bodiless', {});
    for (const version of ['v1', 'v2']) {
      await gw.request('POST', '/v1/chains/bodiless/versions', { version, adapter: { type: 'http', url: upstream.url } });
    }
    const rollout = await gw.request('POST', '/v1/rollouts', {
      chain: 'bodiless',
      control: 'v1',
      candidate: 'v2',
      stages: [{ environments: ['prod'], percent: 10 }],
    });
    expect((await post(`/v1/rollouts/${rollout.body.id}/pause`)).status).toBe(200);
    // The scheme's name is case-insensitive.
    expect((await post(`/v1/rollouts/${rollout.body.id}/resume`, `bearer ${ADMIN}`)).status).toBe(200);
    const needs = await post('/v1/rollouts');
    expect(needs.status).toBe(400);
    expect(needs.body.error?.code).toBe('validation_failed');
  });

  it("a chain's trackedFields name each field once, and never $other (where the fields not tracked count)", async () => {
    await gw.request('PUT', '/v1/chains/tracked', {});
    for (const trackedFields of [
      ['total', 'total'],
      ['total', '$other'],
    ]) {
      const res = await gw.request('PUT', '/v1/chains/tracked', { trackedFields });
      expect(res.status, JSON.stringify(trackedFields)).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    }
    expect((await gw.request('PUT', '/v1/chains/tracked', { trackedFields: ['total', '$'] })).status).toBe(200);
  });

  it('a plan whose stage ends before the first look is a 400', async () => {
    const res = await gw.request('POST', '/v1/rollouts/plan', {
      guardrails: [{ metric: 'override_rate', maxIncrease: 0.03, minSamples: 100 }],
      control: { overrideRate: 0.1 },
      traffic: { runsPerDay: 2000, candidateShare: 0.1, days: 0.5 },
      checkEveryMinutes: 1440,
    });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/first look/);
  });

  it('a compressed body is a 415 naming Content-Encoding, not invalid_json echoing its bytes', async () => {
    const body = gzipSync(JSON.stringify({ tenant: 'acme', environment: 'prod', input: 1 }));
    const res = await fetch(`${gw.url!}/v1/chains/nulls/invoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body,
    });
    expect(res.status).toBe(415);
    const error = ((await res.json()) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe('unsupported_media_type');
    expect(error.message).toMatch(/Content-Encoding 'gzip'/);
  });

  it('feedback by external id that finds no run names the chain it looked in', async () => {
    const res = await gw.request('POST', '/v1/feedback', { chain: 'nuls', externalId: 'null-1', tenant: 'acme', overrides: [] });
    expect(res.status).toBe(404);
    expect(res.body.error).toMatchObject({ code: 'not_found', details: { chain: 'nuls', externalId: 'null-1' } });
    expect(res.body.error.message).toContain("chain 'nuls'");
  });

  it("a NUL in the runs list's externalId is a 400, not a 500", async () => {
    const res = await gw.request('GET', '/v1/runs?externalId=a%00b');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.message).toMatch(/U\+0000/);
  });
});

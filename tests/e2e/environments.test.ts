/**
 * Known environments: a chain lists the environment names it accepts (dev, staging, prod unless
 * it names its own), and a call or a rollout stage for another name is a 400 in the error format,
 * before anything is called or recorded: `"production"` can no longer silently miss every `prod`
 * stage. Through /v1 invoke, LangServe invoke and batch, rollout creation and the CLI. A stage
 * naming a tenant that does not exist is refused the same way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { ADMIN, noPostgres, startTestGateway, type TestGateway } from '../support/gateway.js';

describe.skipIf(noPostgres)('known environments', () => {
  let gw: TestGateway;
  let up: FakeUpstream;
  beforeAll(async () => {
    up = await startFakeUpstream({ behaviour: { output: () => ({ total: 1 }) } });
    gw = await startTestGateway({ listen: true });
    expect((await gw.request('PUT', '/v1/tenants/acme', {})).status).toBeLessThan(300);
    expect((await gw.request('PUT', '/v1/chains/c', {})).status).toBe(201);
    for (const version of ['v1', 'v2'])
      expect((await gw.request('POST', '/v1/chains/c/versions', { version, adapter: { type: 'http', url: up.url } })).status).toBe(201);
  });
  afterAll(async () => {
    await gw?.close();
    await up?.close();
  });

  const unknownEnvironment = (res: { status: number; body: any }, field: string, environments = ['dev', 'staging', 'prod']) => {
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('unknown_environment');
    expect(res.body.error.message).toContain(`'production' is not an environment of chain 'c' (${environments.join(', ')})`);
    expect(res.body.error.details).toEqual({ field, environment: 'production', environments });
  };

  it('a chain lists dev, staging and prod unless it names its own', async () => {
    const chain = await gw.request('GET', '/v1/chains/c');
    expect(chain.body.environments).toEqual(['dev', 'staging', 'prod']);
  });

  it('an invoke for an unknown environment is a 400, with no upstream call and no run', async () => {
    const before = up.requests.length;
    unknownEnvironment(
      await gw.request('POST', '/v1/chains/c/invoke', { tenant: 'acme', environment: 'production', input: {}, externalId: 'E-1' }),
      'environment',
    );
    const ok = await gw.request('POST', '/v1/chains/c/invoke', { tenant: 'acme', environment: 'prod', input: {} });
    expect(ok.status).toBe(200);
    expect(up.requests.length).toBe(before + 1);
    await gw.gateway.services.writer.flush();
    expect((await gw.request('GET', '/v1/runs?chain=c&externalId=E-1')).body.items).toEqual([]);
  });

  it('LangServe invoke and batch refuse it too, before any call', async () => {
    const before = up.requests.length;
    unknownEnvironment(
      await gw.request('POST', '/chains/c/invoke', { input: {}, config: { configurable: { tenant: 'acme', environment: 'production' } } }),
      'environment',
    );
    unknownEnvironment(
      await gw.request('POST', '/chains/c/batch', {
        inputs: [{}, {}],
        config: [
          { configurable: { tenant: 'acme', environment: 'prod' } },
          { configurable: { tenant: 'acme', environment: 'production' } },
        ],
      }),
      'environment',
    );
    expect(up.requests.length).toBe(before);
  });

  it('a rollout whose stage or shadow names an unknown environment is a 400', async () => {
    const rollout = (over: Record<string, unknown>) =>
      gw.request('POST', '/v1/rollouts', { chain: 'c', control: 'v1', candidate: 'v2', guardrails: [], ...over });
    unknownEnvironment(
      await rollout({
        stages: [
          { environments: ['staging'], percent: 100 },
          { environments: ['prod', 'production'], percent: 10 },
        ],
      }),
      'body.stages.1.environments.1',
    );
    unknownEnvironment(await rollout({ stages: [], shadow: { percent: 10, environments: ['production'] } }), 'body.shadow.environments.0');
    expect((await gw.request('GET', '/v1/rollouts')).body.items).toEqual([]);
  });

  it('a rollout naming a tenant that does not exist is a 400 naming it', async () => {
    const rollout = (over: Record<string, unknown>) =>
      gw.request('POST', '/v1/rollouts', { chain: 'c', control: 'v1', candidate: 'v2', guardrails: [], ...over });
    const stage = await rollout({ stages: [{ environments: ['staging'], tenants: ['acme', 'acmee', 'globx'], percent: 100 }] });
    expect(stage.status).toBe(400);
    expect(stage.body.error).toEqual({
      code: 'unknown_tenant',
      message: "body.stages.0.tenants: 'acmee', 'globx' are not tenants (PUT /v1/tenants/{id} creates one)",
      details: { field: 'body.stages.0.tenants', tenants: ['acmee', 'globx'] },
    });
    const excluded = await rollout({ stages: [{ environments: ['prod'], excludeTenants: ['nobody'], percent: 10 }] });
    expect(excluded.body.error).toMatchObject({ code: 'unknown_tenant', details: { field: 'body.stages.0.excludeTenants' } });
    const shadow = await rollout({ stages: [], shadow: { percent: 10, tenants: ['nobody'] } });
    expect(shadow.body.error).toMatchObject({ code: 'unknown_tenant', details: { field: 'body.shadow.tenants' } });
    expect((await gw.request('GET', '/v1/rollouts')).body.items).toEqual([]);
  });

  it('a chain may name its own environments (each once); the others are then refused', async () => {
    const dup = await gw.request('PUT', '/v1/chains/c', { environments: ['prod', 'prod'] });
    expect(dup.status).toBe(400);
    const put = await gw.request('PUT', '/v1/chains/c', { environments: ['eu-prod', 'prod'] });
    expect(put.status).toBe(200);
    expect(put.body.environments).toEqual(['eu-prod', 'prod']);
    expect((await gw.request('POST', '/v1/chains/c/invoke', { tenant: 'acme', environment: 'eu-prod', input: {} })).status).toBe(200);
    const staging = await gw.request('POST', '/v1/chains/c/invoke', { tenant: 'acme', environment: 'staging', input: {} });
    expect(staging.status).toBe(400);
    expect(staging.body.error.details.environments).toEqual(['eu-prod', 'prod']);
    unknownEnvironment(
      await gw.request('POST', '/v1/chains/c/invoke', { tenant: 'acme', environment: 'production', input: {} }),
      'environment',
      ['eu-prod', 'prod'],
    );
    // A description-only change keeps the list.
    expect((await gw.request('PUT', '/v1/chains/c', { description: 'x' })).body.environments).toEqual(['eu-prod', 'prod']);
  });

  it('the CLI sets and shows a chain environments', async () => {
    let out = '';
    let err = '';
    const code = await runCli(['--url', gw.url!, '--token', ADMIN, 'chains', 'put', 'c', '--environments', 'dev,staging,prod,eu-prod'], {
      out: (s) => (out += s),
      err: (s) => (err += s),
    });
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toContain('environments: dev, staging, prod, eu-prod');
    expect((await gw.request('GET', '/v1/chains/c')).body.environments).toEqual(['dev', 'staging', 'prod', 'eu-prod']);
  });
});

/**
 * The rollout scenario against a real Unleash server (unleash-server from npm, in a child process,
 * on its own PostgreSQL database): every lifecycle action shows in Unleash and in routing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { noPostgres, startTestGateway, type TestGateway } from '../support/gateway.js';
import { createTestDatabase, type TestDatabase } from '../support/pg.js';
import { startUnleashServer, type UnleashServer } from '../support/unleash-server.js';
import { defineRolloutScenario } from './rollout-scenario.js';

describe.skipIf(noPostgres)('rollouts on a real Unleash server', () => {
  let gw: TestGateway;
  let upstream: FakeUpstream;
  let unleash: UnleashServer;
  let unleashDb: TestDatabase;

  beforeAll(async () => {
    unleashDb = await createTestDatabase({ empty: true, prefix: 'cc_unleash' });
    unleash = await startUnleashServer({ databaseUrl: unleashDb.url });
    upstream = await startFakeUpstream({ behaviour: { output: (input: any) => ({ echo: input }) } });
    gw = await startTestGateway({
      env: {
        UNLEASH_URL: unleash.url,
        UNLEASH_API_TOKEN: unleash.clientToken,
        UNLEASH_ADMIN_TOKEN: unleash.adminToken,
        UNLEASH_REFRESH_MS: '300',
      },
    });
  }, 180_000);
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
    await unleash?.stop();
    await unleashDb?.drop();
  });

  defineRolloutScenario(() => ({ gw, upstream }));

  it('keeps the flag in Unleash in step with the rollout', async () => {
    const admin = async (path: string) => {
      const res = await fetch(`${unleash.url}/admin${path}`, { headers: { authorization: unleash.adminToken } });
      return res.json();
    };
    const r = await gw.request('POST', '/v1/rollouts', {
      chain: 'extract',
      control: 'v2',
      candidate: 'v1',
      stages: [
        { environments: ['staging'], tenants: ['acme'], percent: 100 },
        { environments: ['prod'], percent: 25, splitBy: 'unit' },
      ],
    });
    expect(r.status).toBe(201);
    const flag = r.body.flag;
    let feature = await admin(`/projects/default/features/${flag}`);
    let env = feature.environments.find((e: any) => e.name === 'development');
    expect(env.enabled).toBe(true);
    expect(env.strategies).toHaveLength(1);
    expect(env.strategies[0].constraints).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ contextName: 'tenantEnvironment', values: ['staging'] }),
        expect.objectContaining({ contextName: 'tenantId', values: ['acme'] }),
      ]),
    );

    await gw.request('POST', `/v1/rollouts/${r.body.id}/advance`, {});
    feature = await admin(`/projects/default/features/${flag}`);
    env = feature.environments.find((e: any) => e.name === 'development');
    expect(env.strategies).toHaveLength(2);
    const unitStage = env.strategies.find((s: any) => s.parameters.stickiness === 'unitKey');
    expect(unitStage.variants.find((v: any) => v.name === 'candidate')).toMatchObject({ weightType: 'fix', weight: 250 });

    await gw.request('POST', `/v1/rollouts/${r.body.id}/rollback`, { reason: 'test' });
    feature = await admin(`/projects/default/features/${flag}`);
    expect(feature.environments.find((e: any) => e.name === 'development').enabled).toBe(false);
    const call = await gw.request('POST', '/v1/chains/extract/invoke', { tenant: 'acme', environment: 'staging', input: {} });
    expect(call.body.variant).toBe('default');
  });
});

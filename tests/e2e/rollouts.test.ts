/**
 * Rollouts end to end on the embedded flag store (flag definitions in PostgreSQL, evaluated by
 * unleash-client's engine): staging tenants first, then a share of production; lifecycle actions
 * change routing at once and land in the audit log. The same against a real Unleash server is in
 * tests/e2e/rollouts-unleash.test.ts.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { noPostgres, startTestGateway, type TestGateway } from '../support/gateway.js';
import { defineRolloutScenario } from './rollout-scenario.js';

describe.skipIf(noPostgres)('rollouts on the embedded flag store', () => {
  let gw: TestGateway;
  let upstream: FakeUpstream;
  beforeAll(async () => {
    upstream = await startFakeUpstream({ behaviour: { output: (input: any) => ({ echo: input }) } });
    gw = await startTestGateway();
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });
  defineRolloutScenario(() => ({ gw, upstream }));
});

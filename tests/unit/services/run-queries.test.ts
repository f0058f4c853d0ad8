/** RunQueries: read-your-writes over the writer's queue and the store, one place for both routes and feedback. */
import { describe, expect, it } from 'vitest';
import type { Principal } from '../../../src/domain/auth/principal.js';
import { NotFoundError } from '../../../src/domain/model/errors.js';
import { CHAIN, world } from '../../support/in-memory/world.js';

const admin: Principal = { kind: 'admin', keyName: 'ADMIN_TOKEN' };
const globex: Principal = { kind: 'tenant', tenantId: 'globex', keyId: 'k', keyName: 'ci' };

describe('RunQueries', () => {
  it('answers a run still queued, then the stored one, with the latest feedback whichever holds it', async () => {
    const w = await world();
    const { runId } = await w.invoke.invoke({ chain: CHAIN, tenant: 'acme', environment: 'prod', input: {} });
    expect(await w.runs.get(runId, admin)).toMatchObject({ id: runId, tenantId: 'acme', feedback: null });
    await w.writer.flush();
    await w.feedback.byRunId(runId, { overrides: [{ field: 'total', value: 1 }] }, admin);
    // Stored run, queued feedback.
    expect((await w.runs.get(runId, admin)).feedback).toMatchObject({ overridden: true, fields: ['total'] });
    await w.writer.flush();
    await w.feedback.byRunId(runId, { overrides: [] }, admin);
    // Stored feedback, newer feedback queued: the queued one.
    expect((await w.runs.get(runId, admin)).feedback).toMatchObject({ overridden: false, fields: [] });
    await w.writer.flush();
    expect((await w.runs.get(runId, admin)).feedback).toMatchObject({ overridden: false });
  });

  it("reads another tenant's run as missing", async () => {
    const w = await world();
    const { runId } = await w.invoke.invoke({ chain: CHAIN, tenant: 'acme', environment: 'prod', input: {} });
    await expect(w.runs.get(runId, globex)).rejects.toBeInstanceOf(NotFoundError);
    await w.writer.flush();
    await expect(w.runs.get(runId, globex)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('finds the newest run by external id in the queue before the store, within a tenant', async () => {
    const w = await world();
    const stored = await w.invoke.invoke({ chain: CHAIN, tenant: 'acme', environment: 'prod', input: {}, externalId: 'X' });
    await w.writer.flush();
    expect((await w.runs.latestByExternalId(CHAIN, 'X'))?.id).toBe(stored.runId);
    const queued = await w.invoke.invoke({ chain: CHAIN, tenant: 'globex', environment: 'prod', input: {}, externalId: 'X' });
    expect((await w.runs.latestByExternalId(CHAIN, 'X'))?.id).toBe(queued.runId);
    expect((await w.runs.latestByExternalId(CHAIN, 'X', 'acme'))?.id).toBe(stored.runId);
    expect(await w.runs.latestByExternalId(CHAIN, 'Y')).toBeUndefined();
  });

  it('lists stored runs only, newest first', async () => {
    const w = await world();
    const first = await w.invoke.invoke({ chain: CHAIN, tenant: 'acme', environment: 'prod', input: {} });
    await w.writer.flush();
    w.clock.now = new Date(w.clock.now.getTime() + 1000);
    await w.invoke.invoke({ chain: CHAIN, tenant: 'acme', environment: 'prod', input: {} });
    expect((await w.runs.list({ tenant: 'acme' }, 10)).map((r) => r.id)).toEqual([first.runId]);
    await w.writer.flush();
    expect(await w.runs.list({ tenant: 'acme' }, 10)).toHaveLength(2);
    expect((await w.runs.list({ tenant: 'acme' }, 10))[1]?.id).toBe(first.runId);
  });
});

/** ErasureService on in-memory ports: queued runs are flushed first, the job reports what it did. */
import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../../../src/domain/model/errors.js';
import { CHAIN, world } from '../../support/in-memory/world.js';

describe('ErasureService', () => {
  it("erases the tenant's runs and feedback, queued ones included, and nobody else's", async () => {
    const w = await world();
    const call = (tenant: string) => w.invoke.invoke({ chain: CHAIN, tenant, environment: 'prod', input: {} });
    const stored = await call('acme');
    await w.writer.flush();
    await w.feedback.byRunId(stored.runId, { overrides: [] }, { kind: 'admin', keyName: 'test' });
    await call('acme'); // still queued when the erasure starts
    const kept = await call('globex');

    const job = await w.erasure.start('acme');
    expect(job.status).toBe('running');
    await job.done;
    expect(await w.erasure.status(job.id)).toMatchObject({
      tenantId: 'acme',
      status: 'done',
      deletedRuns: 2,
      finishedAt: w.now().toISOString(),
    });
    expect([...w.runRepo.runs.keys()]).toEqual([kept.runId]);
    expect(w.runRepo.feedback.size).toBe(0);
    expect(w.writer.backlog).toBe(0);
  });

  it("forgets the tenant's cached Idempotency-Key answers, and only that tenant's (issue 19 item 5)", async () => {
    const w = await world();
    const call = (tenant: string) => w.invoke.invoke({ chain: CHAIN, tenant, environment: 'prod', input: {}, idempotencyKey: 'k1' });
    const erased = await call('acme');
    const kept = await call('globex');
    await (
      await w.erasure.start('acme')
    ).done;
    const again = await call('acme');
    expect(again.replayed).toBeFalsy();
    expect(again.runId).not.toBe(erased.runId);
    const theirs = await call('globex');
    expect(theirs).toMatchObject({ runId: kept.runId, replayed: true });
  });

  it('reports a failure (and says to send the DELETE again) when the store is away', async () => {
    const w = await world();
    w.runRepo.failure = new Error('connection refused');
    const job = await w.erasure.start('acme');
    await job.done;
    expect(await w.erasure.status(job.id)).toMatchObject({ status: 'failed', error: expect.stringContaining('Send the DELETE again') });
    expect((await w.erasure.status(job.id)).deletedRuns).toBeUndefined();
  });

  it('does not know an erasure it never started', async () => {
    const w = await world();
    await expect(w.erasure.status('00000000-0000-4000-8000-000000000000')).rejects.toThrow(NotFoundError);
  });
});

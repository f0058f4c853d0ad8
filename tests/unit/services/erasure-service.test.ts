/** ErasureService on in-memory ports: queued runs are flushed first, the job reports what it did. */
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { NotFoundError } from '../../../src/domain/model/errors.js';
import type { ErasureRecord, ErasureRepository } from '../../../src/domain/ports/erasure-repository.js';
import { ErasureService, type ErasureJob } from '../../../src/domain/services/erasure-service.js';
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

  describe('another replica’s erasure (issue 19 item 5)', () => {
    /** The erasures table two replicas share. */
    class SharedErasures implements ErasureRepository {
      readonly rows = new Map<string, ErasureRecord>();
      async saveErasure(job: ErasureJob, startedAt: Date): Promise<void> {
        this.rows.set(job.erasureId, { job: structuredClone(job), startedAt });
      }
      async getErasure(id: string): Promise<ErasureJob | undefined> {
        return this.rows.get(id)?.job;
      }
      async erasuresSince(since: Date): Promise<ErasureRecord[]> {
        return [...this.rows.values()].filter((r) => r.startedAt >= since);
      }
    }

    /** Replica A erases acme while replica B still holds a run of acme it answered before: B's queue. */
    async function twoReplicas(late: boolean) {
      const w = await world();
      const answered = await w.invoke.invoke({ chain: CHAIN, tenant: 'acme', environment: 'prod', input: {} });
      await w.writer.flush();
      const heldByB = structuredClone(w.runRepo.runs.get(answered.runId)!);
      w.runRepo.runs.delete(answered.runId);
      heldByB.createdAt = new Date(w.now().getTime() - 1000);
      const jobs = new SharedErasures();
      const log = pino({ level: 'silent' });
      const a = new ErasureService({ store: w.runRepo, writer: w.writer, jobs, log, now: w.now });
      const b = new ErasureService({
        store: w.runRepo,
        writer: { flush: async () => {} },
        jobs,
        log,
        now: w.now,
      });
      await b.watch(); // B has been watching since before the erasure
      await (
        await a.start('acme')
      ).done;
      // B's writer lands the run it held, after A's erasure (its own batch timer).
      if (late) w.runRepo.runs.set(heldByB.id, heldByB);
      // A new call of acme after the erasure, stored: no leftover of the erasure.
      const after = await w.invoke.invoke({ chain: CHAIN, tenant: 'acme', environment: 'prod', input: {} });
      await w.writer.flush();
      return { w, b, heldByB, after };
    }

    it('erases again what this replica wrote of the tenant from before the erasure, once the other replica is done', async () => {
      const { w, b, heldByB } = await twoReplicas(true);
      expect(w.runRepo.runs.has(heldByB.id)).toBe(true);
      await b.watch();
      expect(w.runRepo.runs.has(heldByB.id)).toBe(false);
      expect([...w.runRepo.runs.values()].filter((r) => r.tenantId === 'acme' && r.createdAt < w.now())).toEqual([]);
    });

    it('leaves the tenant alone when nothing of it from before the erasure landed late', async () => {
      const { w, b, after } = await twoReplicas(false);
      await b.watch();
      expect(w.runRepo.runs.has(after.runId)).toBe(true);
    });
  });

  it('does not know an erasure it never started', async () => {
    const w = await world();
    await expect(w.erasure.status('00000000-0000-4000-8000-000000000000')).rejects.toThrow(NotFoundError);
  });
});

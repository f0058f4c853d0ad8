/**
 * GDPR erasure of a tenant's runs and feedback. Runs in the background (a tenant may have
 * millions of runs); the job's status says when it is done, and is kept in the database so any
 * replica answers for it. Queued runs are flushed first so nothing of the tenant's is written
 * after the erasure. Answers cached for Idempotency-Key retries hold the tenant's outputs: they
 * are forgotten here at once, and by every other replica when it sees the erasure (`watch`).
 * Another replica's queue is not this one's to flush: runs it answered before the erasure can
 * land after it. So each replica, once another's erasure is done, flushes its own writer and, if
 * runs of the tenant from before the erasure are stored again, erases the tenant once more
 * (which also takes the tenant's runs of the few seconds since: privacy before completeness).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { NotFoundError } from '../model/errors.js';
import type { DatasetRepository } from '../ports/dataset-repository.js';
import type { ErasureRepository } from '../ports/erasure-repository.js';
import type { RunRecorder } from '../ports/run-recorder.js';
import type { RunRepository } from '../ports/run-repository.js';

export interface ErasureJob {
  erasureId: string;
  tenantId: string;
  status: 'running' | 'done' | 'failed';
  deletedRuns?: number;
  /** Dataset cases that came from the tenant's runs (with their replay results). */
  deletedDatasetCases?: number;
  finishedAt?: string;
  error?: string;
}

export interface ErasureDeps {
  store: Pick<RunRepository, 'eraseTenant' | 'hasTenantRunsBefore'>;
  datasets?: Pick<DatasetRepository, 'eraseTenant'>;
  writer: Pick<RunRecorder, 'flush'>;
  /** Where erasures are kept for every replica; absent: in this process only. */
  jobs?: ErasureRepository;
  /** What the replica keeps of a tenant's calls in memory: Idempotency-Key answers (InvokeService), recently written runs. */
  caches?: { forgetTenant(tenantId: string): void }[];
  log: Logger;
  now: () => Date;
}

/** How far back each look for other replicas' erasures reaches before the previous one. */
const WATCH_OVERLAP_MS = 10_000;

export class ErasureService {
  private readonly jobs = new Map<string, ErasureJob>();

  constructor(private readonly deps: ErasureDeps) {}

  /** Records the erasure (every replica can follow it from now on) and starts it. */
  async start(tenantId: string): Promise<{ id: string; status: ErasureJob['status']; done: Promise<void> }> {
    const job: ErasureJob = { erasureId: randomUUID(), tenantId, status: 'running' };
    const startedAt = this.deps.now();
    await this.deps.jobs?.saveErasure(job, startedAt);
    this.jobs.set(job.erasureId, job);
    this.forget(tenantId);
    const done = this.run(job, startedAt);
    return { id: job.erasureId, status: job.status, done };
  }

  /** The erasure as this replica runs it, or as the database has it (another replica's). */
  async status(id: string): Promise<ErasureJob> {
    const job = this.jobs.get(id) ?? (await this.deps.jobs?.getErasure(id));
    if (!job) throw new NotFoundError('Erasure', id);
    return job;
  }

  /**
   * Forgets what this replica keeps of tenants whose erasure another replica started since the
   * last call (run periodically; the first call only marks where to start). Each erasure once:
   * answers cached after it are not the erased data.
   */
  async watch(): Promise<void> {
    if (!this.deps.jobs) return;
    const since = this.watchedSince;
    this.watchedSince = this.deps.now();
    if (!since) return;
    // Overlap by a little: a row started just before our clock read can commit after the last query.
    const from = new Date(since.getTime() - WATCH_OVERLAP_MS);
    for (const [id, at] of this.watched) if (at < from.getTime()) this.watched.delete(id);
    for (const { job, startedAt } of await this.deps.jobs.erasuresSince(from)) {
      if (this.watched.has(job.erasureId) || this.jobs.has(job.erasureId)) continue;
      this.watched.set(job.erasureId, startedAt.getTime());
      this.forget(job.tenantId);
      this.othersRunning.set(job.erasureId, { tenantId: job.tenantId, startedAt });
    }
    for (const [id, other] of this.othersRunning) {
      const job = await this.deps.jobs.getErasure(id);
      if (job?.status === 'running') continue;
      this.othersRunning.delete(id);
      if (job?.status === 'done') await this.sweepAfter(id, other.tenantId, other.startedAt);
    }
  }

  /** After another replica's erasure: what this replica wrote of the tenant from before it goes too. */
  private async sweepAfter(erasureId: string, tenantId: string, startedAt: Date): Promise<void> {
    await this.deps.writer.flush();
    if (!(await this.deps.store.hasTenantRunsBefore(tenantId, startedAt))) return;
    const deletedRuns = await this.deps.store.eraseTenant(tenantId);
    this.forget(tenantId);
    this.deps.log.warn(
      { tenantId, erasureId, deletedRuns },
      'runs of an erased tenant landed after another replica erased it; erased them too',
    );
  }

  /** Other replicas' erasures seen but not yet done. */
  private readonly othersRunning = new Map<string, { tenantId: string; startedAt: Date }>();

  private watchedSince?: Date;
  /** Other replicas' erasures already acted on, by start time (kept for the overlap only). */
  private readonly watched = new Map<string, number>();

  private forget(tenantId: string): void {
    for (const cache of this.deps.caches ?? []) cache.forgetTenant(tenantId);
  }

  private async run(job: ErasureJob, startedAt: Date): Promise<void> {
    try {
      await this.deps.writer.flush();
      job.deletedRuns = await this.deps.store.eraseTenant(job.tenantId);
      if (this.deps.datasets) job.deletedDatasetCases = await this.deps.datasets.eraseTenant(job.tenantId);
      job.status = 'done';
      // Answers cached while the erasure ran (calls answered before it) go too.
      this.forget(job.tenantId);
      this.deps.log.info({ tenantId: job.tenantId, deletedRuns: job.deletedRuns }, 'tenant runs erased');
    } catch (err) {
      job.status = 'failed';
      job.error = 'The erasure failed; it is logged. Send the DELETE again.';
      this.deps.log.error({ err, tenantId: job.tenantId }, 'tenant erasure failed');
    } finally {
      job.finishedAt = this.deps.now().toISOString();
    }
    try {
      await this.deps.jobs?.saveErasure(job, startedAt);
    } catch (err) {
      // This replica still answers for it; others see it running until the DELETE is sent again.
      this.deps.log.error({ err, tenantId: job.tenantId }, 'erasure status not stored');
    }
  }
}

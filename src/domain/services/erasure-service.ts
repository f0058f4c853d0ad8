/**
 * GDPR erasure of a tenant's runs and feedback. Runs in the background (a tenant may have
 * millions of runs); the job's status says when it is done. Queued runs are flushed first so
 * nothing of the tenant's is written after the erasure.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { NotFoundError } from '../model/errors.js';
import type { RunRecorder } from '../ports/run-recorder.js';
import type { RunRepository } from '../ports/run-repository.js';

export interface ErasureJob {
  erasureId: string;
  tenantId: string;
  status: 'running' | 'done' | 'failed';
  deletedRuns?: number;
  finishedAt?: string;
  error?: string;
}

export interface ErasureDeps {
  store: Pick<RunRepository, 'eraseTenant'>;
  writer: Pick<RunRecorder, 'flush'>;
  log: Logger;
  now: () => Date;
}

export class ErasureService {
  private readonly jobs = new Map<string, ErasureJob>();

  constructor(private readonly deps: ErasureDeps) {}

  start(tenantId: string): { id: string; status: ErasureJob['status']; done: Promise<void> } {
    const job: ErasureJob = { erasureId: randomUUID(), tenantId, status: 'running' };
    this.jobs.set(job.erasureId, job);
    const done = this.run(job);
    return { id: job.erasureId, status: job.status, done };
  }

  status(id: string): ErasureJob {
    const job = this.jobs.get(id);
    if (!job) throw new NotFoundError('Erasure', id);
    return job;
  }

  private async run(job: ErasureJob): Promise<void> {
    try {
      await this.deps.writer.flush();
      job.deletedRuns = await this.deps.store.eraseTenant(job.tenantId);
      job.status = 'done';
      this.deps.log.info({ tenantId: job.tenantId, deletedRuns: job.deletedRuns }, 'tenant runs erased');
    } catch (err) {
      job.status = 'failed';
      job.error = 'The erasure failed; it is logged. Send the DELETE again.';
      this.deps.log.error({ err, tenantId: job.tenantId }, 'tenant erasure failed');
    } finally {
      job.finishedAt = this.deps.now().toISOString();
    }
  }
}

/** Erasures in the database: the ErasureRepository port (src/domain/ports/erasure-repository.ts). */
import { asc, eq, gte } from 'drizzle-orm';
import type { ErasureRecord, ErasureRepository } from '../domain/ports/erasure-repository.js';
import type { ErasureJob } from '../domain/services/erasure-service.js';
import type { Db } from './db.js';
import { erasures } from './schema.js';

type ErasureRow = typeof erasures.$inferSelect;

function toJob(row: ErasureRow): ErasureJob {
  const job: ErasureJob = { erasureId: row.id, tenantId: row.tenantId, status: row.status };
  if (row.deletedRuns !== null) job.deletedRuns = row.deletedRuns;
  if (row.deletedDatasetCases !== null) job.deletedDatasetCases = row.deletedDatasetCases;
  if (row.finishedAt) job.finishedAt = row.finishedAt.toISOString();
  if (row.error !== null) job.error = row.error;
  return job;
}

export class ErasureStore implements ErasureRepository {
  constructor(private readonly db: Db) {}

  async saveErasure(job: ErasureJob, startedAt: Date): Promise<void> {
    const row = {
      id: job.erasureId,
      tenantId: job.tenantId,
      status: job.status,
      deletedRuns: job.deletedRuns ?? null,
      deletedDatasetCases: job.deletedDatasetCases ?? null,
      error: job.error ?? null,
      startedAt,
      finishedAt: job.finishedAt ? new Date(job.finishedAt) : null,
    };
    const { id: _id, startedAt: _startedAt, ...changes } = row;
    await this.db.insert(erasures).values(row).onConflictDoUpdate({ target: erasures.id, set: changes });
  }

  async getErasure(id: string): Promise<ErasureJob | undefined> {
    const [row] = await this.db.select().from(erasures).where(eq(erasures.id, id));
    return row && toJob(row);
  }

  async erasuresSince(since: Date): Promise<ErasureRecord[]> {
    const rows = await this.db.select().from(erasures).where(gte(erasures.startedAt, since)).orderBy(asc(erasures.startedAt));
    return rows.map((row) => ({ job: toJob(row), startedAt: row.startedAt }));
  }
}

/**
 * Where erasures are kept, so that every replica can answer for one and learn that a tenant's
 * data was erased (src/store/erasure-store.ts implements it on the database).
 */
import type { ErasureJob } from '../services/erasure-service.js';

export interface ErasureRecord {
  job: ErasureJob;
  startedAt: Date;
}

export interface ErasureRepository {
  /** Creates or updates the erasure's row. */
  saveErasure(job: ErasureJob, startedAt: Date): Promise<void>;
  getErasure(id: string): Promise<ErasureJob | undefined>;
  /** Erasures started at or after `since` (of any replica), oldest first. */
  erasuresSince(since: Date): Promise<ErasureRecord[]>;
}

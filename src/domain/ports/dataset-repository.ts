/** The DatasetRepository port: datasets and their cases, and the reviewed runs they are built from. */
import type { Dataset, DatasetCase, DatasetFilter, NewDatasetCase, ReviewedRun } from '../model/dataset.js';

export interface NewDataset {
  id: string;
  name: string;
  chain: string;
  filter: DatasetFilter | null;
  createdAt: Date;
}

export type AppendOutcome = { ok: Dataset } | { refused: 'not_found' | 'has_replays' | 'too_many_cases' };

export type DeleteOutcome = { ok: true } | { refused: 'not_found' } | { refused: 'replaying'; replayId: string };

export interface DatasetRepository {
  /** Reviewed runs with an output of a chain, picked and ordered by the filter (at most `limit`). */
  reviewedRuns(chain: string, filter: DatasetFilter): Promise<ReviewedRun[]>;
  /** Creates the dataset with its cases, in one transaction; `fields`: the fields the cases compare. */
  create(dataset: NewDataset, cases: readonly NewDatasetCase[], fields: readonly string[]): Promise<Dataset>;
  /** Appends cases unless the dataset has a replay or would exceed `maxCases` (checked under a lock on the dataset). */
  appendCases(id: string, cases: readonly NewDatasetCase[], maxCases: number, fields: readonly string[]): Promise<AppendOutcome>;
  get(id: string): Promise<Dataset | undefined>;
  list(chain?: string): Promise<Dataset[]>;
  /** Cases in order, after position `afterSeq`. */
  listCases(id: string, afterSeq: number, limit: number): Promise<DatasetCase[]>;
  /**
   * Deletes the dataset, its cases and its replays, unless a replay of it is queued or running
   * (checked under the lock replays are created under, so none starts in between).
   */
  delete(id: string): Promise<DeleteOutcome>;
  /** GDPR: deletes the cases that came from a tenant's runs (and their replay results). */
  eraseTenant(tenantId: string): Promise<number>;
}

/**
 * The RunRepository port: where runs and feedback are stored and read back. The database store
 * (src/store/run-store.ts) implements it; the run writer (src/runtime/run-writer.ts) is its only
 * writer, the services and routes read through it.
 *
 * Errors at this port are the domain's (src/domain/model/errors.ts): a record the store refuses as
 * data is a RecordRefusedError, a pipelined batch whose predecessor failed a
 * PreviousBatchFailedError; anything else means the store is away (retry later).
 */
import type { Feedback, Run, RunWithFeedback, Variant } from '../model/run.js';

/**
 * A run as far as the read models count it and the guardrail triggers look at it: a few of its
 * fields, which the run writer notes when it queues the run, so that a batch never revives its
 * runs from their JSON on the gateway's thread (bench/README.md). A Run is one.
 */
export type CountedRun = Pick<
  Run,
  | 'id'
  | 'chainId'
  | 'version'
  | 'variant'
  | 'rolloutId'
  | 'stage'
  | 'assignmentKey'
  | 'tenantId'
  | 'environment'
  | 'error'
  | 'fallback'
  | 'latencyMs'
  | 'promptTokens'
  | 'completionTokens'
  | 'createdAt'
>;

/** A batch for writeBatch. */
export interface RecordBatch {
  /** Each run as it is stored: its JSON (the spool line's, encoded once). */
  runJson: string[];
  /** The same runs, in the same order, as the read models count them. */
  runs: CountedRun[];
  feedback: Feedback[];
}

/**
 * How a batch takes part in the writer's pipeline: the next batch inserts its runs while this one
 * updates the read models, and waits for this one's commit before its own read models and
 * feedback, so it sees this batch's runs and counts nothing twice.
 */
export interface BatchPipeline {
  /** Called once the batch's runs are inserted (its transaction still open). */
  runsInserted?: () => void;
  /** The previous batch's transaction: awaited after the runs insert; its failure aborts this batch. */
  after?: Promise<unknown>;
}

export interface RunFilters {
  chain?: string;
  tenant?: string;
  environment?: string;
  variant?: Variant;
  overridden?: boolean;
  /** One stored form, or any of several (an id stored as itself or as its keyed hash: run-redactor.ts). */
  externalId?: string | readonly string[];
  from?: Date;
  to?: Date;
  rolloutId?: string;
}

/** Keyset position in a newest-first listing. */
export interface RunCursor {
  createdAt: Date;
  id: string;
}

export interface RunRepository {
  /** Stores a batch in one transaction; runs already stored are skipped, feedback replaces earlier feedback. */
  writeBatch(batch: RecordBatch, pipeline?: BatchPipeline): Promise<void>;
  getRun(id: string): Promise<RunWithFeedback | undefined>;
  /** The newest run with this external id (of this tenant, when given). */
  latestByExternalId(chainId: string, externalId: string, tenantId?: string): Promise<Run | undefined>;
  byIdempotencyKey(tenantId: string, chainId: string, key: string): Promise<Run | undefined>;
  /** Newest first, keyset-paged on (createdAt, id). */
  listRuns(filters: RunFilters, limit: number, cursor?: RunCursor): Promise<RunWithFeedback[]>;
  /** GDPR erasure of one tenant's runs and their feedback; the number of runs deleted. */
  eraseTenant(tenantId: string): Promise<number>;
  /** Whether any run of the tenant created before `before` is stored (an erasure's leftovers). */
  hasTenantRunsBefore(tenantId: string, before: Date): Promise<boolean>;
  /** Retention: deletes runs (and their feedback) created before `before`; the number deleted. */
  deleteOlderThan(before: Date): Promise<number>;
}

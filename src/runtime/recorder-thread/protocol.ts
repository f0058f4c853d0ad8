/**
 * The messages between the gateway's thread (thread-batch-store.ts) and the recorder thread
 * (recorder-thread-worker.ts). Everything here is structured-cloned: plain data only. Runs cross
 * as the JSON the spool already made of them (strings: cheap to post), never as object graphs.
 */
import type { Feedback } from '../../domain/model/run.js';

/** What the thread needs to open its own pool (PostgreSQL mode only). */
export interface RecorderThreadData {
  databaseUrl: string;
  /** Connections of the thread's pool (the run writer keeps at most two batches in flight). */
  poolSize: number;
  /** pino level of the thread's logger (its lines are written by the gateway's logger). */
  logLevel: string;
}

/** One RunStore.writeBatch: the runs as their JSON, feedback as it is (a Date and arrays). */
export interface WriteRequest {
  op: 'write';
  id: number;
  /** The batch whose transaction this one waits for before its read models (BatchPipeline.after). */
  after?: number;
  runJson: string[];
  feedback: Feedback[];
}

export type RecorderRequest = WriteRequest | { op: 'close' };

/** A writeBatch failure, as the run writer tells them apart. */
export interface WireBatchError {
  kind: 'refused' | 'previous' | 'other';
  message: string;
  /** RecordRefusedError's SQLSTATE. */
  sqlState?: string;
  /** A DomainError's code (e.g. database_unavailable). */
  code?: string;
}

export type RecorderReply =
  /** The batch's runs are inserted (BatchPipeline.runsInserted): the next batch may be sent. */
  | { op: 'runsInserted'; id: number }
  | { op: 'done'; id: number; error?: WireBatchError }
  /** One line of the thread's pino log, written by the gateway's logger. */
  | { op: 'log'; line: string }
  | { op: 'closed' };

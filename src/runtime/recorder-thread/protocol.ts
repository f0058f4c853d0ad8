/**
 * The messages between the gateway's thread (thread-run-recorder.ts) and the recorder thread
 * (recorder-thread-worker.ts). Everything here is structured-cloned: plain data only, and a
 * record crosses as its JSON (one string, cheap to post), never as an object graph.
 */
import type { SpoolStatus } from '../spool/spool.js';
import type { WireError } from '../shadow-thread/protocol.js';

export type { WireError } from '../shadow-thread/protocol.js';
export { fromWireError, toWireError } from '../shadow-thread/protocol.js';

/** What the thread needs to open its own pool, spool and writer (PostgreSQL mode only). */
export interface RecorderThreadData {
  databaseUrl: string;
  /** Connections of the thread's own pool (the writer keeps at most two batches in flight). */
  poolSize: number;
  spoolDir: string;
  spoolMaxBytes: number;
  batchSize: number;
  maxInFlight: number;
  flushIntervalMs: number;
  connectTimeoutMs: number;
  /** pino level of the thread's logger (its lines go to the gateway's log through the gateway's thread). */
  logLevel: string;
}

/**
 * One record: `m` is its number on the gateway's side (the thread's spool numbers its lines its
 * own way), `k` run or feedback, `j` its storableJson.
 */
export interface WireRecord {
  m: number;
  k: 'r' | 'f';
  j: string;
}

export type RecorderRequest =
  /** Records of one turn of the gateway's event loop, in order. */
  { op: 'records'; records: WireRecord[] } | { op: 'flush'; id: number } | { op: 'close' };

/** The part of the spool's state the gateway's thread mirrors (capacity checks, /readyz, metrics). */
export interface RecorderState {
  spool: SpoolStatus;
  /** Records the database refused as data (set aside in rejected.jsonl). */
  rejected: number;
}

export type RecorderReply =
  /** The spool opened (the previous process's records replayed): records are taken from now on. */
  | { op: 'ready'; state: RecorderState }
  /** The thread could not start (e.g. the database was away for the replay). */
  | { op: 'failed'; error: WireError }
  /**
   * The records of one `records` message are in the spool (one group commit): `failed` were
   * refused (their error, e.g. spool full), `notJournaled` are held in the thread's memory only
   * (the disk refused the write, spool.ts).
   */
  | { op: 'written'; upTo: number; failed?: { m: number; error: WireError }[]; notJournaled?: number[]; state: RecorderState }
  /** These records are in the database (read models included) or set aside. */
  | { op: 'committed'; ms: number[]; state: RecorderState }
  | { op: 'state'; state: RecorderState }
  | { op: 'flushed'; id: number; error?: WireError }
  /** One line of the thread's pino log, written by the gateway's logger. */
  | { op: 'log'; line: string }
  | { op: 'closed' };

/**
 * The recorder thread (README "Performance"; PostgreSQL mode with RECORDER_THREAD): the run
 * writer's batches are written here, by a RunStore with its read models on a pg pool of its own,
 * so the batch inserts' parameter strings, the driver's work, result parsing and their garbage
 * live on this thread's event loop and heap, not on the one that answers customers. The run
 * writer, its queue and the spool stay on the gateway's thread (thread-batch-store.ts is the
 * other end): a reply never waits for this thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import pino from 'pino';
import { DomainError, PreviousBatchFailedError, RecordRefusedError } from '../../domain/model/errors.js';
import { LOG_REDACT, LOG_SERIALIZERS } from '../../log-options.js';
import { openDatabase } from '../../store/db.js';
import { RolloutReadModel } from '../../store/read-models/rollout-read-model.js';
import { RunStore } from '../../store/run-store.js';
import { parseRun } from '../spool/spool-record.js';
import { BACKGROUND_THREAD_NICENESS, yieldCoresFromThisThread } from '../thread-priority.js';
import type { RecorderReply, RecorderRequest, RecorderThreadData, WireBatchError, WriteRequest } from './protocol.js';

const port = parentPort!;
const data = workerData as RecorderThreadData;
// Its batches only wait: the thread that answers calls gets the cores first.
yieldCoresFromThisThread(BACKGROUND_THREAD_NICENESS);
const post = (reply: RecorderReply): void => port.postMessage(reply);

// Serialized here with the gateway's redaction and serializers: a database error's parameters
// (runs' inputs and outputs) never leave this thread.
const log = pino(
  { level: data.logLevel, redact: { paths: LOG_REDACT, censor: '[redacted]' }, serializers: LOG_SERIALIZERS },
  { write: (line: string) => post({ op: 'log', line }) },
);

// No wait for the server: a batch sent while it is away fails, and the run writer retries it.
const opened = openDatabase({ databaseUrl: data.databaseUrl, dataDir: '', poolSize: data.poolSize, waitForServer: false });
const store = opened.then((database) => new RunStore(database.db, new RolloutReadModel(), { batchJsonAsBytes: true }));
store.catch(() => {}); // each batch reports it

/** Transactions of the batches sent lately, for the pipelining (`after`). */
const transactions = new Map<number, Promise<void>>();

function toWire(err: unknown): WireBatchError {
  if (err instanceof RecordRefusedError)
    return { kind: 'refused', message: err.message, ...(err.sqlState ? { sqlState: err.sqlState } : {}) };
  if (err instanceof PreviousBatchFailedError) return { kind: 'previous', message: err.message };
  // A failed query's message carries its parameters (runs' inputs and outputs): the statement and
  // the driver's error only, as LOG_SERIALIZERS logs it.
  const message =
    err instanceof DrizzleQueryError
      ? `Failed query: ${err.query}${err.cause instanceof Error ? `: ${err.cause.message}` : ''}`
      : err instanceof Error
        ? err.message
        : String(err);
  return { kind: 'other', message, ...(err instanceof DomainError ? { code: err.code } : {}) };
}

async function write(m: WriteRequest): Promise<void> {
  const runs = m.runJson.map(parseRun);
  const after = m.after === undefined ? undefined : transactions.get(m.after);
  const transaction = store.then((s) =>
    s.writeBatch(
      { runs, feedback: m.feedback, runJson: m.runJson },
      { ...(after ? { after } : {}), runsInserted: () => post({ op: 'runsInserted', id: m.id }) },
    ),
  );
  transactions.set(m.id, transaction);
  // At most two batches are in flight; a few more are kept for a late `after`.
  for (const id of transactions.keys()) if (id < m.id - 8) transactions.delete(id);
  try {
    await transaction;
    post({ op: 'done', id: m.id });
  } catch (err) {
    post({ op: 'done', id: m.id, error: toWire(err) });
  }
}

async function close(): Promise<void> {
  await Promise.allSettled([...transactions.values()]);
  await (await opened).close();
  post({ op: 'closed' });
}

port.on('message', (m: RecorderRequest) => {
  if (m.op === 'write') void write(m);
  else void close().catch((err: unknown) => log.error({ err }, 'the recorder thread did not close cleanly'));
});

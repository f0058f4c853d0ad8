/**
 * The gateway's side of the recorder thread (recorder-thread-worker.ts), PostgreSQL mode with
 * RECORDER_THREAD (README "Configuration"): the run writer's store. The writer, its queue (read
 * your writes), the spool (the reply waits for its group commit, as ever) and RunsCommitted stay
 * on this thread; only writeBatch crosses: the batch's runs as the JSON the spool already made
 * (strings, cheap to post), and the thread does the inserts, the read models and the driver's
 * work, with their garbage on its own heap.
 *
 * The thread starts with the first batch and is referenced only while batches are in flight. If
 * it dies, the batches it held fail (the writer keeps their records queued and in the spool, and
 * retries them as it does while the database is away) and the next batch starts a new thread. A
 * batch the dead thread had committed is written again: runs are inserted ON CONFLICT DO NOTHING
 * and only the inserted ones reach the read models; feedback is an upsert counted by its change.
 */
import { SHARE_ENV, type Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { DomainError, PreviousBatchFailedError, RecordRefusedError } from '../../domain/model/errors.js';
import type { BatchPipeline, RecordBatch, RunRepository } from '../../domain/ports/run-repository.js';
import { BACKGROUND_THREAD_YOUNG_GENERATION_MB, BackgroundThread, workerEntry } from '../worker-boot.js';
import type { RecorderReply, RecorderThreadData, WireBatchError, WriteRequest } from './protocol.js';

const entry = workerEntry(import.meta.url, 'recorder-thread-worker');
const LEVELS: Record<number, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

export interface ThreadBatchStoreOptions {
  thread: RecorderThreadData;
  log: Logger;
  /** How long close() waits for the batches in flight before terminating the thread. */
  closeTimeoutMs?: number;
}

interface InFlight {
  resolve: () => void;
  reject: (err: Error) => void;
  runsInserted?: () => void;
}

export class ThreadBatchStore implements Pick<RunRepository, 'writeBatch'> {
  readonly #opts: ThreadBatchStoreOptions;
  readonly #inFlight = new Map<number, InFlight>();
  /** The id each transaction promise was sent with, and by which thread (for `after`). */
  readonly #sent = new WeakMap<Promise<unknown>, { id: number; worker: Worker }>();
  readonly #thread: BackgroundThread<RecorderReply>;
  #nextId = 1;

  constructor(opts: ThreadBatchStoreOptions) {
    this.#opts = opts;
    this.#thread = new BackgroundThread<RecorderReply>(
      entry,
      {
        workerData: opts.thread,
        env: SHARE_ENV,
        resourceLimits: { maxYoungGenerationSizeMb: BACKGROUND_THREAD_YOUNG_GENERATION_MB },
      },
      { message: (w, m) => this.#receive(w, m), lost: (how, err, closing) => this.#lost(how, err, closing) },
      opts.closeTimeoutMs ?? 5000,
    );
  }

  /** Batches sent and not yet settled. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  writeBatch(batch: RecordBatch, pipeline: BatchPipeline = {}): Promise<void> {
    if (this.#thread.closing) return Promise.reject(new Error('the recorder thread is closed'));
    const previous = pipeline.after ? this.#sent.get(pipeline.after) : undefined;
    if (pipeline.after && previous?.worker !== this.#thread.current) {
      // Sent to a thread that is gone (its batches failed): wait for it here, as RunStore would.
      const after = pipeline.after;
      return after.then(
        () => this.writeBatch(batch, { ...pipeline, after: undefined }),
        (err: unknown) => {
          pipeline.runsInserted?.();
          throw new PreviousBatchFailedError(err);
        },
      );
    }
    const worker = this.#thread.get();
    const id = this.#nextId++;
    const request: WriteRequest = {
      op: 'write',
      id,
      ...(previous ? { after: previous.id } : {}),
      runJson: batch.runJson,
      feedback: batch.feedback,
    };
    const transaction = new Promise<void>((resolve, reject) => {
      worker.postMessage(request);
      if (this.#inFlight.size === 0) worker.ref();
      this.#inFlight.set(id, { resolve, reject, ...(pipeline.runsInserted ? { runsInserted: pipeline.runsInserted } : {}) });
    });
    this.#sent.set(transaction, { id, worker });
    return transaction;
  }

  /** Waits for the batches in flight (bounded), then stops the thread. */
  close(): Promise<void> {
    return this.#thread.close();
  }

  /** Stops the thread as a crash would (tests): its batches fail, the next batch starts a new one. */
  terminateThread(): Promise<void> {
    return this.#thread.terminate();
  }

  #receive(worker: Worker, m: RecorderReply): void {
    if (m.op === 'log') {
      relayLog(this.#opts.log, m.line);
      return;
    }
    if (worker !== this.#thread.current) return;
    if (m.op === 'runsInserted') {
      const b = this.#inFlight.get(m.id);
      const runsInserted = b?.runsInserted;
      if (b) b.runsInserted = undefined;
      runsInserted?.();
    } else if (m.op === 'done') {
      const b = this.#inFlight.get(m.id);
      if (b === undefined) return;
      this.#inFlight.delete(m.id);
      if (this.#inFlight.size === 0) worker.unref();
      b.runsInserted?.();
      if (m.error) b.reject(fromWire(m.error));
      else b.resolve();
    }
  }

  /** The thread is gone: the batches it held failed (the writer retries them). */
  #lost(how: string, err: Error | undefined, closing: boolean): void {
    if (!closing)
      this.#opts.log.error({ err, batches: this.#inFlight.size }, `the recorder thread ${how}; the next batch starts a new one`);
    const reason = new Error(`the recorder thread ${how} before the batch was reported committed`);
    for (const b of this.#inFlight.values()) {
      b.runsInserted?.();
      b.reject(reason);
    }
    this.#inFlight.clear();
  }
}

function fromWire(e: WireBatchError): Error {
  if (e.kind === 'refused') return new RecordRefusedError(e.sqlState);
  if (e.kind === 'previous') return new PreviousBatchFailedError(new Error(e.message));
  if (e.code !== undefined) return new DomainError(e.code, 503, e.message);
  return new Error(e.message);
}

/** One line of the thread's pino log, written by the gateway's logger (its destination). */
function relayLog(log: Logger, line: string): void {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return;
  }
  const { level, msg, time: _time, pid: _pid, hostname: _hostname, ...rest } = parsed;
  log[LEVELS[level as number] ?? 'info']({ ...rest, thread: 'recorder' }, typeof msg === 'string' ? msg : '');
}

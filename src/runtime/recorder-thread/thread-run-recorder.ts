/**
 * The gateway's side of the recorder thread (recorder-thread-worker.ts), PostgreSQL mode with
 * RECORDER_THREAD (README "Configuration"): the RunRecorder the services see. Each run and feedback
 * is made into its JSON once here (storableJson) and posted, with the others of the same turn of
 * the event loop, as one message; the thread appends them to its spool (one group commit) and
 * acknowledges, and only then does recordRun's promise resolve, so a reply still never leaves
 * before its record is in the spool file. What the thread has not reported committed stays here
 * (read your writes: pendingRun, pendingByExternalId, pendingFeedbackFor), and so does its JSON:
 * if the thread dies, a new one replays its spool and is sent everything again (run inserts are
 * ON CONFLICT DO NOTHING, feedback an upsert; the read models count a run or a change once).
 *
 * Capacity is mirrored: the thread posts its spool's state with every acknowledgement, so
 * assertCapacity() still throws the 503 synchronously, before the upstream is called.
 */
import { SHARE_ENV, type Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { UnavailableError } from '../../domain/model/errors.js';
import type { Feedback, Run } from '../../domain/model/run.js';
import type { EventPublisher } from '../../domain/ports/event-publisher.js';
import type { RunRecorder } from '../../domain/ports/run-recorder.js';
import { storableJson, warnReplaced } from '../../store/storable-json.js';
import type { GatewayEvents } from '../events.js';
import type { RecentRuns } from '../recent-runs.js';
import { externalKey, externalKeys } from '../run-writer.js';
import type { SpoolStatus } from '../spool/spool.js';
import { startWorker, workerEntry } from '../worker-boot.js';
import { fromWireError, type RecorderReply, type RecorderState, type RecorderThreadData, type WireRecord } from './protocol.js';

const entry = workerEntry(import.meta.url, 'recorder-thread-worker');
const MiB = 1024 * 1024;
const LEVELS: Record<number, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

export interface ThreadRunRecorderOptions {
  thread: RecorderThreadData;
  log: Logger;
  /** RunsCommitted after each batch the thread committed (the guardrails evaluate from fresh aggregates). */
  events?: EventPublisher<Pick<GatewayEvents, 'RunsCommitted'>>;
  /** Where committed runs stay a while, for feedback while the database is away (recent-runs.ts). */
  recent?: Pick<RecentRuns, 'add' | 'get'>;
  /** How long close() waits for the thread to write what is queued and close its spool. */
  closeTimeoutMs?: number;
}

/** A record sent to the thread and not yet reported committed. */
interface Entry {
  m: number;
  kind: 'r' | 'f';
  json: string;
  run?: Run;
  fb?: Feedback;
  /** Settles the caller's promise once the thread wrote (or refused) it; cleared then. */
  settle?: { resolve: () => void; reject: (err: Error) => void };
}

export class ThreadRunRecorder implements RunRecorder {
  readonly #opts: ThreadRunRecorderOptions;
  readonly #log: Logger;
  /** Every record not yet committed, in order (Map keeps insertion order). */
  readonly #entries = new Map<number, Entry>();
  /** Records whose write has not been acknowledged, oldest first. */
  #unacked: Entry[] = [];
  #unackedHead = 0;
  /** JSON characters posted and not yet counted in the mirrored spool state. */
  #unackedBytes = 0;
  #outbox: WireRecord[] = [];
  readonly #pendingRuns = new Map<string, Run>();
  readonly #pendingFeedback = new Map<string, Feedback>();
  readonly #pendingByExternal = new Map<string, Run>();
  readonly #notJournaled = new Set<string>();
  readonly #flushes = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  #state: RecorderState;
  #worker: Worker | undefined;
  #m = 0;
  #flushId = 0;
  #restarts = 0;
  #closing: Promise<void> | undefined;
  readonly #sendLater = () => this.#send();
  readonly #warnReplaced = (runId: string) => warnReplaced(this.#log, runId);

  private constructor(opts: ThreadRunRecorderOptions, worker: Worker, state: RecorderState) {
    this.#opts = opts;
    this.#log = opts.log;
    this.#state = state;
    this.#adopt(worker);
  }

  /** Starts the thread; resolves once its spool is open (a previous process's records replayed). */
  static async open(opts: ThreadRunRecorderOptions): Promise<ThreadRunRecorder> {
    const { worker, state } = await boot(opts);
    return new ThreadRunRecorder(opts, worker, state);
  }

  // ---- RunRecorder ---------------------------------------------------------------------------

  recordRun(run: Run): Promise<void> {
    if (this.#closing) return Promise.reject(shuttingDown());
    const e = this.#queue('r', storableJson(run, this.#warnReplaced, run.id));
    e.run = run;
    this.#pendingRuns.set(run.id, run);
    if (run.externalId) for (const k of externalKeys(run)) this.#pendingByExternal.set(k, run);
    return this.#written(e);
  }

  /** Resolves once the feedback is in the spool; rejects (503) when the spool cannot take it. */
  recordFeedback(fb: Feedback): Promise<void> {
    if (this.#closing) throw shuttingDown();
    this.assertCapacity();
    const e = this.#queue('f', storableJson(fb, this.#warnReplaced, fb.runId));
    e.fb = fb;
    this.#pendingFeedback.set(fb.runId, fb);
    return this.#written(e);
  }

  /** The spool's 503s, from the state the thread last posted (and what was posted since). */
  assertCapacity(): void {
    const spool = this.#state.spool;
    const bytes = spool.bytes + this.#unackedBytes;
    if (bytes >= spool.maxBytes)
      throw new UnavailableError(
        `The run spool is full (${mib(bytes)} MiB of runs not yet in the database, limit ${mib(spool.maxBytes)} MiB): no new calls are taken until the database catches up.`,
        'spool_full',
      );
    if (!spool.writable)
      throw new UnavailableError(
        `The run spool cannot be written (${spool.unwritable?.error ?? 'disk full or failing'}): nothing was taken and no upstream was called. Retry later or on another replica.`,
        'spool_unwritable',
      );
  }

  pendingRun(id: string): Run | undefined {
    return this.#pendingRuns.get(id);
  }

  pendingByExternalId(chainId: string, externalId: string, tenantId?: string): Run | undefined {
    return this.#pendingByExternal.get(externalKey(chainId, externalId, tenantId));
  }

  recentRun(id: string): Run | undefined {
    return this.#opts.recent?.get(id);
  }

  pendingFeedbackFor(runId: string): Feedback | undefined {
    return this.#pendingFeedback.get(runId);
  }

  /** Writes everything queued so far; rejects when the database refuses. */
  flush(): Promise<void> {
    this.#send();
    const id = ++this.#flushId;
    return new Promise<void>((resolve, reject) => {
      this.#flushes.set(id, { resolve, reject });
      this.#post({ op: 'flush', id });
    });
  }

  // ---- what the gateway's other parts read ---------------------------------------------------

  /** Records not yet committed to the database. */
  get backlog(): number {
    return this.#entries.size;
  }

  /** Records the database refused as data (set aside in the spool's rejected.jsonl). */
  get rejected(): number {
    return this.#state.rejected;
  }

  /** The spool's status as the thread last posted it (/readyz). */
  spoolStatus(): SpoolStatus {
    return this.#state.spool;
  }

  /** True for a run answered while the spool could not be written and not yet in the database. */
  notJournaled(runId: string): boolean {
    return this.#notJournaled.has(runId);
  }

  /** Writes what is queued, closes the spool and stops the thread (graceful shutdown). */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** Stops the thread as a crash would (tests): a new one replays its spool and is sent everything again. */
  async terminateThread(): Promise<void> {
    await this.#worker?.terminate();
  }

  // ---- internals -----------------------------------------------------------------------------

  #queue(kind: 'r' | 'f', json: string): Entry {
    const e: Entry = { m: ++this.#m, kind, json };
    this.#entries.set(e.m, e);
    this.#unacked.push(e);
    this.#unackedBytes += json.length;
    if (this.#outbox.length === 0) queueMicrotask(this.#sendLater);
    this.#outbox.push({ m: e.m, k: kind, j: json });
    return e;
  }

  #written(e: Entry): Promise<void> {
    return new Promise<void>((resolve, reject) => (e.settle = { resolve, reject }));
  }

  /** Posts the records of this turn as one message. */
  #send(): void {
    if (this.#outbox.length === 0) return;
    const records = this.#outbox;
    this.#outbox = [];
    this.#post({ op: 'records', records });
  }

  #post(m: Parameters<Worker['postMessage']>[0]): void {
    // Without a thread (it is being restarted) the records wait here: the new one is sent them all.
    this.#worker?.postMessage(m);
  }

  #adopt(worker: Worker): void {
    this.#worker = worker;
    worker.unref();
    worker.on('message', (m: RecorderReply) => this.#receive(worker, m));
    worker.on('error', (err) => this.#log.error({ err }, 'the recorder thread failed'));
    worker.on('exit', (code) => this.#lost(worker, code));
  }

  #receive(worker: Worker, m: RecorderReply): void {
    if (worker !== this.#worker) return;
    switch (m.op) {
      case 'written':
        this.#state = m.state;
        this.#acknowledge(m);
        break;
      case 'committed':
        this.#state = m.state;
        this.#committed(m.ms);
        break;
      case 'state':
        this.#state = m.state;
        break;
      case 'flushed': {
        const f = this.#flushes.get(m.id);
        this.#flushes.delete(m.id);
        if (m.error) f?.reject(fromWireError(m.error));
        else f?.resolve();
        break;
      }
      case 'log':
        this.#relayLog(m.line);
        break;
      default:
        break;
    }
  }

  #acknowledge(m: Extract<RecorderReply, { op: 'written' }>): void {
    const failed = m.failed ? new Map(m.failed.map((f) => [f.m, f.error])) : undefined;
    const notJournaled = m.notJournaled ? new Set(m.notJournaled) : undefined;
    while (this.#unackedHead < this.#unacked.length && this.#unacked[this.#unackedHead]!.m <= m.upTo) {
      const e = this.#unacked[this.#unackedHead++]!;
      this.#unackedBytes -= e.json.length;
      const error = failed?.get(e.m);
      if (error) {
        // Not taken (e.g. the spool over its limit): the caller gets the 503, nothing is kept.
        this.#forget(e);
        e.settle?.reject(fromWireError(error));
      } else {
        if (notJournaled?.has(e.m) && e.run) this.#notJournaled.add(e.run.id);
        e.settle?.resolve();
      }
      e.settle = undefined;
    }
    if (this.#unackedHead > 1024 && this.#unackedHead * 2 > this.#unacked.length) {
      this.#unacked = this.#unacked.slice(this.#unackedHead);
      this.#unackedHead = 0;
    }
  }

  #committed(ms: readonly number[]): void {
    const runs: Run[] = [];
    const feedback: Feedback[] = [];
    for (const m of ms) {
      const e = this.#entries.get(m);
      if (e === undefined) continue;
      this.#forget(e);
      if (e.run) {
        this.#opts.recent?.add(e.run, e.json);
        runs.push(e.run);
      } else if (e.fb) feedback.push(e.fb);
    }
    this.#opts.events?.publish('RunsCommitted', { runs, feedback });
  }

  /** The record leaves the pending maps (only if a later one did not replace it there). */
  #forget(e: Entry): void {
    this.#entries.delete(e.m);
    const run = e.run;
    if (run) {
      if (this.#pendingRuns.get(run.id) === run) this.#pendingRuns.delete(run.id);
      if (run.externalId) for (const k of externalKeys(run)) if (this.#pendingByExternal.get(k) === run) this.#pendingByExternal.delete(k);
      this.#notJournaled.delete(run.id);
    }
    if (e.fb && this.#pendingFeedback.get(e.fb.runId) === e.fb) this.#pendingFeedback.delete(e.fb.runId);
  }

  #relayLog(line: string): void {
    relayLog(this.#log, line);
  }

  /** The thread is gone: unless closing, a new one takes over what this one held. */
  #lost(worker: Worker, code: number): void {
    if (worker !== this.#worker) return;
    this.#worker = undefined;
    if (this.#closing) return;
    this.#log.error({ code, backlog: this.#entries.size }, 'the recorder thread exited; a new one replays its spool and takes over');
    void this.#restart();
  }

  async #restart(): Promise<void> {
    for (;;) {
      try {
        const { worker, state } = await boot(this.#opts);
        this.#restarts = 0;
        if (this.#closing) {
          await worker.terminate();
          return;
        }
        this.#state = state;
        this.#adopt(worker);
        this.#resend();
        return;
      } catch (err) {
        const delay = Math.min(5000, 250 * 2 ** this.#restarts++);
        this.#log.error({ err, retryInMs: delay }, 'the recorder thread could not start; retrying');
        await new Promise((resolve) => setTimeout(resolve, delay));
        if (this.#closing) return;
      }
    }
  }

  /** Everything not committed, in order, to the new thread; then the flushes still waiting. */
  #resend(): void {
    this.#outbox = [];
    this.#unacked = [];
    this.#unackedHead = 0;
    this.#unackedBytes = 0;
    let records: WireRecord[] = [];
    for (const e of this.#entries.values()) {
      // Acknowledged once already: the new thread's acknowledgement changes nothing for it.
      this.#unacked.push(e);
      this.#unackedBytes += e.json.length;
      records.push({ m: e.m, k: e.kind, j: e.json });
      if (records.length >= 1000) {
        this.#post({ op: 'records', records });
        records = [];
      }
    }
    if (records.length > 0) this.#post({ op: 'records', records });
    for (const id of this.#flushes.keys()) this.#post({ op: 'flush', id });
  }

  async #close(): Promise<void> {
    this.#send();
    const worker = this.#worker;
    if (worker === undefined) return;
    worker.ref();
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#opts.closeTimeoutMs ?? 20_000);
      worker.on('message', (m: RecorderReply) => m.op === 'closed' && resolve());
      worker.once('exit', () => resolve());
      worker.postMessage({ op: 'close' });
    });
    clearTimeout(timer);
    this.#worker = undefined;
    await worker.terminate();
    // Whatever is still waiting will not be written by this process (it stays in the spool if it got there).
    for (let i = this.#unackedHead; i < this.#unacked.length; i++) this.#unacked[i]!.settle?.reject(shuttingDown());
    for (const f of this.#flushes.values()) f.reject(shuttingDown());
    this.#flushes.clear();
  }
}

/** Starts a thread and waits for its spool to open. */
function boot(opts: ThreadRunRecorderOptions): Promise<{ worker: Worker; state: RecorderState }> {
  const worker = startWorker(entry, { workerData: opts.thread, env: SHARE_ENV });
  return new Promise((resolve, reject) => {
    const onMessage = (m: RecorderReply) => {
      if (m.op === 'log') {
        relayLog(opts.log, m.line);
      } else if (m.op === 'ready') {
        worker.off('message', onMessage);
        worker.off('exit', onExit);
        resolve({ worker, state: m.state });
      } else if (m.op === 'failed') {
        worker.off('exit', onExit);
        void worker.terminate();
        reject(fromWireError(m.error));
      }
    };
    const onExit = (code: number) => reject(new Error(`the recorder thread exited while starting (code ${code})`));
    worker.on('message', onMessage);
    worker.once('exit', onExit);
  });
}

/** One line of the thread's pino log, written by the gateway's logger (its redaction, its destination). */
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

function shuttingDown(): UnavailableError {
  return new UnavailableError('The gateway is shutting down.', 'shutting_down');
}

function mib(n: number): string {
  return (n / MiB).toFixed(1);
}

/**
 * The write path: every answered run and every piece of feedback is queued here on the request
 * path (synchronously, after it went to the journal when one is configured) and written to the
 * database in batches off the request path. While the database is away the queue only grows;
 * entries leave it only once a batch committed. Reads of a run not yet written are answered
 * from `pending`, so a client may send feedback right after its invoke returns.
 */
import type { RecentRuns } from './recent-runs.js';
import type { Logger } from 'pino';
import { PreviousBatchFailedError, RecordRefusedError } from '../domain/model/errors.js';
import type { Feedback, Run } from '../domain/model/run.js';
import type { EventPublisher } from '../domain/ports/event-publisher.js';
import type { RunRecorder } from '../domain/ports/run-recorder.js';
import type { CountedRun, RecordBatch, RunRepository } from '../domain/ports/run-repository.js';
import { storableJson, warnReplaced } from '../store/storable-json.js';
import type { GatewayEvents } from './events.js';
import { parseRun } from './spool/spool-record.js';

/** Durable append-only log in front of the queue (the spool, src/runtime/spool). */
export interface Journal {
  /** Appends before the caller answers (`json`: the record's storableJson); throws UnavailableError when full. */
  appendRun(run: Run, json: string): number;
  appendFeedback(fb: Feedback, json: string): number;
  /**
   * Resolves once every run appended so far is written (the spool's group commit); undefined
   * when nothing is waiting. A journal without it writes in appendRun.
   */
  written?(): Promise<void> | undefined;
  /** Everything up to and including `seq` is in the database. */
  committed(seq: number): void;
  /** Keeps a record the database refused as data, for a person to look at. */
  setAside?(kind: 'run' | 'feedback', value: unknown): void;
  /** Throws UnavailableError when full; checked before a call reaches its upstream. */
  assertCapacity?(): void;
}

/** A batch on its way to the database; its records stay queued (and pending) until it commits. */
interface InFlight {
  runs: QueuedRun[];
  feedback: Queued<Feedback>[];
  /** Its transaction: the next batch waits for it before its read models and feedback. */
  transaction: Promise<void>;
  /** Resolves once its runs are inserted, or it is done: the next batch may be sent. */
  runsInserted: Promise<void>;
  /** Settles once it is committed (or set aside) and off the queue; rejects with why it was not. */
  done: Promise<void>;
  /** Its transaction failed: nothing more is sent until pipeline() has collected it. */
  failed: boolean;
}

interface Queued<T> {
  seq: number;
  item: T;
  /** The record's JSON: one encoding for the journal and the database insert. */
  json: string;
}

/**
 * A run waiting for its batch: its JSON, and of its fields only those the read models count and
 * the guardrail triggers read (it is the batch's CountedRun itself), not the run's own objects.
 * Every answered run stays here until its batch commits, long enough to outlive a young-generation
 * collection or two; kept as objects, they made the gateway's thread copy and promote several KB
 * per call, and revived from their JSON for each batch, they made as much garbage again (README
 * "Performance"). A run is revived only when a lookup asks for it, or the database refuses it.
 */
interface QueuedRun extends CountedRun {
  seq: number;
  json: string;
  /** Its keys in pendingByExternal, made once (two strings to build and hash per run). */
  externalKeys: string[] | undefined;
}

export interface RunWriterOptions {
  store: Pick<RunRepository, 'writeBatch'>;
  log: Logger;
  journal?: Journal;
  /** Most runs (and most feedback) in one batch; 2000 by default. */
  batchSize?: number;
  flushIntervalMs?: number;
  /**
   * Batches in flight at once while the writer is behind (2 by default; 1 for a database with a
   * single connection, PGlite, where a second batch would only wait its turn).
   */
  maxInFlight?: number;
  /** RunsCommitted after each committed batch (the guardrails evaluate from fresh aggregates). */
  events?: EventPublisher<Pick<GatewayEvents, 'RunsCommitted'>>;
  /** Where written runs stay a while, for feedback while the database is away (recent-runs.ts). */
  recent?: Pick<RecentRuns, 'add' | 'get'>;
}

export class RunWriter implements RunRecorder {
  private runs: QueuedRun[] = [];
  private feedback: Queued<Feedback>[] = [];
  private readonly pendingRuns = new Map<string, QueuedRun>();
  private readonly pendingFeedback = new Map<string, Feedback>();
  /**
   * Latest pending run per tenant, chain and external id, for feedback by external id (scoped by
   * tenant: another tenant's run with the same external id must never hide or replace it), and
   * per chain and external id over all tenants (an admin's lookup that names no tenant).
   */
  private readonly pendingByExternal = new Map<string, QueuedRun>();
  private seq = 0;
  /** Batches sent and not yet committed, oldest first. */
  private readonly inFlight: InFlight[] = [];
  private draining?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private failures = 0;
  /** Records the database refused as data (see complete). */
  rejected = 0;
  private closed = false;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly maxInFlight: number;
  private readonly warnReplaced = (runId: string) => warnReplaced(this.opts.log, runId);

  constructor(private readonly opts: RunWriterOptions) {
    this.batchSize = opts.batchSize ?? 2000;
    this.flushIntervalMs = opts.flushIntervalMs ?? 50;
    this.maxInFlight = opts.maxInFlight ?? 2;
  }

  start(): void {
    this.schedule(this.flushIntervalMs);
  }

  recordRun(run: Run): Promise<void> | undefined {
    const json = storableJson(run, this.warnReplaced, run.id);
    const journal = this.opts.journal;
    const seq = journal ? journal.appendRun(run, json) : ++this.seq;
    const queued: QueuedRun = {
      seq,
      json,
      externalKeys: run.externalId ? externalKeys(run) : undefined,
      id: run.id,
      chainId: run.chainId,
      version: run.version,
      variant: run.variant,
      rolloutId: run.rolloutId,
      stage: run.stage,
      assignmentKey: run.assignmentKey,
      tenantId: run.tenantId,
      environment: run.environment,
      error: run.error,
      fallback: run.fallback,
      latencyMs: run.latencyMs,
      promptTokens: run.promptTokens,
      completionTokens: run.completionTokens,
      createdAt: run.createdAt,
    };
    this.runs.push(queued);
    this.pendingRuns.set(run.id, queued);
    if (queued.externalKeys) for (const k of queued.externalKeys) this.pendingByExternal.set(k, queued);
    if (this.runs.length >= this.batchSize) this.kick();
    return journal?.written?.();
  }

  recordFeedback(fb: Feedback): void {
    const json = storableJson(fb, this.warnReplaced, fb.runId);
    const seq = this.opts.journal ? this.opts.journal.appendFeedback(fb, json) : ++this.seq;
    this.feedback.push({ seq, item: fb, json });
    this.pendingFeedback.set(fb.runId, fb);
    if (this.feedback.length >= this.batchSize) this.kick();
  }

  /** Throws the 503 when the journal cannot take more (checked before the upstream is called). */
  assertCapacity(): void {
    this.opts.journal?.assertCapacity?.();
  }

  /** A run answered but not yet in the database. */
  pendingRun(id: string): Run | undefined {
    const queued = this.pendingRuns.get(id);
    return queued && parseRun(queued.json);
  }

  /** The latest run with this external id still queued, of `tenantId` when given, else of any tenant. */
  pendingByExternalId(chainId: string, externalId: string, tenantId?: string): Run | undefined {
    const queued = this.pendingByExternal.get(externalKey(chainId, externalId, tenantId));
    return queued && parseRun(queued.json);
  }

  recentRun(id: string): Run | undefined {
    return this.opts.recent?.get(id);
  }

  pendingFeedbackFor(runId: string): Feedback | undefined {
    return this.pendingFeedback.get(runId);
  }

  get backlog(): number {
    return this.runs.length + this.feedback.length;
  }

  /** Writes everything queued so far; rejects when the database refuses. */
  async flush(): Promise<void> {
    // A failure of a drain this call did not start is not this call's to report.
    while (this.draining) await this.draining.catch(() => {});
    while (this.backlog > 0) await this.drain();
  }

  /** Stops the timer after writing what is queued (graceful shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.flush();
  }

  private kick(): void {
    if (this.draining || this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    if (this.backlog > 0 && !this.draining) {
      try {
        await this.drain();
        this.failures = 0;
      } catch (err) {
        this.failures++;
        this.opts.log.warn({ err, backlog: this.backlog, failures: this.failures }, 'run batch not written yet; will retry');
      }
    }
    // Back off while the database is away (up to 5 s), at once again when it is back.
    const delay =
      this.failures === 0 ? (this.backlog >= this.batchSize ? 0 : this.flushIntervalMs) : Math.min(5000, 100 * 2 ** this.failures);
    this.schedule(delay);
  }

  /** One drain at a time: the timer's and flush()'s share it. */
  private drain(): Promise<void> {
    this.draining ??= this.pipeline().finally(() => (this.draining = undefined));
    return this.draining;
  }

  /**
   * Writes one batch, and more while a full batch is waiting (the timer sends what comes in
   * slower, so steady traffic makes batches of a flush interval, not a stream of tiny ones), until
   * they are all committed or one fails. The next batch is sent as soon as the one before has
   * inserted its runs (up to `maxInFlight` at once), so the database inserts one batch's runs while
   * it updates the read models of the other.
   */
  private async pipeline(): Promise<void> {
    /** The first batch failure collected (boxed: a rejection reason may be any value). */
    let failure: { reason: unknown } | undefined;
    let sent = 0;
    for (;;) {
      const newest = this.inFlight.at(-1);
      const untaken = this.untaken();
      const canSend =
        failure === undefined && untaken > 0 && (sent === 0 || untaken >= this.batchSize) && !this.inFlight.some((b) => b.failed);
      if (canSend && !newest) {
        this.send(undefined);
        sent++;
        continue;
      }
      if (canSend && newest && this.inFlight.length < this.maxInFlight) {
        await newest.runsInserted;
        if (this.inFlight.at(-1) === newest && !newest.failed) {
          this.send(newest);
          sent++;
        }
        continue;
      }
      const oldest = this.inFlight[0];
      if (!oldest) break;
      await oldest.done.catch((err: unknown) => {
        // A failed batch stays in flight until collected here, so no failure goes unseen.
        this.inFlight.splice(this.inFlight.indexOf(oldest), 1);
        if (!(err instanceof PreviousBatchFailedError)) failure ??= { reason: err };
      });
    }
    if (failure !== undefined) throw failure.reason;
  }

  /** Queued records not yet taken by a batch in flight. */
  private untaken(): number {
    let n = this.backlog;
    for (const b of this.inFlight) n -= b.runs.length + b.feedback.length;
    return n;
  }

  /** Sends the next batch from what the batches in flight have not taken. */
  private send(previous: InFlight | undefined): void {
    let runsFrom = 0;
    let feedbackFrom = 0;
    for (const b of this.inFlight) {
      runsFrom += b.runs.length;
      feedbackFrom += b.feedback.length;
    }
    const runs = this.runs.slice(runsFrom, runsFrom + this.batchSize);
    // Feedback refers to runs; a run queued after this batch's cut stays for the next batch,
    // so feedback is cut at the same sequence as the runs.
    const maxRunSeq = runsFrom + runs.length === this.runs.length ? Infinity : runs[runs.length - 1]!.seq;
    const feedback = this.feedback.slice(feedbackFrom, feedbackFrom + this.batchSize).filter((f) => f.seq < maxRunSeq);
    const batch: RecordBatch = { runs, runJson: runs.map((r) => r.json), feedback: feedback.map((f) => f.item) };
    let runsInserted!: () => void;
    const b: InFlight = {
      runs,
      feedback,
      failed: false,
      runsInserted: new Promise<void>((resolve) => (runsInserted = resolve)),
      transaction: this.opts.store.writeBatch(batch, { after: previous?.transaction, runsInserted: () => runsInserted() }),
      done: Promise.resolve(),
    };
    b.done = this.complete(b, batch, previous).finally(runsInserted);
    b.done.catch(() => {}); // awaited by pipeline() in order; a batch it never reaches must not be an unhandled rejection
    this.inFlight.push(b);
  }

  private async complete(b: InFlight, batch: RecordBatch, previous: InFlight | undefined): Promise<void> {
    try {
      await b.transaction;
    } catch (err) {
      b.failed = true;
      if (!(err instanceof RecordRefusedError)) throw err;
      // Refused as data: what this batch writes next comes after the batch before it has settled,
      // and only if that one is in; its records stay queued, in order, otherwise.
      if (
        previous &&
        (await previous.done.then(
          () => false,
          () => true,
        ))
      )
        throw new PreviousBatchFailedError(err);
      if (batch.runs.length + batch.feedback.length <= 1) {
        this.reject(batch, err);
      } else {
        // One record the database refuses must not hold every later run hostage: write the batch
        // one by one and set the refused ones aside (logged by id, never by content). The batch
        // before this one has settled and the one after gave up, so nothing runs beside these.
        for (const r of b.runs) await this.writeAlone({ runs: [r], runJson: [r.json], feedback: [] });
        for (const f of batch.feedback) await this.writeAlone({ runs: [], runJson: [], feedback: [f] });
      }
    }
    this.committed(b, batch);
  }

  private async writeAlone(batch: RecordBatch): Promise<void> {
    try {
      await this.opts.store.writeBatch(batch);
    } catch (err) {
      if (!(err instanceof RecordRefusedError)) throw err;
      this.reject(batch, err);
    }
  }

  private reject(batch: RecordBatch, err: RecordRefusedError): void {
    this.rejected += batch.runs.length + batch.feedback.length;
    for (const json of batch.runJson) this.opts.journal?.setAside?.('run', parseRun(json));
    for (const f of batch.feedback) this.opts.journal?.setAside?.('feedback', f);
    this.opts.log.error(
      { runIds: batch.runs.map((r) => r.id), feedbackRunIds: batch.feedback.map((f) => f.runId), code: err.sqlState },
      "the database refused a record as data; it is set aside in the spool's rejected.jsonl",
    );
  }

  /** The batch is in the database (or set aside): its records leave the queue and the journal. */
  private committed(b: InFlight, batch: RecordBatch): void {
    // Batches commit in the order they were sent (each waits for the one before), so a batch's
    // records are at the front of the queues.
    this.inFlight.splice(this.inFlight.indexOf(b), 1);
    removeFront(this.runs, b.runs);
    removeFront(this.feedback, b.feedback);
    for (const r of b.runs) {
      this.opts.recent?.add(r, r.json);
      if (this.pendingRuns.get(r.id) === r) this.pendingRuns.delete(r.id);
      if (r.externalKeys) for (const ext of r.externalKeys) if (this.pendingByExternal.get(ext) === r) this.pendingByExternal.delete(ext);
    }
    for (const f of b.feedback) if (this.pendingFeedback.get(f.item.runId) === f.item) this.pendingFeedback.delete(f.item.runId);
    const low = Math.min(this.runs[0]?.seq ?? Infinity, this.feedback[0]?.seq ?? Infinity);
    const done = Math.max(b.runs[b.runs.length - 1]?.seq ?? 0, b.feedback[b.feedback.length - 1]?.seq ?? 0);
    this.opts.journal?.committed(low === Infinity ? done : Math.min(done, low - 1));
    this.opts.events?.publish('RunsCommitted', { runs: b.runs, feedback: batch.feedback });
  }
}

/** Removes `taken` from the front of `queue` (where it is, unless batches committed out of order). */
function removeFront<T>(queue: T[], taken: T[]): void {
  if (taken.length === 0) return;
  if (queue[0] === taken[0] && queue[taken.length - 1] === taken[taken.length - 1]) {
    queue.splice(0, taken.length);
    return;
  }
  const gone = new Set(taken);
  let w = 0;
  for (const x of queue) if (!gone.has(x)) queue[w++] = x;
  queue.length = w;
}

/** The key of the pending-by-external-id map: per tenant, or (no tenant) over all tenants. */
function externalKey(chainId: string, externalId: string, tenantId: string | undefined): string {
  return `${tenantId ?? ''}\u0000${chainId}\u0000${externalId}`;
}

function externalKeys(run: Run): string[] {
  return [externalKey(run.chainId, run.externalId!, run.tenantId), externalKey(run.chainId, run.externalId!, undefined)];
}

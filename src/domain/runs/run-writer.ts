/**
 * The write path: every answered run and every piece of feedback is queued here on the request
 * path (synchronously, after it went to the journal when one is configured) and written to the
 * database in batches off the request path. While the database is away the queue only grows;
 * entries leave it only once a batch committed. Reads of a run not yet written are answered
 * from `pending`, so a client may send feedback right after its invoke returns.
 */
import type { Logger } from 'pino';
import type { FeedbackInsert, RecordBatch, RunStore } from '../../store/run-store.js';
import { storableJson, warnReplaced } from '../../store/storable-json.js';
import { isDataError } from '../../store/db-errors.js';
import type { RunInsert } from '../../store/schema.js';

/** Durable append-only log in front of the queue (the spool, src/store/spool). */
export interface Journal {
  /** Appends before the caller answers (`json`: the record's storableJson); throws UnavailableError when full. */
  appendRun(run: RunInsert, json: string): number;
  appendFeedback(fb: FeedbackInsert, json: string): number;
  /** Everything up to and including `seq` is in the database. */
  committed(seq: number): void;
  /** Keeps a record the database refused as data, for a person to look at. */
  setAside?(kind: 'run' | 'feedback', value: unknown): void;
  /** Throws UnavailableError when full; checked before a call reaches its upstream. */
  assertCapacity?(): void;
}

interface Queued<T> {
  seq: number;
  item: T;
  /** The record's JSON: one encoding for the journal and the database insert. */
  json: string;
}

export interface RunWriterOptions {
  store: RunStore;
  log: Logger;
  journal?: Journal;
  batchSize?: number;
  flushIntervalMs?: number;
  /** Called after each committed batch (guardrails evaluate from fresh aggregates). */
  onCommitted?: (batch: RecordBatch) => void;
}

export class RunWriter {
  private runs: Queued<RunInsert>[] = [];
  private feedback: Queued<FeedbackInsert>[] = [];
  private readonly pendingRuns = new Map<string, RunInsert>();
  private readonly pendingFeedback = new Map<string, FeedbackInsert>();
  /** Latest pending run per chain and external id, for feedback by external id. */
  private readonly pendingByExternal = new Map<string, RunInsert>();
  private seq = 0;
  private flushing?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private failures = 0;
  /** Records the database refused as data (see writeOnce). */
  rejected = 0;
  private closed = false;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;

  constructor(private readonly opts: RunWriterOptions) {
    this.batchSize = opts.batchSize ?? 2000;
    this.flushIntervalMs = opts.flushIntervalMs ?? 50;
  }

  start(): void {
    this.schedule(this.flushIntervalMs);
  }

  recordRun(run: RunInsert): void {
    const json = storableJson(run, () => warnReplaced(this.opts.log, run.id));
    const seq = this.opts.journal ? this.opts.journal.appendRun(run, json) : ++this.seq;
    this.runs.push({ seq, item: run, json });
    this.pendingRuns.set(run.id, run);
    if (run.externalId) this.pendingByExternal.set(`${run.chainId}\u0000${run.externalId}`, run);
    if (this.runs.length >= this.batchSize) this.kick();
  }

  recordFeedback(fb: FeedbackInsert): void {
    const json = storableJson(fb, () => warnReplaced(this.opts.log, fb.runId));
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
  pendingRun(id: string): RunInsert | undefined {
    return this.pendingRuns.get(id);
  }

  pendingByExternalId(chainId: string, externalId: string): RunInsert | undefined {
    return this.pendingByExternal.get(`${chainId}\u0000${externalId}`);
  }

  pendingFeedbackFor(runId: string): FeedbackInsert | undefined {
    return this.pendingFeedback.get(runId);
  }

  get backlog(): number {
    return this.runs.length + this.feedback.length;
  }

  /** Writes everything queued so far; rejects when the database refuses. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing.catch(() => {});
    while (this.backlog > 0) {
      this.flushing = this.writeOnce();
      try {
        await this.flushing;
      } finally {
        this.flushing = undefined;
      }
    }
  }

  /** Stops the timer after writing what is queued (graceful shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.flush();
  }

  private kick(): void {
    if (this.flushing || this.closed) return;
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
    if (this.backlog > 0 && !this.flushing) {
      this.flushing = this.writeOnce();
      try {
        await this.flushing;
        this.failures = 0;
      } catch (err) {
        this.failures++;
        this.opts.log.warn({ err, backlog: this.backlog, failures: this.failures }, 'run batch not written yet; will retry');
      } finally {
        this.flushing = undefined;
      }
    }
    // Back off while the database is away (up to 5 s), at once again when it is back.
    const delay = this.failures === 0 ? (this.backlog >= this.batchSize ? 0 : this.flushIntervalMs) : Math.min(5000, 100 * 2 ** this.failures);
    this.schedule(delay);
  }

  private async writeAlone(batch: RecordBatch): Promise<void> {
    try {
      await this.opts.store.writeBatch(batch);
    } catch (err) {
      if (!isDataError(err)) throw err;
      this.reject(batch, err);
    }
  }

  private reject(batch: RecordBatch, err: unknown): void {
    this.rejected += batch.runs.length + batch.feedback.length;
    for (const r of batch.runs) this.opts.journal?.setAside?.('run', r);
    for (const f of batch.feedback) this.opts.journal?.setAside?.('feedback', f);
    this.opts.log.error(
      { runIds: batch.runs.map((r) => r.id), feedbackRunIds: batch.feedback.map((f) => f.runId), code: (err as { code?: string }).code },
      'the database refused a record as data; it is set aside in the spool\'s rejected.jsonl',
    );
  }

  private async writeOnce(): Promise<void> {
    const runs = this.runs.slice(0, this.batchSize);
    const feedback = this.feedback.slice(0, this.batchSize);
    if (runs.length === 0 && feedback.length === 0) return;
    // Feedback refers to runs; a run queued after this batch's cut stays for the next batch,
    // so feedback is cut at the same sequence as the runs.
    const maxRunSeq = runs.length === this.runs.length ? Infinity : runs[runs.length - 1]!.seq;
    const fb = feedback.filter((f) => f.seq < maxRunSeq);
    const batch: RecordBatch = { runs: runs.map((r) => r.item), feedback: fb.map((f) => f.item), runJson: runs.map((r) => r.json) };
    try {
      await this.opts.store.writeBatch(batch);
    } catch (err) {
      // One record the database refuses must not hold every later run hostage: write the batch
      // one by one and set the refused ones aside (logged by id, never by content).
      if (!isDataError(err) || batch.runs.length + batch.feedback.length <= 1) {
        if (isDataError(err)) this.reject(batch, err);
        else throw err;
      } else {
        for (const r of runs) await this.writeAlone({ runs: [r.item], feedback: [], runJson: [r.json] });
        for (const f of batch.feedback) await this.writeAlone({ runs: [], feedback: [f] });
      }
    }
    this.runs.splice(0, runs.length);
    this.feedback.splice(0, fb.length);
    for (const r of runs) {
      if (this.pendingRuns.get(r.item.id) === r.item) this.pendingRuns.delete(r.item.id);
      const ext = r.item.externalId ? `${r.item.chainId}\u0000${r.item.externalId}` : undefined;
      if (ext && this.pendingByExternal.get(ext) === r.item) this.pendingByExternal.delete(ext);
    }
    for (const f of fb) if (this.pendingFeedback.get(f.item.runId) === f.item) this.pendingFeedback.delete(f.item.runId);
    const low = Math.min(this.runs[0]?.seq ?? Infinity, this.feedback[0]?.seq ?? Infinity);
    const done = Math.max(runs[runs.length - 1]?.seq ?? 0, fb[fb.length - 1]?.seq ?? 0);
    this.opts.journal?.committed(low === Infinity ? done : Math.min(done, low - 1));
    this.opts.onCommitted?.(batch);
  }
}

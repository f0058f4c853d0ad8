/**
 * Shadow results, the human's records for their pairs, and skip counts, written in batches off
 * the request path (src/store/shadow-store.ts scores the pairs in the same transaction).
 *
 * Unlike answered runs (run-writer.ts), shadow records have no journal: no caller was answered
 * from them, so a crash loses at most the last batch of shadow measurements, never a customer's
 * run. The queue is bounded: while the database is away the oldest records are dropped past
 * `maxQueued` (and counted), so shadowing can never grow the gateway's memory without limit.
 */
import type { Logger } from 'pino';
import type { OverrideDiff } from '../domain/overrides/diff-overrides.js';
import type { ShadowExpectation, ShadowPairToScore, ShadowRepository, ShadowResult } from '../domain/ports/shadow-repository.js';
import { isDataError } from '../store/db-errors.js';
import type { SkipReason } from './shadow-budget.js';

export interface ShadowWriterOptions {
  store: Pick<ShadowRepository, 'writeBatch'>;
  /** Scores a completed pair (src/domain/shadow/score-shadow.ts with the gateway's hash). */
  score: (pair: ShadowPairToScore) => OverrideDiff;
  log: Logger;
  /** Told of the rollouts whose pairs a batch scored (a shadow gate looks again). */
  onScored?: (rolloutIds: string[]) => void;
  flushIntervalMs?: number;
  batchSize?: number;
  maxQueued?: number;
}

export class ShadowWriter {
  #results: ShadowResult[] = [];
  #expectations: ShadowExpectation[] = [];
  #skips = new Map<string, { rolloutId: string; reason: SkipReason; skipped: number }>();
  #timer?: NodeJS.Timeout;
  #writing?: Promise<void>;
  #failures = 0;
  #closed = false;
  /** Records dropped because the queue was full (the database away for long). */
  dropped = 0;
  readonly #interval: number;
  readonly #batchSize: number;
  readonly #maxQueued: number;

  constructor(private readonly opts: ShadowWriterOptions) {
    this.#interval = opts.flushIntervalMs ?? 100;
    this.#batchSize = opts.batchSize ?? 1000;
    this.#maxQueued = opts.maxQueued ?? 50_000;
  }

  get backlog(): number {
    return this.#results.length + this.#expectations.length;
  }

  start(): void {
    this.#schedule(this.#interval);
  }

  recordResult(result: ShadowResult): void {
    this.#results.push(result);
    this.#bound(this.#results);
  }

  recordExpectation(expectation: ShadowExpectation): void {
    this.#expectations.push(expectation);
    this.#bound(this.#expectations);
  }

  countSkip(rolloutId: string, reason: SkipReason): void {
    const key = `${rolloutId}\u0000${reason}`;
    const s = this.#skips.get(key);
    if (s) s.skipped += 1;
    else this.#skips.set(key, { rolloutId, reason, skipped: 1 });
  }

  /** Writes everything queued so far; rejects when the database refuses. */
  async flush(): Promise<void> {
    while (this.#writing) await this.#writing.catch(() => {});
    while (this.backlog > 0 || this.#skips.size > 0) await this.#write();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.flush();
  }

  #bound<T>(queue: T[]): void {
    if (queue.length <= this.#maxQueued) return;
    const excess = queue.length - this.#maxQueued;
    queue.splice(0, excess);
    if (this.dropped === 0)
      this.opts.log.warn({ maxQueued: this.#maxQueued }, 'shadow records are not reaching the database; dropping the oldest');
    this.dropped += excess;
  }

  #schedule(ms: number): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => void this.#tick(), ms);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    if (this.backlog > 0 || this.#skips.size > 0) {
      try {
        await this.#write();
        this.#failures = 0;
      } catch (err) {
        this.#failures += 1;
        this.opts.log.warn({ err, backlog: this.backlog, failures: this.#failures }, 'shadow batch not written yet; will retry');
      }
    }
    this.#schedule(this.#failures === 0 ? this.#interval : Math.min(5000, 100 * 2 ** this.#failures));
  }

  #write(): Promise<void> {
    this.#writing ??= this.#writeBatch().finally(() => (this.#writing = undefined));
    return this.#writing;
  }

  async #writeBatch(): Promise<void> {
    const results = this.#results.slice(0, this.#batchSize);
    const expectations = this.#expectations.slice(0, this.#batchSize);
    const skips = [...this.#skips.values()];
    this.#skips = new Map();
    try {
      const { scoredRollouts } = await this.opts.store.writeBatch({ results, expectations, skips }, this.opts.score);
      if (scoredRollouts.length > 0) this.opts.onScored?.(scoredRollouts);
    } catch (err) {
      if (!isDataError(err)) {
        // Nothing was written: the skip counts go back, the records stay queued.
        for (const s of skips) for (let i = 0; i < s.skipped; i++) this.countSkip(s.rolloutId, s.reason);
        throw err;
      }
      // A record the database refuses as data must not block the rest: one by one, dropping those it refuses.
      await this.#writeAlone(results, expectations, skips);
    }
    removeWritten(this.#results, results);
    removeWritten(this.#expectations, expectations);
  }

  async #writeAlone(results: ShadowResult[], expectations: ShadowExpectation[], skips: ShadowWriterSkip[]): Promise<void> {
    const one = async (batch: Parameters<ShadowRepository['writeBatch']>[0], id: string) => {
      try {
        const { scoredRollouts } = await this.opts.store.writeBatch(batch, this.opts.score);
        if (scoredRollouts.length > 0) this.opts.onScored?.(scoredRollouts);
      } catch (err) {
        if (!isDataError(err)) throw err;
        this.dropped += 1;
        this.opts.log.error(
          { shadowRunId: id, code: (err as { code?: string }).code },
          'the database refused a shadow record as data; dropped',
        );
      }
    };
    try {
      await one({ results: [], expectations: [], skips }, 'skips');
    } catch (err) {
      for (const s of skips) for (let i = 0; i < s.skipped; i++) this.countSkip(s.rolloutId, s.reason);
      throw err;
    }
    for (const r of results) await one({ results: [r], expectations: [], skips: [] }, r.id);
    for (const e of expectations) await one({ results: [], expectations: [e], skips: [] }, e.id);
  }
}

type ShadowWriterSkip = { rolloutId: string; reason: SkipReason; skipped: number };

/** Removes the written records, which are at the front unless the bound dropped some meanwhile. */
function removeWritten<T>(queue: T[], written: T[]): void {
  if (written.length === 0) return;
  if (queue[0] === written[0]) {
    queue.splice(0, written.length);
    return;
  }
  const gone = new Set(written);
  let w = 0;
  for (const x of queue) if (!gone.has(x)) queue[w++] = x;
  queue.length = w;
}

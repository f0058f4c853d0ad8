/**
 * The answers of recent idempotent calls on this replica, and the calls still in flight, by
 * tenant, chain and Idempotency-Key (InvokeService). A retry finds its answer here first; the
 * database answers for keys this replica no longer holds, and, while the database is away, a key
 * held here is the only one replayed (README "Outages").
 *
 * Bounded, oldest out first: at most `maxEntries` finished answers and `maxChars` characters of
 * their outputs as JSON, each for `ttlMs`. A call in flight is never dropped (its retry must wait
 * for it, not call the upstream again), nor an answer younger than `minAgeMs`: until its run is
 * in the database, this is the only place a retry can find it, and the writer stores a run well
 * within that (while the database is away, the bounds decide). Kept by count alone, the
 * answers of a client that sends a key with every call held their output objects for a day, up
 * to 50,000 of them: about 85 MB of heap for outputs of 800 characters, where the defaults
 * (InvokeService) hold 3,890 such answers in about 7 MB.
 */
import type { InvokeResult } from './invoke-service.js';

export interface IdempotencyCacheOptions {
  maxEntries: number;
  maxChars: number;
  ttlMs: number;
  minAgeMs: number;
}

interface Entry {
  at: number;
  result: Promise<InvokeResult>;
  /** What it counts against `maxChars` once finished; undefined while in flight. */
  chars: number | undefined;
}

/** What an answer costs besides its output: its ids, figures and the entry itself, roughly. */
const ENTRY_CHARS = 256;

export class IdempotencyCache {
  private readonly entries = new Map<string, Entry>();
  private finished = 0;
  private chars = 0;

  constructor(
    private readonly opts: IdempotencyCacheOptions,
    private readonly now: () => number,
  ) {}

  /** The answer (or the call in flight) under `key`, if it is younger than the TTL. */
  get(key: string): Promise<InvokeResult> | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (this.now() - e.at < this.opts.ttlMs) return e.result;
    this.remove(key, e);
    return undefined;
  }

  /** Holds a call under `key` from now: its answer once it has one; nothing if it fails. */
  start(key: string, result: Promise<InvokeResult>): void {
    const old = this.entries.get(key);
    if (old !== undefined) this.remove(key, old);
    const e: Entry = { at: this.now(), result, chars: undefined };
    this.entries.set(key, e);
    result.then(
      (answer) => {
        if (this.entries.get(key) !== e) return;
        e.chars = ENTRY_CHARS + JSON.stringify(answer.output ?? null).length;
        this.finished += 1;
        this.chars += e.chars;
        this.evict();
      },
      () => {
        if (this.entries.get(key) === e) this.remove(key, e);
      },
    );
  }

  /** Forgets every key that starts with `prefix` (a tenant's, on erasure), in flight or not. */
  forgetPrefix(prefix: string): void {
    for (const [k, e] of this.entries) if (k.startsWith(prefix)) this.remove(k, e);
  }

  /** Finished answers held. */
  get size(): number {
    return this.finished;
  }

  private remove(key: string, e: Entry): void {
    this.entries.delete(key);
    if (e.chars === undefined) return;
    this.finished -= 1;
    this.chars -= e.chars;
  }

  /** Drops the oldest finished answers while over a bound, down to those younger than minAgeMs. */
  private evict(): void {
    const over = () => this.finished > this.opts.maxEntries || this.chars > this.opts.maxChars;
    if (!over()) return;
    const youngest = this.now() - this.opts.minAgeMs;
    for (const [k, e] of this.entries) {
      if (!over() || e.at > youngest) break;
      if (e.chars !== undefined) this.remove(k, e);
    }
  }
}

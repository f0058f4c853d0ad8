/**
 * The run spool: the RunWriter's Journal. Every answered run and every feedback is appended as
 * one line of JSON to a segment file in DATA_DIR/spool with a plain synchronous write() before
 * the reply, and leaves the spool once the writer reports it committed to the database. While the
 * database is away the spool only grows; on the next start whatever a previous process left is
 * replayed into the database before the gateway serves (spool-replay.ts).
 *
 * Group commit: the runs appended while one callback of the event loop and its microtasks run
 * (e.g. every call of a tick in which their upstream answers resolved together) are written by
 * one write() when that callback's microtasks run, and `written()` resolves once it returned. The
 * caller answers only after it (RunWriter, InvokeService), so a reply still never leaves before
 * its line is in the file. Not held until the end of the whole turn (a setImmediate): measured in
 * the bench at 500 req/s, that put the gateway's own time (Server-Timing) at p90 1.8-2.6 ms and
 * p99 4-30 ms, against p90 0.3 ms and p99 0.4-1.7 ms this way, even when the first run of each
 * turn was written at once. Feedback is written at once (with whatever runs are waiting),
 * because its 503 on an unwritable disk must come before it is taken.
 *
 * Durability, precisely:
 * - The process dying (SIGKILL, OOM kill, a crash) loses nothing that was answered: the write()
 *   returned before the reply was sent, so the line is in the kernel's page cache, which outlives
 *   the process. Runs appended but not yet written when it dies were not answered either.
 * - A power loss or kernel crash can lose the lines written since the last fsync: segments are
 *   fsynced in the background every `fsyncIntervalMs` (100 ms by default), so at most the runs
 *   and feedback answered in the last ~100 ms (plus the time one fsync takes) that had not yet
 *   been committed to the database. Runs the database had committed are safe there.
 * - It may also replay records already in the database (the commit checkpoint is synced on the
 *   same timer); writes are idempotent by run id, so nothing is stored twice.
 *
 * Files: `seg-<first seq>-<n>.jsonl` segments rotated at `segmentBytes` (64 MiB); a closed segment is
 * deleted once all of it is committed, and the active one is truncated whenever everything in it
 * is committed (so erased or expired runs do not linger in it). `committed` holds the highest
 * sequence number known to be in the database, so a replay never resurrects runs that were
 * committed and later erased (GDPR) or expired (retention).
 *
 * Capacity: once the bytes not yet committed reach SPOOL_MAX_BYTES, `assertCapacity()` (checked
 * by the invoke route before the upstream is called) and feedback appends throw a 503
 * `spool_full`. A run whose upstream call was already made is still appended up to a headroom
 * above the limit, so a call that was let in is not dropped after the upstream did the work.
 *
 * A disk that cannot be written (full, failing, read-only), README "Operations":
 * - A run whose upstream call was made when the write fails is kept in memory only (the writer's
 *   queue, bounded like the spool by the headroom above SPOOL_MAX_BYTES): the caller gets its
 *   answer with `x-chain-canary-warning: run_not_journaled` (`notJournaled(runId)`), and the run
 *   reaches the database with the next batch; only a crash before then loses it. Past the bound,
 *   the run cannot be kept at all and the caller gets a 503 `run_not_recorded` that says the
 *   call ran. Feedback that cannot be written is a 503 `spool_unwritable` (nothing was taken).
 * - The spool is then `unwritable`: `assertCapacity()` answers 503 `spool_unwritable` before any
 *   upstream call (true: the call was not taken), `status().writable` is false (so /readyz is
 *   503 and a load balancer moves traffic away), and nothing touches the disk except a probe
 *   (`probe.tmp`, written and removed) at most once a second from `assertCapacity()` and
 *   `status()`. When a probe succeeds, the next record opens a new segment. So a failing disk
 *   costs one new segment file per recovery, not one per call.
 */
import {
  appendFileSync,
  close as closeFd,
  closeSync,
  fsync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { UnavailableError } from '../../domain/model/errors.js';
import type { Journal } from '../run-writer.js';
import type { Feedback, Run } from '../../domain/model/run.js';
import { replaySegments, type ReplayResult, type ReplayStore } from './spool-replay.js';
import { LINE_END, linePrefix } from './spool-record.js';
import { storableJson, warnReplaced } from '../../store/storable-json.js';

const MiB = 1024 * 1024;
const SEGMENT_FILE = /^seg-\d{16}-\d{8}\.jsonl$/;
const CHECKPOINT_FILE = 'committed';
const PROBE_FILE = 'probe.tmp';
/** What a probe writes: a little more than a typical run's line, so a nearly full disk fails it. */
const PROBE_BYTES = 64 * 1024;
/** Least time between two probes of an unwritable spool. */
const PROBE_INTERVAL_MS = 1000;
/** The buffer lines are encoded into for their write() is kept up to this size (larger writes get their own). */
const SCRATCH_MAX_BYTES = MiB;

export interface SpoolOptions {
  /** DATA_DIR/spool */
  dir: string;
  /** SPOOL_MAX_BYTES: bytes not yet committed beyond which new calls are refused (503). */
  maxBytes: number;
  log: Logger;
  segmentBytes?: number;
  fsyncIntervalMs?: number;
  /** The clock of the probe interval; default Date.now. */
  now?: () => number;
  /** The write() of segment lines; default fs.writeSync (tests count its calls). */
  writeSync?: (fd: number, data: Uint8Array) => number;
}

export interface SpoolStatus {
  /** Bytes appended and not yet committed to the database. */
  bytes: number;
  maxBytes: number;
  full: boolean;
  segments: number;
  /** Bytes in segment files on disk (committed data lingers until rotation or truncation). */
  fileBytes: number;
  lastSeq: number;
  committedSeq: number;
  /** False while the disk refuses writes (see the header): /readyz is 503 then. */
  writable: boolean;
  /** Why it is not writable, and since when (ISO time). */
  unwritable?: { since: string; error: string };
  /** Runs answered while it was not writable, held in memory until the database has them. */
  notJournaledRuns: number;
}

interface Segment {
  path: string;
  fd: number | undefined;
  bytes: number;
  lastSeq: number;
  dirty: boolean;
}

/** First sequence number, then a counter: a segment retired after a failed write is never reopened. */
const segmentName = (firstSeq: number, n: number) => `seg-${String(firstSeq).padStart(16, '0')}-${String(n % 1e8).padStart(8, '0')}.jsonl`;

/** Opens the spool in `dir`, replays what a previous process left into `store`, and returns it ready. */
export async function openSpool(opts: SpoolOptions & { store: ReplayStore; chunkSize?: number }): Promise<Spool> {
  mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  const checkpointPath = join(opts.dir, CHECKPOINT_FILE);
  let checkpoint = 0;
  try {
    const n = Number(readFileSync(checkpointPath, 'utf8').trim());
    if (Number.isSafeInteger(n) && n > 0) checkpoint = n;
  } catch {
    /* first start */
  }
  const leftover = readdirSync(opts.dir)
    .filter((f) => SEGMENT_FILE.test(f))
    .sort()
    .map((f) => join(opts.dir, f));
  let replayed: ReplayResult | undefined;
  if (leftover.length > 0) {
    replayed = await replaySegments(leftover, {
      afterSeq: checkpoint,
      store: opts.store,
      log: opts.log,
      chunkSize: opts.chunkSize,
      rejectedFile: join(opts.dir, 'rejected.jsonl'),
    });
  }
  const lastSeq = Math.max(checkpoint, replayed?.maxSeq ?? 0);
  // Checkpoint first (synced, replaced atomically), then delete: a crash in between replays nothing twice.
  const tmp = `${checkpointPath}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  writeSync(fd, checkpointText(lastSeq), 0);
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, checkpointPath);
  for (const path of leftover) unlinkSync(path);
  if (replayed && (replayed.runs > 0 || replayed.feedback > 0 || replayed.unreadable > 0 || replayed.rejected > 0)) {
    opts.log.info({ ...replayed, segments: leftover.length }, 'spool replayed into the database');
  }
  return new Spool(opts, checkpointPath, lastSeq);
}

function mib(n: number): string {
  return (n / MiB).toFixed(1);
}

/** The honest 503 for a run whose upstream call was made but which cannot be kept. */
function notRecordedError(why: string): UnavailableError {
  return new UnavailableError(
    `The chain was called, but its run could not be recorded (${why}), so its answer is withheld: a call whose run is not kept is not answered. Retry later or on another replica.`,
    'run_not_recorded',
  );
}

function ignore(fn: () => void): void {
  try {
    fn();
  } catch {
    /* best effort */
  }
}

function checkpointText(seq: number): string {
  return String(seq).padStart(20, '0') + '\n';
}

export class Spool implements Journal {
  private readonly maxBytes: number;
  /** Runs already past the upstream are still taken up to here (see the header). */
  private readonly hardMaxBytes: number;
  private readonly segmentBytes: number;
  private readonly log: Logger;
  private readonly dir: string;
  private readonly checkpointFd: number;
  private checkpointDirty = false;
  private active: Segment | undefined;
  /** Rotated segments not yet wholly committed, oldest first. */
  private readonly retired: Segment[] = [];
  private nextSeq: number;
  private committedSeq: number;
  private appendedBytes = 0;
  private committedBytes = 0;
  /** Per record: its seq and the running total of bytes appended up to it (for the byte count). */
  private qSeq: number[] = [];
  private qCum: number[] = [];
  private qHead = 0;
  private readonly timer: NodeJS.Timeout;
  private syncing: Promise<void> | undefined;
  private readonly closing = new Set<Promise<void>>();
  private closed = false;
  private opened = 0;
  private readonly now: () => number;
  /** Set while the disk refuses writes; cleared by a probe that succeeds. */
  private unwritable: { since: number; error: string } | undefined;
  private lastProbe = 0;
  /** Runs kept in memory only (their write failed): seq -> run id, until committed. */
  private readonly notJournaledBySeq = new Map<number, string>();
  private readonly notJournaledIds = new Set<string>();
  private readonly writeLines: (fd: number, data: Uint8Array) => number;
  /**
   * The group commit (see the header): the lines of the runs appended this turn, not yet written,
   * as their prefix and their JSON in turn (each line ends with LINE_END). They are encoded
   * straight into `scratch` for the write, not joined into a string first: a line built as one
   * string was copied whole when its length was taken and again when the group was joined,
   * garbage that only made the young generation fill sooner (bench/README.md).
   */
  private groupParts: string[] = [];
  private groupBytes = 0;
  private groupSeqs: number[] = [];
  private groupRunIds: string[] = [];
  private group: { promise: Promise<void>; resolve: () => void } | undefined;
  /** Where lines are encoded for their write(); reused, since writes are synchronous. */
  private scratch: Buffer;
  private readonly writeGroupLater = () => this.writeGroup();

  constructor(opts: SpoolOptions, checkpointPath: string, lastSeq: number) {
    this.dir = opts.dir;
    this.log = opts.log;
    this.now = opts.now ?? Date.now;
    this.writeLines = opts.writeSync ?? ((fd, data) => writeSync(fd, data));
    this.scratch = Buffer.allocUnsafeSlow(64 * 1024);
    this.maxBytes = opts.maxBytes;
    this.hardMaxBytes = opts.maxBytes + Math.max(MiB, Math.floor(opts.maxBytes / 16));
    this.segmentBytes = opts.segmentBytes ?? 64 * MiB;
    this.nextSeq = lastSeq + 1;
    this.committedSeq = lastSeq;
    this.checkpointFd = openSync(checkpointPath, 'r+');
    this.timer = setInterval(() => this.sync(), opts.fsyncIntervalMs ?? 100);
    this.timer.unref();
  }

  // ---- Journal -----------------------------------------------------------------------------

  /** A record the database refused as data: kept in rejected.jsonl (0600) for a person to look at. */
  setAside(kind: 'run' | 'feedback', value: unknown): void {
    try {
      appendFileSync(join(this.dir, 'rejected.jsonl'), JSON.stringify({ kind, value }) + '\n', { mode: 0o600 });
    } catch (err) {
      // A full disk must not hold the queue behind a record the database will never take.
      this.log.error({ err, kind }, 'a refused record could not be set aside in rejected.jsonl; it is dropped');
    }
  }

  /**
   * Called after the run's upstream call was made (the RunWriter, on the request path). A run the
   * disk does not take is kept in memory (see the header); only past the headroom is it refused,
   * with a 503 that says the call ran.
   */
  appendRun(run: Run, json?: string): number {
    if (this.uncommitted >= this.hardMaxBytes)
      throw notRecordedError(`the spool is over its limit (${mib(this.uncommitted)} MiB of runs not yet in the database)`);
    const text = json ?? this.storableJson(run, run.id);
    const prefix = this.prefix('r');
    const bytes = prefix.length + Buffer.byteLength(text) + LINE_END.length;
    const seq = this.account(bytes);
    if (this.unwritable) {
      // Not on disk: held in memory only, counted like a spooled line so the same bound applies.
      this.keepInMemory(seq, run.id);
      return seq;
    }
    this.groupParts.push(prefix, text);
    this.groupBytes += bytes;
    this.groupSeqs.push(seq);
    this.groupRunIds.push(run.id);
    if (this.group === undefined) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.group = { promise, resolve };
      queueMicrotask(this.writeGroupLater);
    }
    return seq;
  }

  /**
   * Resolves once every run appended so far is written to its segment, or kept in memory when the
   * disk refused it (then `notJournaled` says so); undefined when nothing is waiting.
   */
  written(): Promise<void> | undefined {
    return this.group?.promise;
  }

  appendFeedback(fb: Feedback, json?: string): number {
    this.assertCapacity();
    const line = this.line('f', json ?? this.storableJson(fb, fb.runId));
    // The runs waiting go first, so lines stay in sequence order in the file.
    this.writeGroup();
    const seq = this.write(line);
    if (seq === undefined) throw this.unwritableError();
    return seq;
  }

  /** True for a run answered while the spool could not be written and not yet in the database. */
  notJournaled(runId: string): boolean {
    return this.notJournaledIds.has(runId);
  }

  committed(seq: number): void {
    if (seq <= this.committedSeq) return;
    this.committedSeq = seq;
    while (this.qHead < this.qSeq.length && this.qSeq[this.qHead]! <= seq) {
      this.committedBytes = this.qCum[this.qHead]!;
      this.qHead++;
    }
    if (this.notJournaledBySeq.size > 0) {
      for (const [n, runId] of this.notJournaledBySeq) {
        if (n > seq) continue;
        this.notJournaledBySeq.delete(n);
        this.notJournaledIds.delete(runId);
      }
    }
    if (this.qHead > 4096 && this.qHead * 2 > this.qSeq.length) {
      this.qSeq = this.qSeq.slice(this.qHead);
      this.qCum = this.qCum.slice(this.qHead);
      this.qHead = 0;
    }
    try {
      writeSync(this.checkpointFd, checkpointText(seq), 0);
      this.checkpointDirty = true;
    } catch (err) {
      // Only costs a longer (idempotent) replay after a crash.
      this.log.warn({ err }, 'spool checkpoint not written');
    }
    while (this.retired[0] && this.retired[0].lastSeq <= seq) this.remove(this.retired.shift()!);
    const active = this.active;
    if (active?.fd !== undefined && active.bytes > 0 && active.lastSeq <= seq) {
      try {
        ftruncateSync(active.fd, 0);
        active.bytes = 0;
      } catch (err) {
        this.log.warn({ err }, 'spool segment not truncated; it is rotated instead');
        this.retire(active);
      }
    }
  }

  /** Throws the 503 when the spool is full or cannot be written; checked before a call reaches the upstream. */
  assertCapacity(): void {
    if (this.uncommitted >= this.maxBytes) throw this.fullError();
    if (this.unwritable && !this.probe()) throw this.unwritableError();
  }

  // ---- status and lifecycle ----------------------------------------------------------------

  get uncommitted(): number {
    return this.appendedBytes - this.committedBytes;
  }

  get full(): boolean {
    return this.uncommitted >= this.maxBytes;
  }

  /** Also probes an unwritable spool (at most once a second), so readiness polls see the disk recover. */
  status(): SpoolStatus {
    if (this.unwritable) this.probe();
    let fileBytes = this.active?.bytes ?? 0;
    for (const s of this.retired) fileBytes += s.bytes;
    const unwritable = this.unwritable;
    return {
      bytes: this.uncommitted,
      maxBytes: this.maxBytes,
      full: this.full,
      segments: this.retired.length + (this.active ? 1 : 0),
      fileBytes,
      lastSeq: this.nextSeq - 1,
      committedSeq: this.committedSeq,
      writable: unwritable === undefined,
      ...(unwritable ? { unwritable: { since: new Date(unwritable.since).toISOString(), error: unwritable.error } } : {}),
      notJournaledRuns: this.notJournaledIds.size,
    };
  }

  /**
   * Syncs and closes the files. Segments stay when something in them is not committed (the
   * database was away at shutdown): the next start replays them.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.writeGroup();
    await this.syncing;
    await Promise.all([...this.closing]);
    const everythingCommitted = this.committedSeq >= this.nextSeq - 1;
    const active = this.active;
    this.active = undefined;
    if (active?.fd !== undefined) {
      try {
        fsyncSync(active.fd);
      } finally {
        closeSync(active.fd);
        active.fd = undefined;
      }
      if (everythingCommitted) this.remove(active);
    }
    if (everythingCommitted) for (const s of this.retired.splice(0)) this.remove(s);
    fsyncSync(this.checkpointFd);
    closeSync(this.checkpointFd);
  }

  // ---- internals ---------------------------------------------------------------------------

  private unwritableError(): UnavailableError {
    return new UnavailableError(
      `The run spool cannot be written (${this.unwritable?.error ?? 'disk full or failing'}): nothing was taken and no upstream was called. Retry later or on another replica.`,
      'spool_unwritable',
    );
  }

  private fullError(): UnavailableError {
    return new UnavailableError(
      `The run spool is full (${mib(this.uncommitted)} MiB of runs not yet in the database, limit ${mib(this.maxBytes)} MiB): no new calls are taken until the database catches up.`,
      'spool_full',
    );
  }

  private storableJson(record: Run | Feedback, runId: string): string {
    return storableJson(record, (id) => warnReplaced(this.log, id), runId);
  }

  private line(kind: 'r' | 'f', json: string): string {
    return this.prefix(kind) + json + LINE_END;
  }

  /** The next line's prefix (linePrefix); its JSON and LINE_END follow. */
  private prefix(kind: 'r' | 'f'): string {
    if (this.closed) throw new UnavailableError('The gateway is shutting down.', 'shutting_down');
    return linePrefix(this.nextSeq, kind);
  }

  /** `bytes` bytes to encode into: the scratch buffer (grown up to SCRATCH_MAX_BYTES), or one of their own. */
  private buffer(bytes: number): Buffer {
    if (bytes <= this.scratch.length) return this.scratch.subarray(0, bytes);
    if (bytes > SCRATCH_MAX_BYTES) return Buffer.allocUnsafeSlow(bytes);
    this.scratch = Buffer.allocUnsafeSlow(Math.min(SCRATCH_MAX_BYTES, Math.max(bytes, 2 * this.scratch.length)));
    return this.scratch.subarray(0, bytes);
  }

  /**
   * The group's lines (prefix, JSON, LINE_END each) as UTF-8, `bytes` long. The prefix and the
   * line's end are ASCII and short, so they are copied byte by byte here: one call into Node's
   * encoder per line (the JSON's), not three.
   */
  private encodeGroup(parts: readonly string[], bytes: number): Buffer {
    const data = this.buffer(bytes);
    let at = 0;
    for (let i = 0; i < parts.length; i += 2) {
      const prefix = parts[i]!;
      for (let j = 0; j < prefix.length; j++) data[at++] = prefix.charCodeAt(j);
      at += data.write(parts[i + 1]!, at);
      for (let j = 0; j < LINE_END.length; j++) data[at++] = LINE_END.charCodeAt(j);
    }
    return data;
  }

  private keepInMemory(seq: number, runId: string): void {
    this.notJournaledBySeq.set(seq, runId);
    this.notJournaledIds.add(runId);
  }

  /**
   * The group commit: one write() of the lines of every run appended since the last one, then
   * their callers may answer. A write that fails is tried once more in a new segment, as in
   * write(); if that fails too the runs are kept in memory (see the header).
   */
  private writeGroup(): void {
    const group = this.group;
    if (group === undefined) return;
    const parts = this.groupParts;
    const seqs = this.groupSeqs;
    const runIds = this.groupRunIds;
    const bytes = this.groupBytes;
    this.group = undefined;
    this.groupParts = [];
    this.groupSeqs = [];
    this.groupRunIds = [];
    this.groupBytes = 0;
    try {
      const data = this.encodeGroup(parts, bytes);
      let segment = this.unwritable ? new Error(this.unwritable.error) : this.writeTo(data, bytes, seqs[0]!);
      if (segment instanceof Error && !this.unwritable) segment = this.writeTo(data, bytes, seqs[0]!);
      if (segment instanceof Error) {
        if (!this.unwritable) this.markUnwritable(segment);
        for (let i = 0; i < seqs.length; i++) if (seqs[i]! > this.committedSeq) this.keepInMemory(seqs[i]!, runIds[i]!);
        return;
      }
      segment.bytes += bytes;
      segment.lastSeq = seqs[seqs.length - 1]!;
      segment.dirty = true;
      if (segment.bytes >= this.segmentBytes) this.retire(segment);
    } finally {
      group.resolve();
    }
  }

  /** Takes the next sequence number for a line of `bytes` (on disk or held in memory). */
  private account(bytes: number): number {
    const seq = this.nextSeq;
    this.nextSeq = seq + 1;
    this.appendedBytes += bytes;
    this.qSeq.push(seq);
    this.qCum.push(this.appendedBytes);
    return seq;
  }

  /**
   * One write() of the whole line (built for `nextSeq`) to the active segment; its sequence
   * number, or undefined when the disk did not take it, after which the spool is unwritable.
   * A failed write is tried once more in a new segment (a segment file that went bad, not the
   * disk), so one failure opens at most two files.
   */
  private write(line: string): number | undefined {
    if (this.unwritable) return undefined;
    const bytes = Buffer.byteLength(line);
    const data = this.buffer(bytes);
    data.write(line);
    let segment = this.writeTo(data, bytes, this.nextSeq);
    if (segment instanceof Error) segment = this.writeTo(data, bytes, this.nextSeq);
    if (segment instanceof Error) {
      this.markUnwritable(segment);
      return undefined;
    }
    const seq = this.account(bytes);
    segment.bytes += bytes;
    segment.lastSeq = seq;
    segment.dirty = true;
    if (segment.bytes >= this.segmentBytes) this.retire(segment);
    return seq;
  }

  /** The segment the lines went to, or why they did not (that segment is retired: it may end torn now). */
  private writeTo(data: Uint8Array, bytes: number, firstSeq: number): Segment | Error {
    let segment: Segment | undefined;
    try {
      segment = this.active ?? this.openSegment(firstSeq);
      const n = this.writeLines(segment.fd!, data);
      if (n !== bytes) throw new Error(`short write: ${n} of ${bytes} bytes`);
      return segment;
    } catch (err) {
      if (segment) this.retire(segment);
      return err instanceof Error ? err : new Error(String(err));
    }
  }

  private markUnwritable(err: unknown): void {
    const error = (err as NodeJS.ErrnoException).code ?? (err as Error).message ?? String(err);
    if (!this.unwritable) this.log.error({ err }, 'the run spool cannot be written: new calls are refused (503) until it can');
    this.unwritable = { since: this.now(), error };
    this.lastProbe = this.now();
  }

  /**
   * Whether the disk takes writes again: writes PROBE_BYTES to probe.tmp and removes it, at most
   * once per PROBE_INTERVAL_MS (true at once while writable).
   */
  private probe(): boolean {
    if (!this.unwritable) return true;
    if (this.closed || this.now() - this.lastProbe < PROBE_INTERVAL_MS) return false;
    this.lastProbe = this.now();
    const path = join(this.dir, PROBE_FILE);
    let fd: number | undefined;
    try {
      fd = openSync(path, 'w', 0o600);
      if (writeSync(fd, Buffer.alloc(PROBE_BYTES)) !== PROBE_BYTES) throw new Error('short write');
      fsyncSync(fd);
    } catch (err) {
      this.unwritable = { since: this.unwritable.since, error: (err as NodeJS.ErrnoException).code ?? String(err) };
      // Give the space back; the file is overwritten by the next probe.
      if (fd !== undefined) ignore(() => ftruncateSync(fd!, 0));
      return false;
    } finally {
      if (fd !== undefined) ignore(() => closeSync(fd!));
    }
    ignore(() => unlinkSync(path));
    this.log.warn({ since: new Date(this.unwritable.since).toISOString() }, 'the run spool can be written again: calls are taken again');
    this.unwritable = undefined;
    return true;
  }

  /** A new active segment whose first line will have `firstSeq`. */
  private openSegment(firstSeq: number): Segment {
    const path = join(this.dir, segmentName(firstSeq, this.opened++));
    const fd = openSync(path, 'a', 0o600);
    this.active = { path, fd, bytes: 0, lastSeq: firstSeq - 1, dirty: false };
    return this.active;
  }

  /** Stops appending to a segment: synced and closed in the background, deleted once committed. */
  private retire(segment: Segment): void {
    if (this.active === segment) this.active = undefined;
    const fd = segment.fd;
    segment.fd = undefined;
    if (segment.lastSeq <= this.committedSeq) this.remove(segment);
    else this.retired.push(segment);
    if (fd === undefined) return;
    const done: Promise<void> = (this.syncing ?? Promise.resolve())
      .then(() => new Promise<void>((resolve) => fsync(fd, () => closeFd(fd, () => resolve()))))
      .finally(() => this.closing.delete(done));
    this.closing.add(done);
  }

  private remove(segment: Segment): void {
    try {
      unlinkSync(segment.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn({ err, path: segment.path }, 'spool segment not deleted');
    }
  }

  /** The batched fsync: the active segment and the checkpoint, off the event loop. */
  private sync(): void {
    if (this.syncing || this.closed) return;
    const fds: number[] = [];
    const active = this.active;
    if (active?.dirty && active.fd !== undefined) {
      active.dirty = false;
      fds.push(active.fd);
    }
    if (this.checkpointDirty) {
      this.checkpointDirty = false;
      fds.push(this.checkpointFd);
    }
    if (fds.length === 0) return;
    this.syncing = Promise.all(
      fds.map(
        (fd) =>
          new Promise<void>((resolve) =>
            fsync(fd, (err) => {
              if (err) this.log.warn({ err }, 'spool fsync failed');
              resolve();
            }),
          ),
      ),
    ).then(() => {
      this.syncing = undefined;
    });
  }
}

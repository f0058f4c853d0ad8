/**
 * The run spool: the RunWriter's Journal. Every answered run and every feedback is appended as
 * one line of JSON to a segment file in DATA_DIR/spool with a plain synchronous write() before
 * the reply, and leaves the spool once the writer reports it committed to the database. While the
 * database is away the spool only grows; on the next start whatever a previous process left is
 * replayed into the database before the gateway serves (spool-replay.ts).
 *
 * Durability, precisely:
 * - The process dying (SIGKILL, OOM kill, a crash) loses nothing that was answered: the write()
 *   returned before the reply was sent, so the line is in the kernel's page cache, which outlives
 *   the process.
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
import { encodeLine } from './spool-record.js';
import { storableJson, warnReplaced } from '../../store/storable-json.js';

const MiB = 1024 * 1024;
const SEGMENT_FILE = /^seg-\d{16}-\d{8}\.jsonl$/;
const CHECKPOINT_FILE = 'committed';

export interface SpoolOptions {
  /** DATA_DIR/spool */
  dir: string;
  /** SPOOL_MAX_BYTES: bytes not yet committed beyond which new calls are refused (503). */
  maxBytes: number;
  log: Logger;
  segmentBytes?: number;
  fsyncIntervalMs?: number;
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

  constructor(opts: SpoolOptions, checkpointPath: string, lastSeq: number) {
    this.dir = opts.dir;
    this.log = opts.log;
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
    appendFileSync(join(this.dir, 'rejected.jsonl'), JSON.stringify({ kind, value }) + '\n', { mode: 0o600 });
  }

  /** `json`: the run's storableJson when the caller has it already (the RunWriter). */
  appendRun(run: Run, json?: string): number {
    if (this.uncommitted >= this.hardMaxBytes) throw this.fullError();
    return this.append('r', json ?? this.storableJson(run, run.id));
  }

  appendFeedback(fb: Feedback, json?: string): number {
    this.assertCapacity();
    return this.append('f', json ?? this.storableJson(fb, fb.runId));
  }

  committed(seq: number): void {
    if (seq <= this.committedSeq) return;
    this.committedSeq = seq;
    while (this.qHead < this.qSeq.length && this.qSeq[this.qHead]! <= seq) {
      this.committedBytes = this.qCum[this.qHead]!;
      this.qHead++;
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

  /** Throws the 503 when the spool is full; checked before a call reaches the upstream. */
  assertCapacity(): void {
    if (this.uncommitted >= this.maxBytes) throw this.fullError();
  }

  // ---- status and lifecycle ----------------------------------------------------------------

  get uncommitted(): number {
    return this.appendedBytes - this.committedBytes;
  }

  get full(): boolean {
    return this.uncommitted >= this.maxBytes;
  }

  status(): SpoolStatus {
    let fileBytes = this.active?.bytes ?? 0;
    for (const s of this.retired) fileBytes += s.bytes;
    return {
      bytes: this.uncommitted,
      maxBytes: this.maxBytes,
      full: this.full,
      segments: this.retired.length + (this.active ? 1 : 0),
      fileBytes,
      lastSeq: this.nextSeq - 1,
      committedSeq: this.committedSeq,
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

  private fullError(): UnavailableError {
    const mib = (n: number) => (n / MiB).toFixed(1);
    return new UnavailableError(
      `The run spool is full (${mib(this.uncommitted)} MiB of runs not yet in the database, limit ${mib(this.maxBytes)} MiB): no new calls are taken until the database catches up.`,
      'spool_full',
    );
  }

  private storableJson(record: Run | Feedback, runId: string): string {
    return storableJson(record, () => warnReplaced(this.log, runId));
  }

  private append(kind: 'r' | 'f', json: string): number {
    if (this.closed) throw new UnavailableError('The gateway is shutting down.', 'shutting_down');
    const seq = this.nextSeq;
    const line = Buffer.from(encodeLine(seq, kind, json), 'utf8');
    let segment = this.write(line);
    if (!segment) {
      // A failed or short write leaves a torn line at the end of that segment: start a new one
      // (a replay skips the torn line) and try once more.
      if (this.active) this.retire(this.active);
      segment = this.write(line);
      if (!segment) throw new UnavailableError('The run spool cannot be written (disk full or failing): the call was not taken.', 'spool_unwritable');
    }
    segment.bytes += line.length;
    segment.lastSeq = seq;
    segment.dirty = true;
    this.nextSeq = seq + 1;
    this.appendedBytes += line.length;
    this.qSeq.push(seq);
    this.qCum.push(this.appendedBytes);
    if (segment.bytes >= this.segmentBytes) this.retire(segment);
    return seq;
  }

  /** One write() of the whole line; the segment it went to, or undefined when it did not. */
  private write(line: Buffer): Segment | undefined {
    try {
      const segment = this.active ?? this.openSegment();
      const n = writeSync(segment.fd!, line);
      if (n === line.length) return segment;
      this.log.error({ written: n, expected: line.length }, 'short write to the spool');
    } catch (err) {
      this.log.error({ err }, 'spool write failed');
    }
    return undefined;
  }

  private openSegment(): Segment {
    const path = join(this.dir, segmentName(this.nextSeq, this.opened++));
    const fd = openSync(path, 'a', 0o600);
    this.active = { path, fd, bytes: 0, lastSeq: this.nextSeq - 1, dirty: false };
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

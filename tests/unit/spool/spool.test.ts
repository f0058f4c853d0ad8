/**
 * The run spool on its own, with a fake store: append, commit, rotate, truncate, replay after a
 * crash (the process simply never closes it), torn lines, capacity, poison records.
 */
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RecordRefusedError, UnavailableError } from '../../../src/domain/model/errors.js';
import type { Feedback, Run } from '../../../src/domain/model/run.js';
import { openSpool, type Spool } from '../../../src/runtime/spool/spool.js';
import { decodeLine, encodeLine } from '../../../src/runtime/spool/spool-record.js';
import type { RecordBatch } from '../../../src/domain/ports/run-repository.js';
import { aRun, runsOf } from '../../support/runs.js';

const log = pino({ level: 'silent' });
const MiB = 1024 * 1024;

class FakeStore {
  batches: RecordBatch[] = [];
  runs = new Map<string, Run>();
  feedback = new Map<string, Feedback>();
  fail?: (batch: RecordBatch) => Error | undefined;
  async writeBatch(batch: RecordBatch): Promise<void> {
    const err = this.fail?.(batch);
    if (err) throw err;
    this.batches.push(batch);
    for (const r of runsOf(batch)) if (!this.runs.has(r.id)) this.runs.set(r.id, r);
    for (const f of batch.feedback) this.feedback.set(f.runId, f);
  }
}

let n = 0;
function run(extra: Partial<Run> = {}): Run {
  n++;
  return aRun({
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    input: { doc: n, text: 'ünïcödé "quoted" \n newline' },
    output: { total: n },
    latencyMs: 12.3456789,
    createdAt: new Date(Date.UTC(2026, 0, 31, 12, 0, 0, n % 1000)),
    ...extra,
  });
}

const segments = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.startsWith('seg-'))
    .sort();

describe('spool', () => {
  let dir: string;
  const open: Spool[] = [];
  const openAt = async (store: FakeStore, opts: { maxBytes?: number; segmentBytes?: number } = {}) => {
    const s = await openSpool({ dir, maxBytes: opts.maxBytes ?? 64 * MiB, segmentBytes: opts.segmentBytes, log, store });
    open.push(s);
    return s;
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cc-spool-'));
  });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it('encodes a line that decodes to the same record, dates included', () => {
    const r = run();
    const rec = decodeLine(encodeLine(7, 'r', JSON.stringify(r)).trimEnd());
    expect(rec).toEqual({ seq: 7, kind: 'run', value: r });
    const fb: Feedback = { runId: r.id, overridden: true, fields: ['total'], reviewer: null, at: new Date('2026-02-01T00:00:00.123Z') };
    expect(decodeLine(encodeLine(8, 'f', JSON.stringify(fb)))).toEqual({ seq: 8, kind: 'feedback', value: fb });
    expect(decodeLine('{"s":1,"k":"r","v":{"id":')).toBeUndefined();
    expect(decodeLine('\0\0\0' + encodeLine(9, 'r', JSON.stringify(r)))?.seq).toBe(9);
    expect(decodeLine('{"s":"1","k":"r","v":{"id":"x"}}')).toBeUndefined();
    expect(decodeLine('{"s":1,"k":"x","v":{"id":"x"}}')).toBeUndefined();
  });

  it('appends with increasing sequence numbers, one line each, and replays them after a crash in order', async () => {
    const s = await openAt(new FakeStore());
    const runs = [run(), run(), run()];
    const seqs = runs.map((r) => s.appendRun(r));
    const fb: Feedback = { runId: runs[0]!.id, overridden: false, fields: [], reviewer: 'ann', at: new Date('2026-02-01T10:00:00.5Z') };
    const fb2: Feedback = { ...fb, overridden: true, fields: ['total'], at: new Date('2026-02-01T10:00:01Z') };
    seqs.push(s.appendFeedback(fb), s.appendFeedback(fb2));
    expect(seqs).toEqual([1, 2, 3, 4, 5]);
    const files = segments(dir);
    expect(files).toHaveLength(1);
    expect(readFileSync(join(dir, files[0]!), 'utf8').trimEnd().split('\n')).toHaveLength(5);
    expect(s.status()).toMatchObject({ segments: 1, lastSeq: 5, committedSeq: 0, full: false });

    // "Crash": never closed. A new process replays everything, in order, with dates as Dates.
    const store = new FakeStore();
    const s2 = await openAt(store);
    expect([...store.runs.values()]).toEqual(runs);
    expect(store.feedback.get(runs[0]!.id)).toEqual(fb2);
    expect(store.runs.get(runs[0]!.id)!.createdAt).toBeInstanceOf(Date);
    expect(segments(dir)).toEqual([]);
    // Sequence numbers go on from where the last process stopped.
    expect(s2.appendRun(run())).toBe(6);
  });

  it('replays nothing already committed, even when it is still in a file', async () => {
    const s = await openAt(new FakeStore(), { segmentBytes: 600 });
    const runs = Array.from({ length: 10 }, () => run());
    for (const r of runs) s.appendRun(r);
    await s.written();
    s.committed(4);
    const store = new FakeStore();
    await openAt(store);
    expect([...store.runs.keys()]).toEqual(runs.slice(4).map((r) => r.id));
  });

  it('deletes rotated segments once committed and truncates the active one when all of it is', async () => {
    const s = await openAt(new FakeStore(), { segmentBytes: 1000 });
    // One event-loop turn each: a segment rotates between group writes.
    for (let i = 0; i < 12; i++) {
      s.appendRun(run());
      await s.written();
    }
    const before = s.status();
    expect(before.segments).toBeGreaterThan(2);
    expect(segments(dir).length).toBe(before.segments);
    expect(before.bytes).toBe(before.fileBytes);
    s.committed(5);
    const mid = s.status();
    expect(mid.segments).toBeLessThan(before.segments);
    expect(mid.bytes).toBeLessThan(before.bytes);
    s.committed(12);
    expect(s.status()).toMatchObject({ bytes: 0, committedSeq: 12 });
    // Whatever is left on disk is empty: committed data does not linger.
    for (const f of segments(dir)) expect(statSync(join(dir, f)).size).toBe(0);
    // Committed marks never go back.
    s.committed(3);
    expect(s.status().committedSeq).toBe(12);
    s.appendRun(run());
    await s.written();
    expect(s.status().bytes).toBeGreaterThan(0);
    await s.close();
    expect(segments(dir).length).toBe(1); // the last run is not committed: kept for the next start
  });

  it('removes every segment on a clean close when everything is committed', async () => {
    const s = await openAt(new FakeStore());
    s.appendRun(run());
    s.committed(1);
    await s.close();
    expect(segments(dir)).toEqual([]);
    expect(() => s.appendRun(run())).toThrow(UnavailableError);
  });

  it('skips a torn last line and zeros, counting them', async () => {
    const s = await openAt(new FakeStore());
    const a = run();
    const b = run();
    s.appendRun(a);
    s.appendRun(b);
    await s.written();
    const file = join(dir, segments(dir)[0]!);
    appendFileSync(file, '\0\0\0\0' + encodeLine(3, 'r', JSON.stringify(run())) + '{"s":4,"k":"r","v":{"id":"torn');
    const store = new FakeStore();
    await openAt(store);
    expect(store.runs.size).toBe(3);
    expect(store.runs.has(a.id) && store.runs.has(b.id)).toBe(true);
  });

  it('refuses new calls (spool_full) at SPOOL_MAX_BYTES, still takes runs already under way, and frees up on commit', async () => {
    const s = await openAt(new FakeStore(), { maxBytes: MiB });
    const big = 'x'.repeat(64 * 1024);
    let seq = 0;
    while (!s.full) seq = s.appendRun(run({ input: { big } }));
    expect(() => s.assertCapacity()).toThrow(expect.objectContaining({ code: 'spool_full', statusCode: 503 }));
    expect(() => s.appendFeedback({ runId: run().id, overridden: false, fields: [], reviewer: null, at: new Date() })).toThrow(
      UnavailableError,
    );
    // A run whose upstream already answered is still kept (headroom above the limit).
    expect(s.appendRun(run({ input: { big } }))).toBe(seq + 1);
    expect(s.status()).toMatchObject({ full: true });
    s.committed(seq + 1);
    expect(s.status()).toMatchObject({ full: false, bytes: 0 });
    expect(() => s.assertCapacity()).not.toThrow();
  });

  it('has a hard limit even for runs under way, and says that their call ran', async () => {
    const s = await openAt(new FakeStore(), { maxBytes: MiB });
    const big = 'x'.repeat(128 * 1024);
    expect(() => {
      for (let i = 0; i < 100; i++) s.appendRun(run({ input: { big } }));
    }).toThrow(
      expect.objectContaining({
        code: 'run_not_recorded',
        statusCode: 503,
        message: expect.stringMatching(/^The chain was called, but its run could not be recorded/),
      }),
    );
    expect(s.status().bytes).toBeLessThan(2 * MiB + 200 * 1024);
  });

  it('sets aside a record the database refuses as data, and stores the rest', async () => {
    const s = await openAt(new FakeStore());
    const good1 = run();
    const bad = run();
    const good2 = run();
    for (const r of [good1, bad, good2]) s.appendRun(r);
    await s.written();
    const store = new FakeStore();
    store.fail = (b) => (b.runs.some((r) => r.id === bad.id) ? new RecordRefusedError('22P02') : undefined);
    await openAt(store);
    expect([...store.runs.keys()]).toEqual([good1.id, good2.id]);
    const rejected = readFileSync(join(dir, 'rejected.jsonl'), 'utf8').trim().split('\n');
    expect(rejected).toHaveLength(1);
    expect(JSON.parse(rejected[0]!).value.id).toBe(bad.id);
  });

  it('does not start (and keeps its files) while the database is away', async () => {
    const s = await openAt(new FakeStore());
    s.appendRun(run());
    await s.written();
    const store = new FakeStore();
    store.fail = () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    await expect(openSpool({ dir, maxBytes: MiB, log, store })).rejects.toThrow(/ECONNREFUSED/);
    expect(segments(dir)).toHaveLength(1);
    const ok = new FakeStore();
    await openAt(ok);
    expect(ok.runs.size).toBe(1);
  });

  it('replays in chunks through writeBatch', async () => {
    const s = await openAt(new FakeStore());
    for (let i = 0; i < 25; i++) s.appendRun(run());
    await s.written();
    const store = new FakeStore();
    const s2 = await openSpool({ dir, maxBytes: MiB, log, store, chunkSize: 10 });
    open.push(s2);
    expect(store.batches.map((b) => b.runs.length)).toEqual([10, 10, 5]);
  });

  it('ignores a garbage checkpoint (replays everything, idempotently)', async () => {
    const s = await openAt(new FakeStore());
    s.appendRun(run());
    await s.written();
    s.committed(1);
    s.appendRun(run());
    await s.written();
    writeFileSync(join(dir, 'committed'), 'garbage');
    const store = new FakeStore();
    await openAt(store);
    expect(store.runs.size).toBeGreaterThanOrEqual(1);
    expect(existsSync(join(dir, 'committed'))).toBe(true);
  });

  it('makes a run PostgreSQL could not store storable before it is queued (in place)', async () => {
    const s = await openAt(new FakeStore());
    const r = run({ externalId: 'ext\u0000', output: { ['k\ud800']: 'v\u0000' } });
    s.appendRun(r);
    await s.written();
    expect(r.externalId).toBe('ext\uFFFD');
    expect(r.output).toEqual({ ['k\uFFFD']: 'v\uFFFD' });
    const text = readFileSync(join(dir, segments(dir)[0]!), 'utf8');
    expect(text).not.toMatch(/\\u0000|\\ud800/i);
  });
});

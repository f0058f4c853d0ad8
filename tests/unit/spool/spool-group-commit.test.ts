/**
 * The spool's group commit (src/runtime/spool/spool.ts header): the runs answered in one callback
 * of the event loop share one write(), and each caller's promise resolves only once its line is in
 * the segment file, so a process killed right after a reply still leaves the run to replay.
 * (Runs answered in separate I/O callbacks of one turn get a write() each: see the header.)
 * write() calls are counted on the spool's writer (the real fs.writeSync underneath).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Feedback, Run } from '../../../src/domain/model/run.js';
import { RunWriter } from '../../../src/runtime/run-writer.js';
import { openSpool, type Spool } from '../../../src/runtime/spool/spool.js';
import { aRun, runsOf } from '../../support/runs.js';
import type { RecordBatch } from '../../../src/domain/ports/run-repository.js';

const log = pino({ level: 'silent' });

class MemoryStore {
  runs = new Map<string, Run>();
  feedback = new Map<string, Feedback>();
  async writeBatch(batch: RecordBatch): Promise<void> {
    for (const r of runsOf(batch)) this.runs.set(r.id, r);
    for (const f of batch.feedback) this.feedback.set(f.runId, f);
  }
}

/** A store that never commits: everything stays in the spool, as with the database away. */
const unreachable = { writeBatch: () => new Promise<void>(() => {}) };

let n = 0;
const run = () => aRun({ id: `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`, input: { n }, output: { ok: n } });

const spoolText = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.startsWith('seg-'))
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('');

describe('spool group commit', () => {
  let dir: string;
  let writes: number;
  const open: Spool[] = [];
  const openCounted = async (store: { writeBatch: MemoryStore['writeBatch'] }) => {
    const s = await openSpool({
      dir,
      maxBytes: 64 * 1024 * 1024,
      log,
      store,
      writeSync: (fd, data) => {
        writes++;
        return writeSync(fd, data);
      },
    });
    open.push(s);
    return s;
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cc-spool-group-'));
    writes = 0;
  });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the runs answered in one callback with one write(), each answer only once its line is in the file', async () => {
    const spool = await openCounted(new MemoryStore());
    const writer = new RunWriter({ store: unreachable, log, journal: spool });
    const N = 64;
    const runs = Array.from({ length: N }, run);
    // N calls whose upstream answers resolve together (one timer callback).
    const upstreamDone = new Promise<void>((resolve) => setTimeout(resolve, 5));
    const answered: string[] = [];
    const onDiskWhenAnswered: boolean[] = [];
    await Promise.all(
      runs.map(async (r) => {
        await upstreamDone;
        const written = writer.recordRun(r);
        expect(written).toBeInstanceOf(Promise);
        await written;
        // The reply would go now: its line must already be in the segment.
        onDiskWhenAnswered.push(spoolText(dir).includes(r.id));
        answered.push(r.id);
      }),
    );
    expect(answered).toHaveLength(N);
    expect(onDiskWhenAnswered.every(Boolean)).toBe(true);
    expect(writes).toBeLessThan(N);
    expect(writes).toBe(1);

    // A call answered in a later callback gets a write of its own: nothing waits for others.
    const later = run();
    await writer.recordRun(later);
    expect(writes).toBe(2);
    answered.push(later.id);

    // A crash-like stop (the spool is never closed, the writer never flushed): a new process
    // replays every answered run into the database.
    const store = new MemoryStore();
    await openCounted(store);
    expect([...store.runs.keys()].sort()).toEqual([...answered].sort());
  });

  it('writes a group as its lines byte for byte, beyond ASCII and past the reused write buffer', async () => {
    const spool = await openCounted(new MemoryStore());
    const text = (size: number) => 'Zoë, Straße, 東京 🎉 "q" \\ '.repeat(Math.ceil(size / 30)).slice(0, size);
    const groups = [
      // Small lines; one line larger than the 64 KiB write buffer (it grows); one group past
      // 1 MiB (a buffer of its own); then small ones again (the grown buffer, reused).
      Array.from({ length: 5 }, () => aRun({ ...run(), input: { text: text(200) } })),
      [aRun({ ...run(), input: { text: text(100_000) } })],
      Array.from({ length: 3 }, () => aRun({ ...run(), input: { text: text(400_000) } })),
      Array.from({ length: 2 }, () => aRun({ ...run(), output: { vendor: text(50) } })),
    ];
    const expected: string[] = [];
    for (const group of groups) {
      for (const r of group) {
        const seq = spool.appendRun(r);
        expected.push(`{"s":${seq},"k":"r","v":${JSON.stringify(r)}}\n`);
      }
      await spool.written();
    }
    expect(writes).toBe(groups.length);
    expect(spoolText(dir)).toBe(expected.join(''));
    const store = new MemoryStore();
    await openCounted(store);
    for (const r of groups.flat()) expect(store.runs.get(r.id)).toEqual(r);
  });

  it('writes waiting runs before a feedback line, in sequence order, and on close', async () => {
    const spool = await openCounted(new MemoryStore());
    const a = run();
    const b = run();
    expect(spool.appendRun(a)).toBe(1);
    expect(spool.appendRun(b)).toBe(2);
    expect(writes).toBe(0);
    expect(spool.appendFeedback({ runId: a.id, overridden: false, fields: [], reviewer: null, at: new Date() })).toBe(3);
    expect(writes).toBe(2);
    const seqs = spoolText(dir)
      .trimEnd()
      .split('\n')
      .map((l) => (JSON.parse(l) as { s: number }).s);
    expect(seqs).toEqual([1, 2, 3]);
    expect(spool.written()).toBeUndefined();

    const c = run();
    spool.appendRun(c);
    const pending = spool.written();
    await spool.close();
    await pending;
    expect(writes).toBe(3);
    const store = new MemoryStore();
    await openCounted(store);
    expect(store.runs.has(c.id)).toBe(true);
  });
});

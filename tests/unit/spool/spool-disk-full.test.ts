/**
 * The spool on a disk that refuses writes (issue 19 item 7). The refusal is real: the segment and
 * probe files the spool will open are symbolic links to /dev/full, where every write() fails with
 * ENOSPC, as on a full disk. Removing the links is the disk recovering.
 * - a run whose write fails is kept in memory (marked not journaled) and reaches the store;
 * - the spool is then unwritable: new calls and feedback are refused before anything is taken,
 *   status says so, and no further file is opened however many calls arrive;
 * - past the headroom, a run under way is refused with a 503 that says the call ran;
 * - once the disk takes writes again (a probe, at most once a second), appends go to disk again.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
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
const hasDevFull = existsSync('/dev/full');

class MemoryStore {
  runs = new Map<string, Run>();
  feedback = new Map<string, Feedback>();
  async writeBatch(batch: RecordBatch): Promise<void> {
    for (const r of runsOf(batch)) this.runs.set(r.id, r);
    for (const f of batch.feedback) this.feedback.set(f.runId, f);
  }
}

let n = 0;
const run = (input: unknown = { n }) =>
  aRun({ id: `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`, input, output: { ok: true } });

/** The names a fresh spool opens first (seg-<first seq>-<counter>.jsonl), and its probe file. */
const FIRST_SEGMENTS = ['seg-0000000000000001-00000000.jsonl', 'seg-0000000000000001-00000001.jsonl'];

describe.skipIf(!hasDevFull)('spool on a full disk', () => {
  let dir: string;
  let clock: number;
  let spool: Spool;
  let store: MemoryStore;

  const fillDisk = () => {
    for (const name of [...FIRST_SEGMENTS, 'probe.tmp']) symlinkSync('/dev/full', join(dir, name));
  };
  const freeDisk = () => {
    for (const name of [...FIRST_SEGMENTS, 'probe.tmp']) if (readdirSync(dir).includes(name)) unlinkSync(join(dir, name));
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cc-spool-full-'));
    clock = 1_000_000;
    store = new MemoryStore();
    spool = await openSpool({ dir, maxBytes: 1024 * 1024, log, store, now: () => clock });
  });
  afterEach(async () => {
    await spool.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps a run whose write fails in memory, refuses new work before it is taken, and opens no more files', async () => {
    fillDisk();
    const writer = new RunWriter({ store, log, journal: spool, flushIntervalMs: 5 });
    const first = run();
    expect(() => spool.assertCapacity()).not.toThrow();
    await writer.recordRun(first); // the upstream was called: the run must be kept
    expect(spool.notJournaled(first.id)).toBe(true);
    expect(spool.status()).toMatchObject({ writable: false, notJournaledRuns: 1, unwritable: { error: 'ENOSPC' } });

    // New calls: refused before the upstream, with a message that says nothing was taken.
    expect(() => spool.assertCapacity()).toThrow(
      expect.objectContaining({ code: 'spool_unwritable', statusCode: 503, message: expect.stringContaining('nothing was taken') }),
    );
    expect(() => writer.recordFeedback({ runId: first.id, overridden: false, fields: [], reviewer: null, at: new Date() })).toThrow(
      expect.objectContaining({ code: 'spool_unwritable' }),
    );
    const filesBefore = readdirSync(dir).sort();
    for (let i = 0; i < 200; i++) {
      clock += 250; // probes at most once a second, each fails
      expect(() => spool.assertCapacity()).toThrow(expect.objectContaining({ code: 'spool_unwritable' }));
      // A run already under way when the disk failed is still kept.
      if (i % 50 === 0) void writer.recordRun(run());
    }
    expect(readdirSync(dir).sort()).toEqual(filesBefore);

    // The runs kept in memory reach the store; then they are no longer "not journaled".
    await writer.flush();
    expect(store.runs.has(first.id)).toBe(true);
    expect(store.runs.size).toBe(5);
    expect(spool.notJournaled(first.id)).toBe(false);
    expect(spool.status().notJournaledRuns).toBe(0);
    await writer.close();
  });

  it('refuses a run under way past the headroom with a 503 that says the call ran', () => {
    fillDisk();
    const big = 'x'.repeat(128 * 1024);
    expect(() => {
      for (let i = 0; i < 100; i++) spool.appendRun(run({ big }));
    }).toThrow(expect.objectContaining({ code: 'run_not_recorded', message: expect.stringContaining('The chain was called') }));
  });

  it('writes to disk again once a probe succeeds', async () => {
    fillDisk();
    spool.appendRun(run());
    await spool.written();
    expect(spool.status().writable).toBe(false);
    freeDisk();
    // Not probed again within the second: still refused.
    clock += 500;
    expect(() => spool.assertCapacity()).toThrow(expect.objectContaining({ code: 'spool_unwritable' }));
    clock += 600;
    expect(() => spool.assertCapacity()).not.toThrow();
    expect(spool.status()).toMatchObject({ writable: true });
    expect(spool.status().unwritable).toBeUndefined();
    const later = run();
    spool.appendRun(later);
    await spool.written();
    expect(spool.notJournaled(later.id)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.startsWith('seg-'))).toHaveLength(1);
    expect(readdirSync(dir)).not.toContain('probe.tmp');
  });

  it('readiness polls alone see the disk recover (status() probes too)', async () => {
    fillDisk();
    spool.appendRun(run());
    await spool.written();
    freeDisk();
    expect(spool.status().writable).toBe(false);
    clock += 1000;
    expect(spool.status().writable).toBe(true);
  });
});

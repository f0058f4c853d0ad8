/**
 * The recorder thread (src/runtime/recorder-thread) on a real PostgreSQL: a run whose recordRun
 * promise resolved is in the spool file; runs and feedback read back before they are committed;
 * the spool's 503 comes synchronously from the mirrored state; a thread that dies loses nothing
 * and counts nothing twice in the read models; RunsCommitted reaches the gateway's bus.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DomainError } from '../../src/domain/model/errors.js';
import type { Feedback, Run } from '../../src/domain/model/run.js';
import type { RunsCommitted } from '../../src/runtime/events.js';
import { RecentRuns } from '../../src/runtime/recent-runs.js';
import type { RecorderThreadData } from '../../src/runtime/recorder-thread/protocol.js';
import { ThreadRunRecorder } from '../../src/runtime/recorder-thread/thread-run-recorder.js';
import { openDatabase, type Database } from '../../src/store/db.js';
import { rowsOf } from '../../src/store/read-models/rows.js';
import { createTestDatabase, type TestDatabase } from '../support/pg.js';
import { aFeedback, aRun } from '../support/runs.js';

const ROLLOUT = '5a0c0de0-0000-4000-8000-000000000002';
const runId = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

function run(i: number): Run {
  const variant = i % 2 === 0 ? 'control' : 'candidate';
  return aRun({
    id: runId(i),
    chainId: 'invoice-extract',
    tenantId: 'acme',
    environment: 'staging',
    unit: `doc-${i % 13}`,
    version: variant === 'control' ? 'v1' : 'v2',
    variant,
    rolloutId: ROLLOUT,
    stage: 0,
    assignmentKey: `acme/doc-${i % 13}`,
    externalId: `ext-${i}`,
    error: null,
    createdAt: new Date(Date.parse('2026-12-01T10:00:00.000Z') + i * 1000),
  });
}

describe('ThreadRunRecorder on PostgreSQL', () => {
  let testDb: TestDatabase;
  let database: Database;
  const open: ThreadRunRecorder[] = [];

  beforeAll(async () => {
    testDb = await createTestDatabase();
    database = await openDatabase({ databaseUrl: testDb.url, dataDir: '' });
  }, 60_000);

  afterEach(async () => {
    for (const r of open.splice(0)) await r.close();
  });

  afterAll(async () => {
    await database?.close();
    await testDb?.drop();
  });

  async function recorder(over: Partial<RecorderThreadData> = {}) {
    const committed: RunsCommitted[] = [];
    const recent = new RecentRuns({ maxRuns: 1000, maxBytes: 1024 * 1024, maxAgeMs: 60_000, now: () => Date.now() });
    const spoolDir = join(mkdtempSync(join(tmpdir(), 'cc-recorder-')), 'spool');
    const r = await ThreadRunRecorder.open({
      thread: {
        databaseUrl: testDb.url,
        poolSize: 2,
        spoolDir,
        spoolMaxBytes: 64 * 1024 * 1024,
        batchSize: 100,
        maxInFlight: 2,
        // Nothing is committed unless a test flushes: "before commit" is a state a test can look at.
        flushIntervalMs: 60_000,
        connectTimeoutMs: 10_000,
        logLevel: 'silent',
        ...over,
      },
      log: pino({ level: 'silent' }),
      events: { publish: (_name, e) => committed.push(e) },
      recent,
    });
    open.push(r);
    return { r, committed, spoolDir };
  }

  const spoolText = (dir: string) =>
    readdirSync(dir)
      .filter((f) => f.startsWith('seg-'))
      .map((f) => readFileSync(join(dir, f), 'utf8'))
      .join('');

  const q = async (text: string) => rowsOf<Record<string, string | number>>(await database.db.execute(sql.raw(text)));

  /** The read model's totals next to the same counts from the raw rows, for this file's rollout. */
  async function totalsAndTruth() {
    const totals = await q(
      `SELECT variant, sum(runs)::int AS runs, sum(reviewed)::int AS reviewed FROM rollout_totals WHERE rollout_id = '${ROLLOUT}' GROUP BY 1 ORDER BY 1`,
    );
    const truth = await q(`
      SELECT r.variant, count(*)::int AS runs, count(f.run_id) FILTER (WHERE r.error IS NULL)::int AS reviewed
      FROM runs r LEFT JOIN feedback f ON f.run_id = r.id WHERE r.rollout_id = '${ROLLOUT}' GROUP BY 1 ORDER BY 1`);
    return { totals, truth };
  }

  it('resolves recordRun once the run is in the spool file, and reads it back until it is committed', async () => {
    const { r, committed, spoolDir } = await recorder();
    const a = run(1);
    const pending = r.recordRun(a);
    // Read your writes, before the thread has even seen it.
    expect(r.pendingRun(a.id)).toBe(a);
    expect(r.pendingByExternalId('invoice-extract', 'ext-1', 'acme')).toBe(a);
    expect(r.pendingByExternalId('invoice-extract', 'ext-1')).toBe(a);
    await pending;
    expect(spoolText(spoolDir)).toContain(`"id":"${a.id}"`);
    expect(r.spoolStatus().bytes).toBeGreaterThan(0);

    const fb: Feedback = aFeedback({ runId: a.id, overridden: true, fields: ['total'], at: new Date('2026-12-01T11:00:00.000Z') });
    const fbWritten = r.recordFeedback(fb);
    expect(r.pendingFeedbackFor(a.id)).toBe(fb);
    await fbWritten;
    expect(spoolText(spoolDir)).toMatch(new RegExp(`"k":"f","v":\\{[^\\n]*"runId":"${a.id}"`));
    expect(r.backlog).toBe(2);
    // Not committed: the database does not have it yet, the recorder still answers for it.
    expect(await q(`SELECT id FROM runs WHERE id = '${a.id}'`)).toEqual([]);
    expect(committed).toEqual([]);

    await r.flush();
    expect(r.backlog).toBe(0);
    expect(r.pendingRun(a.id)).toBeUndefined();
    expect(r.pendingFeedbackFor(a.id)).toBeUndefined();
    expect(r.pendingByExternalId('invoice-extract', 'ext-1', 'acme')).toBeUndefined();
    expect(r.recentRun(a.id)?.id).toBe(a.id);
    expect(await q(`SELECT overridden FROM runs JOIN feedback ON feedback.run_id = runs.id WHERE id = '${a.id}'`)).toEqual([
      { overridden: true },
    ]);
    // RunsCommitted, on this thread's bus, with this thread's own objects.
    expect(committed.flatMap((c) => c.runs)).toEqual([a]);
    expect(committed.flatMap((c) => c.feedback)).toEqual([fb]);
    // Everything committed: the spool holds no bytes that are not in the database.
    expect(r.spoolStatus().bytes).toBe(0);
  });

  it('refuses calls synchronously (503 spool_full) once the spool is full, and takes them again once committed', async () => {
    const { r } = await recorder({ spoolMaxBytes: 20_000 });
    r.assertCapacity();
    let refused: unknown;
    const written: Promise<void>[] = [];
    for (let i = 100; i < 200 && refused === undefined; i++) {
      try {
        r.assertCapacity();
        written.push(r.recordRun(run(i)));
      } catch (err) {
        refused = err;
      }
      // One turn per run, as calls come: the mirrored state is the thread's after each write.
      await Promise.all(written);
    }
    expect(refused).toBeInstanceOf(DomainError);
    expect((refused as DomainError).code).toBe('spool_full');
    expect((refused as DomainError).statusCode).toBe(503);
    expect(r.spoolStatus().full).toBe(true);
    expect(() => r.recordFeedback(aFeedback({ runId: runId(100) }))).toThrow(/spool is full/);
    await r.flush();
    expect(() => r.assertCapacity()).not.toThrow();
    expect(await q(`SELECT count(*)::int AS n FROM runs WHERE id >= '${runId(100)}' AND id < '${runId(200)}'`)).toEqual([
      { n: written.length },
    ]);
  });

  it('loses nothing when the thread dies, and counts nothing twice', async () => {
    const { r, committed } = await recorder();
    const ids: string[] = [];
    // Written to the spool, not committed: the new thread replays them, and is sent them again.
    const first: Promise<void>[] = [];
    for (let i = 1000; i < 1150; i++) {
      first.push(r.recordRun(run(i)));
      ids.push(runId(i));
    }
    await Promise.all(first);
    const fbs = [1000, 1001, 1002].map((i) => aFeedback({ runId: runId(i), overridden: i % 2 === 0, fields: [], at: new Date() }));
    for (const fb of fbs) await r.recordFeedback(fb);
    await r.terminateThread();
    // Posted while the thread is gone, and posted just before it dies: held here and sent to the next one.
    const second: Promise<void>[] = [];
    for (let i = 1150; i < 1200; i++) {
      second.push(r.recordRun(run(i)));
      ids.push(runId(i));
    }
    await Promise.all(second);
    const third: Promise<void>[] = [];
    for (let i = 1200; i < 1250; i++) {
      third.push(r.recordRun(run(i)));
      ids.push(runId(i));
    }
    await Promise.resolve();
    await r.terminateThread();
    await Promise.all(third);
    expect(r.pendingRun(runId(1249))?.id).toBe(runId(1249));
    await r.flush();

    expect(r.backlog).toBe(0);
    const stored = await q(`SELECT id FROM runs WHERE rollout_id = '${ROLLOUT}' AND id >= '${runId(1000)}' AND id < '${runId(1250)}'`);
    expect(stored.map((s) => s.id).sort()).toEqual(ids);
    expect(
      await q(`SELECT count(*)::int AS n FROM feedback WHERE run_id IN ('${runId(1000)}', '${runId(1001)}', '${runId(1002)}')`),
    ).toEqual([{ n: 3 }]);
    const { totals, truth } = await totalsAndTruth();
    expect(totals).toEqual(truth);
    // Every run reported committed on this thread, each once.
    const reported = committed.flatMap((c) => c.runs.map((x) => x.id));
    expect(new Set(reported).size).toBe(reported.length);
    expect(reported.filter((id) => ids.includes(id)).sort()).toEqual(ids);
  }, 60_000);

  it('replays a spool left by a previous process when it opens', async () => {
    const { r, spoolDir } = await recorder();
    for (let i = 2000; i < 2020; i++) await r.recordRun(run(i));
    // What a process that died at this point leaves: its spool, nothing of it committed.
    const left = join(mkdtempSync(join(tmpdir(), 'cc-recorder-')), 'spool');
    cpSync(spoolDir, left, { recursive: true });
    expect(spoolText(left)).toContain(runId(2019));
    const next = await ThreadRunRecorder.open({
      thread: {
        databaseUrl: testDb.url,
        poolSize: 2,
        spoolDir: left,
        spoolMaxBytes: 64 * 1024 * 1024,
        batchSize: 100,
        maxInFlight: 2,
        flushIntervalMs: 60_000,
        connectTimeoutMs: 10_000,
        logLevel: 'silent',
      },
      log: pino({ level: 'silent' }),
    });
    open.push(next);
    expect(await q(`SELECT count(*)::int AS n FROM runs WHERE id >= '${runId(2000)}' AND id < '${runId(2020)}'`)).toEqual([{ n: 20 }]);
    const { totals, truth } = await totalsAndTruth();
    expect(totals).toEqual(truth);
  }, 60_000);
});

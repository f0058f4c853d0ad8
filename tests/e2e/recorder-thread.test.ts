/**
 * The recorder thread (src/runtime/recorder-thread) on a real PostgreSQL, under the real RunWriter
 * and spool: batches written by the thread land with their read models equal to the raw rows
 * (pipelined, two in flight), a reply still waits only for the spool on this thread, a record the
 * database refuses is set aside as before, RunsCommitted is published here, and a thread that dies
 * with batches in flight loses nothing and counts nothing twice.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Feedback, Run } from '../../src/domain/model/run.js';
import type { RunsCommitted } from '../../src/runtime/events.js';
import { ThreadBatchStore } from '../../src/runtime/recorder-thread/thread-batch-store.js';
import { RunWriter } from '../../src/runtime/run-writer.js';
import { openSpool, type Spool } from '../../src/runtime/spool/spool.js';
import type { Database } from '../../src/store/db.js';
import { rowsOf } from '../../src/store/read-models/rows.js';
import { RunStore } from '../../src/store/run-store.js';
import { startFakeUpstream } from '../support/fake-upstream.js';
import { startTestGateway } from '../support/gateway.js';
import { openTestDatabase, type OpenedTestDatabase } from '../support/test-database.js';
import { api, setupChain, storedRuns } from './reliability/helpers.js';
import { aFeedback, aRun } from '../support/runs.js';

const ROLLOUT = '5a0c0de0-0000-4000-8000-000000000002';
const runId = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
const silent = pino({ level: 'silent' });

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
    error: i % 17 === 3 ? { code: 'upstream_failed', message: 'boom' } : null,
    createdAt: new Date(Date.parse('2026-12-01T10:00:00.000Z') + i * 1000),
  });
}

const feedbackFor = (i: number): Feedback =>
  aFeedback({ runId: runId(i), overridden: i % 3 === 0, fields: i % 3 === 0 ? ['total'] : [], at: new Date('2026-12-01T12:00:00.000Z') });

describe('the recorder thread on PostgreSQL', () => {
  let opened: OpenedTestDatabase | undefined;
  let database: Database;

  beforeAll(async () => {
    opened = await openTestDatabase();
    database = opened.database;
  }, 60_000);

  afterAll(async () => {
    await opened?.close();
  });

  const q = async (text: string) => rowsOf<Record<string, string | number>>(await database.db.execute(sql.raw(text)));

  /** The read model's totals next to the same counts from the raw rows. */
  async function totalsAndTruth() {
    const totals = await q(`
      SELECT variant, sum(runs)::int AS runs, sum(errors)::int AS errors, sum(reviewed)::int AS reviewed, sum(overridden)::int AS overridden
      FROM rollout_totals WHERE rollout_id = '${ROLLOUT}' GROUP BY 1 ORDER BY 1`);
    const truth = await q(`
      SELECT r.variant, count(*)::int AS runs, count(*) FILTER (WHERE r.error IS NOT NULL)::int AS errors,
             count(f.run_id) FILTER (WHERE r.error IS NULL)::int AS reviewed,
             count(f.run_id) FILTER (WHERE r.error IS NULL AND f.overridden)::int AS overridden
      FROM runs r LEFT JOIN feedback f ON f.run_id = r.id WHERE r.rollout_id = '${ROLLOUT}' GROUP BY 1 ORDER BY 1`);
    return { totals, truth };
  }

  async function parts(batchSize: number) {
    const dir = join(mkdtempSync(join(tmpdir(), 'cc-recorder-')), 'spool');
    const spool: Spool = await openSpool({ dir, maxBytes: 64 * 1024 * 1024, log: silent, store: new RunStore(database.db) });
    const store = new ThreadBatchStore({ thread: { databaseUrl: opened!.url, poolSize: 3, logLevel: 'silent' }, log: silent });
    const committed: RunsCommitted[] = [];
    const writer = new RunWriter({
      store,
      log: silent,
      journal: spool,
      batchSize,
      maxInFlight: 2,
      // Nothing is written unless the test flushes (or a full batch kicks the writer).
      flushIntervalMs: 60_000,
      events: { publish: (_name: 'RunsCommitted', e: RunsCommitted) => committed.push(e) },
    });
    writer.start();
    const close = async () => {
      await writer.close();
      await store.close();
      await spool.close();
    };
    return { dir, spool, store, writer, committed, close };
  }

  const spoolText = (dir: string) =>
    readdirSync(dir)
      .filter((f) => f.startsWith('seg-'))
      .map((f) => readFileSync(join(dir, f), 'utf8'))
      .join('');

  it('writes pipelined batches with their read models, after the spool has the run, and publishes RunsCommitted here', async () => {
    const { dir, spool, store, writer, committed, close } = await parts(100);
    const first = run(1);
    await writer.recordRun(first);
    // The reply's condition is unchanged: the run is in the spool file, not yet in the database.
    expect(spoolText(dir)).toContain(`"id":"${first.id}"`);
    expect(writer.pendingRun(first.id)).toEqual(first);
    expect(store.inFlight).toBe(0);
    for (let i = 2; i <= 1000; i++) {
      void writer.recordRun(run(i));
      if (i > 100 && i % 4 === 0) writer.recordFeedback(feedbackFor(i - 100));
    }
    await writer.flush();
    expect(writer.backlog).toBe(0);
    expect(writer.pendingRun(first.id)).toBeUndefined();
    expect(await q(`SELECT count(*)::int AS n FROM runs WHERE rollout_id = '${ROLLOUT}' AND id <= '${runId(1000)}'`)).toEqual([
      { n: 1000 },
    ]);
    const { totals, truth } = await totalsAndTruth();
    expect(truth.reduce((s, r) => s + Number(r.reviewed), 0)).toBeGreaterThan(150);
    expect(totals).toEqual(truth);
    // RunsCommitted carries what the guardrail triggers read of each run, as noted on this
    // thread when it was queued, not objects from the recorder thread.
    const { id, chainId, variant, rolloutId, stage, tenantId, error, createdAt } = first;
    expect(committed.flatMap((c) => c.runs)[0]).toMatchObject({ id, chainId, variant, rolloutId, stage, tenantId, error, createdAt });
    expect(committed.flatMap((c) => c.runs).length).toBe(1000);
    expect(committed.flatMap((c) => c.feedback).length).toBe(225);
    expect(spool.status().bytes).toBe(0);
    await close();
  }, 60_000);

  it('sets aside a record the database refuses, as a refusal that crossed the thread', async () => {
    const { dir, writer, close } = await parts(50);
    // NaN latency is stored as JSON null: a NOT NULL violation, refused as data.
    for (let i = 2000; i < 2100; i++) void writer.recordRun(i === 2042 ? { ...run(i), latencyMs: Number.NaN } : run(i));
    await writer.flush();
    expect(writer.rejected).toBe(1);
    expect(readFileSync(join(dir, 'rejected.jsonl'), 'utf8')).toContain(runId(2042));
    expect(await q(`SELECT count(*)::int AS n FROM runs WHERE id >= '${runId(2000)}' AND id < '${runId(2100)}'`)).toEqual([{ n: 99 }]);
    const { totals, truth } = await totalsAndTruth();
    expect(totals).toEqual(truth);
    await close();
  }, 60_000);

  it('loses nothing and counts nothing twice when the thread dies with batches in flight', async () => {
    const { spool, store, writer, close } = await parts(200);
    const ids: string[] = [];
    for (let i = 3000; i < 6000; i++) {
      void writer.recordRun(run(i));
      ids.push(runId(i));
      if (i >= 3200 && i % 3 === 0) writer.recordFeedback(feedbackFor(i - 200));
    }
    const flushed = writer.flush().then(
      () => 'flushed',
      (err: Error) => err.message,
    );
    // Wait for batches to be in flight in the thread, then kill it.
    for (let t = 0; store.inFlight === 0 && t < 2000; t++) await new Promise((r) => setTimeout(r, 1));
    expect(store.inFlight).toBeGreaterThan(0);
    await store.terminateThread();
    expect(await flushed).toMatch(/recorder thread exited/);
    // The writer retries (a new thread starts with the next batch) until everything is in.
    for (let t = 0; writer.backlog > 0 && t < 100; t++) await writer.flush().catch(() => new Promise((r) => setTimeout(r, 100)));
    expect(writer.backlog).toBe(0);
    const stored = await q(`SELECT id FROM runs WHERE id >= '${runId(3000)}' AND id < '${runId(6000)}' ORDER BY id`);
    expect(stored.map((s) => s.id)).toEqual(ids);
    expect(await q(`SELECT count(*)::int AS n FROM feedback WHERE run_id >= '${runId(3000)}' AND run_id < '${runId(6000)}'`)).toEqual([
      { n: 933 },
    ]);
    const { totals, truth } = await totalsAndTruth();
    expect(totals).toEqual(truth);
    expect(spool.status().bytes).toBe(0);
    await close();
  }, 60_000);

  it('is what the composition uses with RECORDER_THREAD=true: invoke, feedback before and after the commit, readiness', async () => {
    const upstream = await startFakeUpstream({ behaviour: { output: () => ({ total: 1 }) }, record: false });
    const gw = await startTestGateway({ listen: true, env: { RECORDER_THREAD: 'true' } });
    try {
      const writer = gw.gateway.services.writer as unknown as { opts: { store: unknown } };
      expect(writer.opts.store).toBeInstanceOf(ThreadBatchStore);
      const base = gw.url!;
      const { key } = await setupChain(base, upstream.url);
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) {
        const r = await api(base, 'POST', '/v1/chains/extract/invoke', { environment: 'prod', input: { i } }, key);
        expect(r.status).toBe(200);
        ids.push(r.body.runId as string);
      }
      // Right after the answer (queued or committed, either way): the run reads back and takes feedback.
      expect((await api(base, 'GET', `/v1/runs/${ids[0]}`, undefined, key)).status).toBe(200);
      expect((await api(base, 'POST', `/v1/runs/${ids[0]}/feedback`, { final: { total: 2 } }, key)).status).toBe(200);
      await gw.gateway.services.writer.flush();
      expect((await api(base, 'POST', `/v1/runs/${ids[1]}/feedback`, { final: { total: 3 } }, key)).status).toBe(200);
      await gw.gateway.services.writer.flush();
      const stored = await storedRuns(gw.config.DATABASE_URL!, ids);
      expect([...stored.found.values()]).toEqual(ids.map(() => 1));
      expect(stored.feedback).toEqual(new Set([ids[0], ids[1]]));
      const ready = await api(base, 'GET', '/readyz', undefined, null);
      expect(ready.status).toBe(200);
      expect(ready.body).toMatchObject({ status: 'ok', runBacklog: 0, spool: { bytes: 0, writable: true } });
    } finally {
      await gw.close();
      await upstream.close();
    }
  }, 60_000);
});

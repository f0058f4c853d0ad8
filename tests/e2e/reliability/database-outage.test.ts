/**
 * Fault injection: the database goes away mid-load. On a private PostgreSQL (never the shared
 * one), invokes and feedback go on being answered while it is stopped (runs wait in the spool),
 * then it comes back and every answered run and feedback is stored, each run exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../../support/fake-upstream.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { privatePostgresAvailable, startPrivatePostgres, type PrivatePostgres } from '../../support/private-postgres.js';
import { api, eventually, setupChain, startLoad, storedRuns, type Load } from './helpers.js';

describe.skipIf(!privatePostgresAvailable())('database outage mid-load (private PostgreSQL)', () => {
  let pg: PrivatePostgres;
  let upstream: FakeUpstream;
  let gw: TestGateway;
  let key: string;

  beforeAll(async () => {
    [pg, upstream] = await Promise.all([startPrivatePostgres(), startFakeUpstream({ record: false })]);
    // An empty database: compose() migrates it at start.
    gw = await startTestGateway({ databaseUrl: pg.url, listen: true });
    ({ key } = await setupChain(gw.url!, upstream.url));
  });

  const drained = () =>
    eventually(
      'the spool to drain',
      async () =>
        gw.gateway.services.writer.backlog === 0 && ((await gw.gateway.services.readiness()).spool as { bytes: number }).bytes === 0,
      30_000,
    );
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
    await pg?.destroy();
  });

  /** Waits until the load has had `n` more answers than now, and at least `minMs` have passed. */
  const moreAnswers = async (load: Load, n: number, minMs: number, what: string) => {
    const from = load.answered.length;
    const since = Date.now();
    await eventually(what, () => load.answered.length >= from + n && Date.now() - since >= minMs, 30_000, 20);
  };

  it('answers every call while the database is stopped, then stores each answered run exactly once', async () => {
    const base = gw.url!;
    const load = startLoad({ base: () => base, key, concurrency: 6, feedbackEvery: 4, pauseMs: 2 });
    let spoolPeak = 0;
    const watch = setInterval(() => (spoolPeak = Math.max(spoolPeak, gw.gateway.services.writer.backlog)), 50);
    try {
      await moreAnswers(load, 30, 500, 'traffic before the outage');
      await pg.stop();
      // A few seconds of traffic with the database stopped (and enough of it, however slow the machine).
      await moreAnswers(load, 50, 3000, 'traffic during the outage');
      // Still serving, reporting the database away but not refusing traffic.
      const ready = await api(base, 'GET', '/readyz', undefined, null);
      expect(ready.status).toBe(200);
      expect(ready.body).toMatchObject({ status: 'degraded', database: { status: 'unreachable' } });
      expect(ready.body.spool.bytes).toBeGreaterThan(0);
      await pg.start();
      await moreAnswers(load, 20, 500, 'traffic after the outage');
    } finally {
      await load.stop();
      clearInterval(watch);
    }
    expect(spoolPeak).toBeGreaterThan(0);
    // Nothing but 200s: the outage cost the callers nothing.
    expect(Object.keys(load.outcomes).sort()).toEqual(['feedback 200', 'invoke 200']);

    // The writer catches up on its own (backing off while the database was away).
    await drained();

    const stored = await storedRuns(pg.url, load.answered);
    const missing = load.answered.filter((id) => !stored.found.has(id));
    expect(missing).toEqual([]);
    expect([...stored.found.values()].every((n) => n === 1)).toBe(true);
    expect(stored.total).toBe(load.answered.length);
    expect(load.feedbackAnswered.filter((id) => !stored.feedback.has(id))).toEqual([]);
  });

  it('survives the database crashing (SIGKILL, crash recovery) the same way', async () => {
    const base = gw.url!;
    const { total: before } = await storedRuns(pg.url, []);
    const load = startLoad({ base: () => base, key, concurrency: 6, feedbackEvery: 4, pauseMs: 2 });
    try {
      await moreAnswers(load, 20, 300, 'traffic before the crash');
      await pg.kill();
      await moreAnswers(load, 30, 2000, 'traffic while the database is down');
      await pg.start();
      await moreAnswers(load, 10, 300, 'traffic after the restart');
    } finally {
      await load.stop();
    }
    expect(Object.keys(load.outcomes).sort()).toEqual(['feedback 200', 'invoke 200']);
    await drained();
    const stored = await storedRuns(pg.url, load.answered);
    expect(load.answered.filter((id) => !stored.found.has(id))).toEqual([]);
    expect(stored.total - before).toBe(load.answered.length);
    expect(load.feedbackAnswered.filter((id) => !stored.feedback.has(id))).toEqual([]);
  });
});

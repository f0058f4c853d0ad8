/**
 * Fault injection: the gateway process is SIGKILLed mid-load. Every run it answered was written
 * to the spool before the reply; the next process on the same DATA_DIR replays the spool before
 * it serves, so every answered run ends up in the database, once.
 *
 * To be sure the kill catches runs that only the spool holds, the runs table is locked for the
 * last part of the load (the writer's batches wait on the lock): at the kill, those runs were
 * answered and are in no database.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../../support/fake-upstream.js';
import { noPostgres } from '../../support/gateway.js';
import { startGatewayProcess, type GatewayProcess } from '../../support/gateway-process.js';
import { createTestDatabase, type TestDatabase } from '../../support/pg.js';
import { api, eventually, setupChain, startLoad, storedRuns } from './helpers.js';

describe.skipIf(noPostgres)('gateway SIGKILL mid-load', () => {
  let database: TestDatabase;
  let upstream: FakeUpstream;
  let dataDir: string;
  const children: GatewayProcess[] = [];

  beforeAll(async () => {
    [database, upstream] = await Promise.all([createTestDatabase(), startFakeUpstream({ record: false })]);
    dataDir = mkdtempSync(join(tmpdir(), 'cc-kill-'));
  });
  afterAll(async () => {
    for (const c of children) c.signal('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    await upstream?.close();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('loses no answered run: the next start replays the spool', async () => {
    const first = await startGatewayProcess({ databaseUrl: database.url, dataDir });
    children.push(first);
    const { key } = await setupChain(first.url, upstream.url);
    const load = startLoad({ base: () => first.url, key, concurrency: 6, feedbackEvery: 3 });
    await eventually('traffic', () => load.answered.length >= 20, 30_000, 20);

    // Hold the writer's batches back (EXCLUSIVE blocks inserts, not reads).
    const locker = new pg.Client({ connectionString: database.url });
    locker.on('error', () => {});
    await locker.connect();
    let answered: string[];
    let lockedAt: number;
    let atKill: Awaited<ReturnType<typeof storedRuns>>;
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE runs, feedback IN EXCLUSIVE MODE');
      lockedAt = load.answered.length;
      const lockedSince = Date.now();
      await eventually(
        'traffic with the table locked',
        () => load.answered.length >= lockedAt + 20 && Date.now() - lockedSince >= 500,
        30_000,
        20,
      );
      first.signal('SIGKILL');
      expect(await first.exited).toBe('SIGKILL');
      await load.stop();
      answered = [...load.answered];
      atKill = await storedRuns(database.url, answered);
    } finally {
      await load.stop();
      await locker.end().catch(() => {});
    }
    expect(answered.length - lockedAt).toBeGreaterThan(5);
    // Runs answered and not in the database when the process died: only the spool has them.
    expect(answered.length - atKill.found.size).toBeGreaterThan(5);
    expect(readdirSync(join(dataDir, 'spool')).some((f) => f.startsWith('seg-'))).toBe(true);

    const second = await startGatewayProcess({ databaseUrl: database.url, dataDir });
    children.push(second);
    // Replayed before serving: everything is there as soon as it listens.
    const stored = await storedRuns(database.url, answered);
    expect(answered.filter((id) => !stored.found.has(id))).toEqual([]);
    expect([...stored.found.values()].every((n) => n === 1)).toBe(true);
    // Extra runs can only be calls whose answer the kill cut off in transit.
    expect(stored.total - answered.length).toBeLessThanOrEqual(load.outcomes['transport error'] ?? 0);
    expect(load.feedbackAnswered.filter((id) => !stored.feedback.has(id))).toEqual([]);

    // And it serves.
    const again = await api(second.url, 'POST', '/v1/chains/extract/invoke', { environment: 'prod', input: { after: 'restart' } }, key);
    expect(again.status).toBe(200);
    second.signal('SIGTERM');
    expect(await second.exited).toBe(0);
    expect((await storedRuns(database.url, [again.body.runId])).found.get(again.body.runId)).toBe(1);
  });
});

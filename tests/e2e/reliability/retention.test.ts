/**
 * Retention (RETENTION_DAYS): the job's schedule with an injected clock and fake timers, then the
 * deletion itself on real PostgreSQL (old runs and their feedback go, recent ones stay).
 */
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { RetentionJob } from '../../../src/runtime/jobs/retention.js';
import type { Run } from '../../../src/domain/model/run.js';
import { aRun, batchOf } from '../../support/runs.js';
import { noPostgres, startTestGateway, type TestGateway } from '../../support/gateway.js';

const log = pino({ level: 'silent' });
const DAY = 24 * 60 * 60 * 1000;
const HOUR = 60 * 60 * 1000;

describe('retention job (injected clock)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('deletes before now minus RETENTION_DAYS', async () => {
    const now = new Date('2026-03-10T12:00:00Z');
    const calls: Date[] = [];
    const job = new RetentionJob({ store: { deleteOlderThan: async (d) => (calls.push(d), 3) }, days: 30, now: () => now, log });
    expect(await job.runOnce()).toBe(3);
    expect(calls).toEqual([new Date('2026-02-08T12:00:00Z')]);
  });

  it('runs shortly after start, then hourly, never overlapping a slow run, and stops', async () => {
    vi.useFakeTimers();
    let clock = new Date('2026-03-10T00:00:00Z').getTime();
    const cutoffs: number[] = [];
    let release: (() => void) | undefined;
    let active = 0;
    let maxActive = 0;
    const store = {
      deleteOlderThan: (d: Date) => {
        cutoffs.push(d.getTime());
        active++;
        maxActive = Math.max(maxActive, active);
        return new Promise<number>((resolve) => {
          release = () => {
            active--;
            resolve(1);
          };
        });
      },
    };
    const job = new RetentionJob({ store, days: 7, now: () => new Date(clock), log, random: () => 0.5, firstRunDelayMs: 60_000 });
    job.start();
    await vi.advanceTimersByTimeAsync(59_000);
    expect(cutoffs).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(cutoffs).toEqual([clock - 7 * DAY]);
    // The first run is slow: three hours pass, no second run starts beside it.
    clock += 3 * HOUR;
    await vi.advanceTimersByTimeAsync(3 * HOUR);
    expect(maxActive).toBe(1);
    release!();
    await vi.advanceTimersByTimeAsync(0);
    // Hourly from then on (random 0.5: no jitter), each with the clock of its own run.
    const runs = cutoffs.length;
    clock += HOUR;
    release?.();
    await vi.advanceTimersByTimeAsync(HOUR);
    expect(cutoffs.length).toBeGreaterThan(runs);
    expect(cutoffs[cutoffs.length - 1]).toBe(clock - 7 * DAY);
    expect(maxActive).toBe(1);
    release?.();
    await job.stop();
    const stopped = cutoffs.length;
    await vi.advanceTimersByTimeAsync(5 * HOUR);
    expect(cutoffs.length).toBe(stopped);
  });

  it('skips the run while another replica holds the lease, and survives a failing run', async () => {
    let holder = false;
    const deleted: Date[] = [];
    const job = new RetentionJob({
      store: {
        deleteOlderThan: async (d) => {
          if (deleted.push(d) === 1) throw new Error('database away');
          return 0;
        },
      },
      days: 1,
      now: () => new Date('2026-01-02T00:00:00Z'),
      log,
      lease: { acquire: async () => holder },
    });
    expect(await job.runOnce()).toBeUndefined();
    expect(deleted).toHaveLength(0);
    holder = true;
    await job.runNow(); // the error is logged, not thrown
    expect(await job.runOnce()).toBe(0);
    expect(deleted).toHaveLength(2);
  });

  it('refuses a non-positive number of days', () => {
    expect(() => new RetentionJob({ store: { deleteOlderThan: async () => 0 }, days: 0, now: () => new Date(), log })).toThrow(RangeError);
  });
});

describe.skipIf(noPostgres)('retention on PostgreSQL', () => {
  let gw: TestGateway;
  const now = new Date('2026-03-10T12:00:00Z');

  beforeAll(async () => {
    gw = await startTestGateway({ env: { RETENTION_DAYS: '30' } });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('deletes runs (and their feedback) older than RETENTION_DAYS and keeps the rest', async () => {
    const run = (id: string, createdAt: Date): Run => aRun({ id, input: {}, output: { a: 1 }, createdAt });
    const old = run('00000000-0000-4000-8000-000000000001', new Date(now.getTime() - 31 * DAY));
    const edge = run('00000000-0000-4000-8000-000000000002', new Date(now.getTime() - 30 * DAY));
    const recent = run('00000000-0000-4000-8000-000000000003', new Date(now.getTime() - DAY));
    const store = gw.gateway.services.runStore;
    await store.writeBatch(
      batchOf(
        [old, edge, recent],
        [old, recent].map((r) => ({ runId: r.id, overridden: false, fields: [], reviewer: null, at: now })),
      ),
    );
    const job = new RetentionJob({ store, days: gw.config.RETENTION_DAYS!, now: () => now, log });
    expect(await job.runOnce()).toBe(1);
    expect(await store.getRun(old.id)).toBeUndefined();
    expect(await store.getRun(edge.id)).toBeDefined();
    expect((await store.getRun(recent.id))?.feedback).toMatchObject({ overridden: false });
    expect(await job.runOnce()).toBe(0);
  });
});

/** The writer's batching rules, with an in-memory store standing in for PostgreSQL. */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { RunWriter } from '../../src/runtime/run-writer.js';
import { setImmediate as tick, setTimeout as sleep } from 'node:timers/promises';
import { PreviousBatchFailedError, RecordRefusedError } from '../../src/domain/model/errors.js';
import type { Feedback, Run } from '../../src/domain/model/run.js';
import type { BatchPipeline, RecordBatch, RunRepository } from '../../src/domain/ports/run-repository.js';
import { aFeedback, aRun, runsOf } from '../support/runs.js';

const run = (id: string): Run => aRun({ id });

function memoryStore(refuse: (id: string) => boolean) {
  const runs = new Map<string, Run>();
  const feedback = new Map<string, Feedback>();
  let down = false;
  const store: Pick<RunRepository, 'writeBatch'> = {
    async writeBatch(batch: RecordBatch) {
      if (down) throw Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' });
      if (batch.runs.some((r) => refuse(r.id))) throw new RecordRefusedError('22021');
      for (const r of runsOf(batch)) if (!runs.has(r.id)) runs.set(r.id, r);
      for (const f of batch.feedback) feedback.set(f.runId, f);
    },
  };
  return { store, runs, feedback, setDown: (d: boolean) => (down = d) };
}

describe('RunWriter', () => {
  it('sets aside a record the database refuses as data and writes the rest of its batch', async () => {
    const mem = memoryStore((id) => id === 'bad');
    const setAside: string[] = [];
    const writer = new RunWriter({
      store: mem.store,
      log: pino({ level: 'silent' }),
      journal: { appendRun: () => 0, appendFeedback: () => 0, committed: () => {}, setAside: (_k, v) => setAside.push((v as Run).id) },
    });
    for (const id of ['a', 'bad', 'b']) void writer.recordRun(run(id));
    await writer.flush();
    expect([...mem.runs.keys()].sort()).toEqual(['a', 'b']);
    expect(setAside).toEqual(['bad']);
    expect(writer.rejected).toBe(1);
    expect(writer.backlog).toBe(0);
  });

  it('keeps everything queued while the database is away, and writes it once it is back', async () => {
    const mem = memoryStore(() => false);
    const writer = new RunWriter({ store: mem.store, log: pino({ level: 'silent' }) });
    mem.setDown(true);
    void writer.recordRun(run('a'));
    writer.recordFeedback(aFeedback({ runId: 'a', overridden: true, fields: ['x'] }));
    await expect(writer.flush()).rejects.toThrow('connection refused');
    expect(writer.backlog).toBe(2);
    expect(writer.pendingRun('a')).toBeDefined();
    mem.setDown(false);
    await writer.flush();
    expect(mem.runs.size).toBe(1);
    expect(mem.feedback.get('a')?.overridden).toBe(true);
    expect(writer.pendingRun('a')).toBeUndefined();
  });

  it('keeps both pipelined batches queued when the first fails, and writes each record once, in order, when the database is back', async () => {
    // Stands in for RunStore's transaction as the writer sees it: runs first, then the wait for
    // the batch before, then commit (all or nothing).
    const committed: string[][] = [];
    let down = false;
    let open = 0;
    let maxOpen = 0;
    const store: Pick<RunRepository, 'writeBatch'> = {
      async writeBatch(batch: RecordBatch, pipeline: BatchPipeline = {}) {
        maxOpen = Math.max(maxOpen, ++open);
        try {
          await tick();
          pipeline.runsInserted?.();
          if (pipeline.after) await pipeline.after.catch((err: unknown) => Promise.reject(new PreviousBatchFailedError(err)));
          await tick();
          if (down) throw Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' });
          committed.push(batch.runs.map((r) => r.id));
        } finally {
          open--;
        }
      },
    };
    const done: number[] = [];
    let seq = 0;
    const writer = new RunWriter({
      store,
      log: pino({ level: 'silent' }),
      batchSize: 3,
      maxInFlight: 2,
      journal: { appendRun: () => ++seq, appendFeedback: () => ++seq, committed: (s) => done.push(s) },
    });
    const ids = Array.from({ length: 10 }, (_, i) => `r${i}`);
    for (const id of ids) void writer.recordRun(run(id));
    down = true;
    await expect(writer.flush()).rejects.toThrow('connection refused');
    expect(maxOpen).toBe(2);
    expect(committed).toEqual([]);
    expect(writer.backlog).toBe(10);
    expect(done).toEqual([]);

    down = false;
    await writer.flush();
    expect(committed.flat()).toEqual(ids);
    expect(committed.every((b) => b.length <= 3)).toBe(true);
    expect(writer.backlog).toBe(0);
    expect(done).toEqual([...done].sort((a, b) => a - b));
    expect(done.at(-1)).toBe(10);
  });

  it('writes steady traffic in batches of a flush interval, not a batch per record', async () => {
    const sizes: number[] = [];
    const store: Pick<RunRepository, 'writeBatch'> = {
      async writeBatch(batch: RecordBatch) {
        await sleep(2);
        sizes.push(batch.runs.length);
      },
    };
    const writer = new RunWriter({ store, log: pino({ level: 'silent' }), flushIntervalMs: 50, maxInFlight: 2 });
    writer.start();
    // A run every ~2 ms (longer on a busy machine): a batch per flush interval, give or take.
    const started = Date.now();
    for (let i = 0; i < 200; i++) {
      void writer.recordRun(run(`s${i}`));
      await sleep(2);
    }
    const intervals = Math.ceil((Date.now() - started) / 50);
    await writer.close();
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(200);
    expect(sizes.length).toBeLessThanOrEqual(intervals + 3);
  });

  it('reports a batch that fails on its own after the one before it committed, and keeps its records queued', async () => {
    const committed: string[] = [];
    let calls = 0;
    const store: Pick<RunRepository, 'writeBatch'> = {
      async writeBatch(batch: RecordBatch, pipeline: BatchPipeline = {}) {
        const call = ++calls;
        await tick();
        pipeline.runsInserted?.();
        if (pipeline.after) await pipeline.after;
        await tick();
        if (call === 2) throw Object.assign(new Error('connection reset'), { code: 'ECONNRESET' });
        committed.push(...batch.runs.map((r) => r.id));
      },
    };
    const writer = new RunWriter({ store, log: pino({ level: 'silent' }), batchSize: 3, maxInFlight: 2 });
    const ids = Array.from({ length: 6 }, (_, i) => `f${i}`);
    for (const id of ids) void writer.recordRun(run(id));
    await expect(writer.flush()).rejects.toThrow('connection reset');
    expect(committed).toEqual(ids.slice(0, 3));
    expect(writer.backlog).toBe(3);
    await writer.flush();
    expect(committed).toEqual(ids);
  });
});

/**
 * The RunWriter sends the next batch while the one before is still in its transaction (two in
 * flight on PostgreSQL). On a real database: the batches do overlap, feedback for a run in the
 * batch before is counted in its arm, and the read models equal a count of the raw rows, also
 * when a record the database refuses makes a pipelined batch fall back to one-by-one writes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunWriter, type Journal } from '../../src/runtime/run-writer.js';
import type { Database } from '../../src/store/db.js';
import { RolloutReadModel } from '../../src/store/read-models/rollout-read-model.js';
import { rowsOf } from '../../src/store/read-models/rows.js';
import type { Feedback, Run } from '../../src/domain/model/run.js';
import { RunStore, type FeedbackChange, type Tx } from '../../src/store/run-store.js';
import type { RunInsert } from '../../src/store/schema.js';
import { openTestDatabase, type OpenedTestDatabase } from '../support/test-database.js';
import { aFeedback, aRun } from '../support/runs.js';

const ROLLOUT = '5a0c0de0-0000-4000-8000-000000000001';
const TENANTS = ['acme', 'globex', 'initech'];

const runId = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

/**
 * Batches take turns: control runs, candidate runs, default traffic. Two batches in a row then
 * share no aggregate row, so nothing but the writer's own ordering makes a batch wait for the
 * one before (the rows it updates would otherwise be locked by it).
 */
function run(i: number, batch: number, createdAt: Date): Run {
  const tenantId = TENANTS[i % TENANTS.length]!;
  const unit = `doc-${i % 97}`;
  const kind = Math.floor(i / batch) % 3;
  const base = {
    id: runId(i),
    chainId: 'invoice-extract',
    tenantId,
    environment: 'staging',
    unit,
    error: i % 50 === 7 ? { code: 'upstream_failed', message: 'boom' } : null,
    latencyMs: 5 + (i % 40),
    createdAt,
  };
  if (kind === 2) return aRun({ ...base, version: 'v1', variant: 'default' });
  const variant = kind === 0 ? 'control' : 'candidate';
  return aRun({ ...base, version: kind === 0 ? 'v1' : 'v2', variant, rolloutId: ROLLOUT, stage: 0, assignmentKey: `${tenantId}/${unit}` });
}

/**
 * The real read model, holding each transaction open a while after its feedback: a batch that
 * did not wait for the one before would look for that batch's runs before they are committed,
 * miss them and leave their feedback uncounted.
 */
class SlowToCommitReadModel extends RolloutReadModel {
  constructor(private readonly delayMs: number) {
    super();
  }

  override async onBatchWritten(tx: Tx, inserted: RunInsert[], changes: FeedbackChange[]): Promise<void> {
    await super.onBatchWritten(tx, inserted, changes);
    if (changes.length > 1) await sleep(this.delayMs); // batches, not the one-by-one writes after a refusal
  }
}

/** A journal that only numbers records and remembers what the writer says is committed. */
function recordingJournal() {
  let seq = 0;
  const committed: number[] = [];
  const setAside: unknown[] = [];
  const journal: Journal = {
    appendRun: () => ++seq,
    appendFeedback: () => ++seq,
    committed: (s) => committed.push(s),
    setAside: (_kind, value) => setAside.push(value),
  };
  return { journal, committed, setAside, last: () => seq };
}

describe('RunWriter pipelining on PostgreSQL', () => {
  let opened: OpenedTestDatabase | undefined;
  let database: Database;

  beforeAll(async () => {
    opened = await openTestDatabase();
    database = opened.database;
  }, 60_000);

  afterAll(async () => {
    await opened?.close();
  });

  /**
   * Queues `n` runs from `from` and feedback on most of them a batch later, cut so that a batch's
   * feedback is only for the batch before (whose aggregate rows it then shares with no other batch).
   */
  function load(writer: RunWriter, batch: number, from: number, n: number, bad: Set<number> = new Set()) {
    // Each load in hours of its own: no aggregate row is shared with an earlier test's.
    const t0 = Date.parse('2026-12-01T10:00:00.000Z') + from * 3_600_000;
    for (let i = from; i < from + n; i++) {
      const r = run(i, batch, new Date(t0 + i * 100));
      void writer.recordRun(bad.has(i) ? { ...r, latencyMs: Number.NaN } : r);
      const j = i - batch + 1;
      if (j >= from && j % 5 !== 0) {
        const fb: Feedback = aFeedback({
          runId: runId(j),
          overridden: j % 3 === 0,
          fields: j % 3 === 0 ? ['total'] : [],
          at: new Date(t0 + i * 100),
        });
        writer.recordFeedback(fb);
        // Re-sent feedback replaces the first: the aggregates must count it once.
        if (j % 11 === 0) writer.recordFeedback({ ...fb, overridden: !fb.overridden, fields: fb.overridden ? [] : ['vendor'] });
      }
    }
  }

  /** The read model's totals next to the same counts taken from the raw runs and feedback. */
  async function totalsAndTruth() {
    const q = async (text: string) => rowsOf<Record<string, string | number>>(await database.db.execute(sql.raw(text)));
    const counts = 'sum(runs)::int AS runs, sum(errors)::int AS errors, sum(reviewed)::int AS reviewed, sum(overridden)::int AS overridden';
    const totals = await q(`
      SELECT variant, tenant_id, ${counts} FROM rollout_totals WHERE rollout_id = '${ROLLOUT}' GROUP BY 1, 2
      UNION ALL SELECT 'default', tenant_id, ${counts} FROM default_rollups GROUP BY 1, 2 ORDER BY 1, 2`);
    const truth = await q(`
      SELECT r.variant, r.tenant_id, count(*)::int AS runs, count(*) FILTER (WHERE r.error IS NOT NULL)::int AS errors,
             count(f.run_id) FILTER (WHERE r.error IS NULL)::int AS reviewed,
             count(f.run_id) FILTER (WHERE r.error IS NULL AND f.overridden)::int AS overridden
      FROM runs r LEFT JOIN feedback f ON f.run_id = r.id GROUP BY 1, 2 ORDER BY 1, 2`);
    const keys = await q(`SELECT variant, keys FROM rollout_assignment_counts WHERE rollout_id = '${ROLLOUT}' ORDER BY 1`);
    // Per arm, and (row both_arms) the keys with runs in both arms of a stage: here every unit.
    const distinctKeys = await q(`
      SELECT variant, count(DISTINCT assignment_key)::int AS keys FROM runs WHERE rollout_id = '${ROLLOUT}' GROUP BY 1
      UNION ALL
      SELECT 'both_arms', count(*)::int FROM (
        SELECT 1 FROM runs WHERE rollout_id = '${ROLLOUT}' GROUP BY stage, assignment_key HAVING count(DISTINCT variant) > 1) b
      ORDER BY 1`);
    return { totals, truth, keys, distinctKeys };
  }

  it('overlaps batches and keeps the read models equal to the raw rows', async () => {
    const store = new RunStore(database.db, new SlowToCommitReadModel(40), { batchJsonAsBytes: true });
    let open = 0;
    let maxOpen = 0;
    const writeBatch = store.writeBatch.bind(store);
    store.writeBatch = async (...args) => {
      maxOpen = Math.max(maxOpen, ++open);
      try {
        return await writeBatch(...args);
      } finally {
        open--;
      }
    };
    const rec = recordingJournal();
    const writer = new RunWriter({ store, log: pino({ level: 'silent' }), journal: rec.journal, batchSize: 200, maxInFlight: 2 });
    load(writer, 200, 0, 3000);
    await writer.flush();

    expect(maxOpen).toBe(2);
    expect(writer.backlog).toBe(0);
    const { totals, truth, keys, distinctKeys } = await totalsAndTruth();
    expect(truth.reduce((s, r) => s + Number(r.runs), 0)).toBe(3000);
    expect(truth.reduce((s, r) => s + Number(r.reviewed), 0)).toBeGreaterThan(1500);
    expect(totals).toEqual(truth);
    expect(keys).toEqual(distinctKeys);
    // What the journal may drop only ever grows, and ends at the last record.
    expect(rec.committed).toEqual([...rec.committed].sort((a, b) => a - b));
    expect(rec.committed.at(-1)).toBe(rec.last());
  });

  it('sets aside a refused record in a pipelined batch and still counts every other record once', async () => {
    // Long enough for the refused batch's one-by-one writes of its own runs to end before the
    // batch in flight beside it commits: its feedback (for that batch's runs) must still wait.
    const store = new RunStore(database.db, new SlowToCommitReadModel(800), { batchJsonAsBytes: true });
    const rec = recordingJournal();
    const writer = new RunWriter({ store, log: pino({ level: 'silent' }), journal: rec.journal, batchSize: 50, maxInFlight: 2 });
    // NaN latency is stored as JSON null: a NOT NULL violation, refused as data. One in the
    // first batch of this load, one in a later (follower) batch.
    const bad = new Set([3000 + 17, 3000 + 2 * 50 + 5]);
    const runsBefore = (await totalsAndTruth()).truth.reduce((s, r) => s + Number(r.runs), 0);
    load(writer, 50, 3000, 300, bad);
    await writer.flush();

    expect(writer.rejected).toBe(2);
    expect(rec.setAside.map((r) => (r as Run).id).sort()).toEqual([...bad].map(runId).sort());
    const { totals, truth, keys, distinctKeys } = await totalsAndTruth();
    expect(truth.reduce((s, r) => s + Number(r.runs), 0)).toBe(runsBefore + 300 - 2);
    expect(totals).toEqual(truth);
    expect(keys).toEqual(distinctKeys);
    expect(rec.committed.at(-1)).toBe(rec.last());
  });
});

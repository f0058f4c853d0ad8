/**
 * Keys in both arms (the comparison's `keys_in_both_arms` warning), on PostgreSQL: the read model
 * counts a key once its second arm's row is stored, whether the two arms come in one batch or in
 * two; a key seen again in an arm it has adds nothing; erasing the tenant takes its keys out of
 * the count; and migration 0007 counts the keys stored before the counter existed. Each time the
 * figure equals a count over the raw runs.
 */
import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../../src/domain/model/run.js';
import { migrationsFolder, type Database } from '../../src/store/db.js';
import { ComparisonQueries } from '../../src/store/read-models/comparison-queries.js';
import { RolloutReadModel } from '../../src/store/read-models/rollout-read-model.js';
import { rowsOf } from '../../src/store/read-models/rows.js';
import { RunStore } from '../../src/store/run-store.js';
import { openTestDatabase, type OpenedTestDatabase } from '../support/test-database.js';
import { aRun, batchOf } from '../support/runs.js';

const ROLLOUT = '5a0c0de0-0000-4000-8000-0000000000b2';

describe('keys in both arms on PostgreSQL', () => {
  let opened: OpenedTestDatabase | undefined;
  let database: Database;
  let store: RunStore;
  let queries: ComparisonQueries;
  let n = 0;

  beforeAll(async () => {
    opened = await openTestDatabase();
    database = opened.database;
    store = new RunStore(database.db, new RolloutReadModel(), { batchJsonAsBytes: true });
    queries = new ComparisonQueries(database.db);
  }, 60_000);

  afterAll(async () => {
    await opened?.close();
  });

  const run = (tenantId: string, unit: string, variant: 'control' | 'candidate', stage = 0): Run =>
    aRun({
      id: `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
      tenantId,
      unit,
      variant,
      version: variant === 'control' ? 'v1' : 'v2',
      rolloutId: ROLLOUT,
      stage,
      assignmentKey: `${tenantId}/${unit}`,
      createdAt: new Date(Date.parse('2026-12-01T10:00:00Z') + n * 1000),
    });
  const write = (runs: Run[]) => store.writeBatch(batchOf(runs));

  /** The same figure counted over the raw runs. */
  async function truth(): Promise<{ stage: number; keys: number }[]> {
    const rows = rowsOf<{ stage: number; keys: number }>(
      await database.db.execute(sql`
        SELECT stage, count(*)::int AS keys FROM (
          SELECT stage FROM runs WHERE rollout_id = ${ROLLOUT} GROUP BY stage, assignment_key HAVING count(DISTINCT variant) > 1) k
        GROUP BY stage ORDER BY stage`),
    );
    return rows.map((r) => ({ stage: Number(r.stage), keys: Number(r.keys) }));
  }
  const counted = async () => (await queries.keysInBothArms(ROLLOUT)).sort((a, b) => a.stage - b.stage);

  it('counts a key once its second arm is stored, in the same batch or a later one', async () => {
    // Sticky keys only: nothing to count.
    await write([run('acme', 'doc-1', 'control'), run('acme', 'doc-2', 'candidate'), run('globex', 'doc-1', 'control')]);
    expect(await counted()).toEqual([]);
    // acme/doc-1's other arm in a later batch; globex/doc-9 in both arms within one batch; stage 1 apart.
    await write([
      run('acme', 'doc-1', 'candidate'),
      run('globex', 'doc-9', 'control'),
      run('globex', 'doc-9', 'candidate'),
      run('acme', 'doc-5', 'control', 1),
      run('acme', 'doc-5', 'candidate', 1),
    ]);
    expect(await counted()).toEqual([
      { stage: 0, keys: 2 },
      { stage: 1, keys: 1 },
    ]);
    // The same keys again in arms they already have: no change.
    await write([run('acme', 'doc-1', 'control'), run('acme', 'doc-1', 'candidate'), run('globex', 'doc-9', 'candidate')]);
    expect(await counted()).toEqual(await truth());
    expect(await counted()).toEqual([
      { stage: 0, keys: 2 },
      { stage: 1, keys: 1 },
    ]);
  });

  it("takes an erased tenant's keys out of the count", async () => {
    await store.eraseTenant('globex');
    expect(await counted()).toEqual(await truth());
    expect(await counted()).toEqual([
      { stage: 0, keys: 1 },
      { stage: 1, keys: 1 },
    ]);
  });

  it('counts the keys stored before the counter existed (migration 0007)', async () => {
    await database.db.execute(sql`DELETE FROM rollout_assignment_counts WHERE variant = 'both_arms'`);
    expect(await counted()).toEqual([]);
    await database.db.execute(sql.raw(readFileSync(`${migrationsFolder}/0007_keys_in_both_arms.sql`, 'utf8')));
    expect(await counted()).toEqual(await truth());
    expect(await counted()).toEqual([
      { stage: 0, keys: 1 },
      { stage: 1, keys: 1 },
    ]);
  });

  it('counts a key sent twice in one arm of one batch once, per arm and in both arms', async () => {
    await write([run('initech', 'doc-7', 'control', 2), run('initech', 'doc-7', 'control', 2), run('initech', 'doc-7', 'candidate', 2)]);
    expect(await counted()).toEqual(await truth());
    expect((await counted()).find((c) => c.stage === 2)).toEqual({ stage: 2, keys: 1 });
    const perArm = rowsOf<{ variant: string; keys: number }>(
      await database.db.execute(
        sql`SELECT variant, keys FROM rollout_assignment_counts WHERE rollout_id = ${ROLLOUT} AND stage = 2 ORDER BY variant`,
      ),
    );
    expect(perArm.map((r) => [r.variant, Number(r.keys)])).toEqual([
      ['both_arms', 1],
      ['candidate', 1],
      ['control', 1],
    ]);
  });
});

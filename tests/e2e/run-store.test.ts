/**
 * RunStore's batch writes (one JSON parameter per table, unpacked by json_to_recordset) store
 * every column as a per-value insert would, on PostgreSQL and on PGlite: nulls and absent keys,
 * column defaults, JSON scalars in jsonb columns, non-ASCII text, millisecond timestamps; replays
 * are skipped and counted once by the read models; feedback is last-wins.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/store/db.js';
import { RunStore, type FeedbackInsert, type ReadModelHooks, type FeedbackChange } from '../../src/store/run-store.js';
import type { RunInsert } from '../../src/store/schema.js';
import { createTestDatabase, type TestDatabase } from '../support/pg.js';

const full = (id: string): RunInsert => ({
  id,
  chainId: 'invoice-extract',
  version: 'v2',
  variant: 'candidate',
  rolloutId: '7f7b8f0e-2f7a-4c36-9a3e-0d3c1c2b1a00',
  stage: 1,
  assignmentKey: 'acme/u-1',
  tenantId: 'acme',
  environment: 'staging',
  unit: 'u-1',
  externalId: 'doc-Ω-1',
  metadata: { source: 'mail', n: 3 },
  input: { text: 'Grüße, 東京 "quoted" \\ back\nslash', amount: 12.5 },
  output: { vendor: 'ACME', lines: [1, 2, { x: null }] },
  outputHashes: { vendor: 'ab12' },
  error: null,
  fallback: true,
  latencyMs: 12.25,
  upstreamMs: 11.5,
  promptTokens: 120,
  completionTokens: 30,
  idempotencyKey: 'key-1',
  createdAt: new Date('2026-11-30T10:11:12.345Z'),
});

// Only the required columns: the rest absent (NULL), fallback from its default.
const sparse = (id: string): RunInsert => ({
  id,
  chainId: 'c',
  version: 'v1',
  variant: 'default',
  tenantId: 't',
  environment: 'prod',
  latencyMs: 1,
  createdAt: new Date('2026-11-30T10:00:00.001Z'),
});

class CountingHooks implements ReadModelHooks {
  inserted: string[] = [];
  changes: FeedbackChange[] = [];
  async onBatchWritten(_tx: unknown, runs: RunInsert[], changes: FeedbackChange[]): Promise<void> {
    this.inserted.push(...runs.map((r) => r.id));
    this.changes.push(...changes);
  }
}

const ids = Array.from({ length: 8 }, (_, i) => `00000000-0000-4000-8000-00000000000${i}`);

for (const driver of ['postgres', 'pglite'] as const) {
  describe(`RunStore batch writes on ${driver}`, () => {
    let database: Database;
    let testDb: TestDatabase | undefined;
    let dataDir: string | undefined;

    beforeAll(async () => {
      if (driver === 'postgres') {
        testDb = await createTestDatabase();
        database = await openDatabase({ databaseUrl: testDb.url, dataDir: '' });
      } else {
        dataDir = mkdtempSync(join(tmpdir(), 'cc-runstore-'));
        database = await openDatabase({ dataDir });
        await database.migrate();
      }
    }, 60_000);

    afterAll(async () => {
      await database?.close();
      await testDb?.drop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    /** As composed: node-postgres gets each batch's runs as one UTF-8 buffer, PGlite as text. */
    const storeOf = (hooks?: ReadModelHooks) => new RunStore(database.db, hooks, { batchJsonAsBytes: database.kind === 'postgres' });

    it('stores every column as given, with NULLs and defaults for absent keys', async () => {
      const store = storeOf();
      const a = full(ids[0]!);
      const b = sparse(ids[1]!);
      const c = {
        ...sparse(ids[2]!),
        input: 'just a string',
        output: 42,
        error: { code: 'upstream_failed', message: 'boom', details: null },
      };
      await store.writeBatch({ runs: [a, b, c], feedback: [] });

      const got = await store.getRun(a.id);
      expect(got).toMatchObject({ ...a, feedback: null });
      expect(got!.createdAt.toISOString()).toBe('2026-11-30T10:11:12.345Z');

      const gotB = await store.getRun(b.id);
      expect(gotB).toMatchObject({
        ...b,
        fallback: false,
        rolloutId: null,
        stage: null,
        unit: null,
        metadata: null,
        input: null,
        output: null,
        error: null,
        upstreamMs: null,
      });

      const gotC = await store.getRun(c.id);
      expect(gotC!.input).toBe('just a string');
      expect(gotC!.output).toBe(42);
      expect(gotC!.error).toEqual({ code: 'upstream_failed', message: 'boom', details: null });
    });

    it('uses the JSON the caller already encoded (the spool line)', async () => {
      const store = storeOf();
      const r = sparse(ids[3]!);
      // The JSON wins over the object: proof the store does not encode the run a second time.
      await store.writeBatch({ runs: [r], feedback: [], runJson: [JSON.stringify({ ...r, unit: 'from-json' })] });
      expect((await store.getRun(r.id))!.unit).toBe('from-json');
    });

    it('stores text beyond ASCII as sent, in runs batched together', async () => {
      const store = storeOf();
      const text = 'Zoë, Straße 5, 東京 🎉 \\ "quoted" \u2028';
      const r1 = { ...sparse(ids[5]!), input: { text }, output: { vendor: 'Ünïcode GmbH' } };
      const r2 = { ...sparse(ids[6]!), unit: 'ü-2' };
      await store.writeBatch({ runs: [r1, r2], feedback: [], runJson: [JSON.stringify(r1), JSON.stringify(r2)] });
      expect((await store.getRun(r1.id))!.input).toEqual({ text });
      expect((await store.getRun(r1.id))!.output).toEqual({ vendor: 'Ünïcode GmbH' });
      expect((await store.getRun(r2.id))!.unit).toBe('ü-2');
    });

    it('skips runs already stored and tells the read models only of new ones, once', async () => {
      const hooks = new CountingHooks();
      const store = storeOf(hooks);
      const again = { ...full(ids[0]!), unit: 'changed' };
      const fresh = sparse(ids[4]!);
      await store.writeBatch({ runs: [again, fresh, fresh], feedback: [] });
      expect(hooks.inserted).toEqual([fresh.id]);
      expect((await store.getRun(again.id))!.unit).toBe('u-1');
    });

    it('upserts feedback, last received wins, and reports before → after', async () => {
      const hooks = new CountingHooks();
      const store = storeOf(hooks);
      const fb = (overridden: boolean, fields: string[], reviewer?: string): FeedbackInsert => ({
        runId: ids[0]!,
        overridden,
        fields,
        reviewer,
        at: new Date('2026-11-30T11:00:00.000Z'),
      });
      await store.writeBatch({ runs: [], feedback: [fb(false, []), fb(true, ['vendor'], 'ana')] });
      expect((await store.getRun(ids[0]!))!.feedback).toMatchObject({ overridden: true, fields: ['vendor'], reviewer: 'ana' });
      expect(hooks.changes).toHaveLength(1);
      expect(hooks.changes[0]).toMatchObject({ before: undefined, after: { overridden: true, fields: ['vendor'] } });

      await store.writeBatch({ runs: [], feedback: [fb(false, [])] });
      const row = (await store.getRun(ids[0]!))!.feedback!;
      expect(row).toMatchObject({ overridden: false, fields: [], reviewer: null });
      expect(hooks.changes[1]).toMatchObject({
        before: { overridden: true, fields: ['vendor'] },
        after: { overridden: false, fields: [] },
      });
    });
  });
}

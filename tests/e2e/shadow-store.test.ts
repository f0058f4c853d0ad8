/**
 * ShadowStore on real PostgreSQL and on PGlite: the two halves of a pair (the shadow call's result
 * and the human's record of its control run) in either order, in one batch or two, from two
 * writers at once; the pair scored by whichever comes second, re-scored when feedback is re-sent;
 * errors kept out of the pairs; aggregates by tenant, stage and field; skip counts summed; erasure.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/domain/overrides/canonical-json.js';
import type { ShadowExpectation, ShadowResult } from '../../src/domain/ports/shadow-repository.js';
import { buildExpectation } from '../../src/domain/shadow/expectation.js';
import { scoreShadow } from '../../src/domain/shadow/score-shadow.js';
import { openDatabase, type Database } from '../../src/store/db.js';
import { ShadowStore } from '../../src/store/shadow-store.js';
import { noPostgres } from '../support/gateway.js';
import { createTestDatabase, type TestDatabase } from '../support/pg.js';

const hashValue = (v: unknown) => createHmac('sha256', 'k').update(canonicalJson(v)).digest('base64url');
const score = (pair: { output: unknown; outputHashes: Record<string, string> | null; expected: any }) =>
  scoreShadow({ output: pair.output, outputHashes: pair.outputHashes }, pair.expected, hashValue);

const storages = [...(noPostgres ? [] : (['postgres'] as const)), ...(process.env.CC_SKIP_PGLITE ? [] : (['pglite'] as const))];

describe.each(storages)('shadow store on %s', (storage) => {
  let database: Database;
  let pgDb: TestDatabase | undefined;
  let dataDir: string;
  let store: ShadowStore;
  const rolloutId = randomUUID();

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cc-shadow-'));
    if (storage === 'postgres') pgDb = await createTestDatabase();
    database = await openDatabase({ databaseUrl: pgDb?.url, dataDir });
    await database.migrate();
    store = new ShadowStore(database.db);
  });
  afterAll(async () => {
    await database?.close();
    await pgDb?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const control = { total: 42, vendor: 'ACME' };
  const place = (tenantId = 'acme', stage: number | null = 0) => {
    const id = randomUUID();
    return {
      id,
      shadowOf: randomUUID(),
      rolloutId,
      chainId: 'invoices',
      tenantId,
      environment: 'prod',
      stage,
      createdAt: new Date('2026-01-01T00:00:00Z'),
    };
  };
  const result = (p: ReturnType<typeof place>, output: unknown, error: ShadowResult['error'] = null): ShadowResult => ({
    ...p,
    version: 'v2',
    finishedAt: new Date('2026-01-01T00:00:01Z'),
    output: error ? null : output,
    outputHashes: null,
    error,
    latencyMs: 12.5,
    promptTokens: 100,
    completionTokens: 10,
  });
  const feedback = (p: ReturnType<typeof place>, final: Record<string, unknown>): ShadowExpectation => {
    const fields = Object.keys(final).filter((k) => JSON.stringify(final[k]) !== JSON.stringify((control as Record<string, unknown>)[k]));
    return {
      ...p,
      expected: buildExpectation({ output: control }, { final }, (output) => ({ output })),
      feedbackAt: new Date('2026-01-01T01:00:00Z'),
      controlOverridden: fields.length > 0,
      controlFields: fields.sort(),
    };
  };

  it('scores a pair whichever half comes second, in one batch or two', async () => {
    const a = place();
    const b = place();
    const c = place('globex', 1);
    // a: result first, then feedback. b: feedback first. c: both in one batch.
    await store.writeBatch(
      { results: [result(a, { total: 43, vendor: 'ACME' })], expectations: [feedback(b, { total: 42 })], skips: [] },
      score,
    );
    let agg = await store.aggregates(rolloutId);
    expect(agg.cells).toEqual([]);
    await store.writeBatch(
      { results: [result(b, { total: 41, vendor: 'ACME' })], expectations: [feedback(a, { total: 43 })], skips: [] },
      score,
    );
    await store.writeBatch(
      { results: [result(c, { total: 42, vendor: 'Acme' })], expectations: [feedback(c, { total: 42, vendor: 'ACME Inc' })], skips: [] },
      score,
    );
    agg = await store.aggregates(rolloutId);
    const cells = agg.cells.map((x) => [x.tenantId, x.stage, x.controlOverridden, x.candidateOverridden, x.pairs]).sort();
    // a: control overridden (43 ≠ 42), candidate right. b: control right, candidate wrong. c: both wrong (vendor).
    expect(cells).toEqual([
      ['acme', 0, false, true, 1],
      ['acme', 0, true, false, 1],
      ['globex', 1, true, true, 1],
    ]);
    const fields = Object.fromEntries(agg.fields.map((f) => [f.field, [f.onlyControl, f.onlyCandidate, f.both]]));
    expect(fields).toEqual({ total: [1, 1, 0], vendor: [0, 0, 1] });
    expect(agg).toMatchObject({ shadowRuns: 3, candidateErrors: 0, promptTokens: 300, completionTokens: 30 });
  });

  it('re-scores when feedback is sent again (last wins) and keeps errored shadow runs out of the pairs', async () => {
    const d = place('initech');
    await store.writeBatch(
      { results: [result(d, { total: 50, vendor: 'ACME' })], expectations: [feedback(d, { total: 42 })], skips: [] },
      score,
    );
    await store.writeBatch({ results: [], expectations: [feedback(d, { total: 50 })], skips: [] }, score);
    let agg = await store.aggregates(rolloutId);
    expect(agg.cells.filter((x) => x.tenantId === 'initech')).toEqual([
      { tenantId: 'initech', stage: 0, controlOverridden: true, candidateOverridden: false, pairs: 1 },
    ]);
    const e = place('initech');
    await store.writeBatch(
      { results: [result(e, null, { code: 'upstream_timeout', message: 'slow' })], expectations: [feedback(e, { total: 1 })], skips: [] },
      score,
    );
    agg = await store.aggregates(rolloutId);
    expect(agg.cells.filter((x) => x.tenantId === 'initech').reduce((n, x) => n + x.pairs, 0)).toBe(1);
    expect(agg).toMatchObject({ shadowRuns: 5, candidateErrors: 1 });
  });

  it('two writers landing the two halves at once still score the pair', async () => {
    // Each pair's two halves sent side by side, so that they race on the same row: with a unique
    // index on shadow_of besides the id, this failed with a duplicate key in about half of the runs.
    const pairs = Array.from({ length: 200 }, () => place('umbrella'));
    const other = new ShadowStore(database.db);
    await Promise.all(
      pairs.flatMap((p) => [
        store.writeBatch({ results: [result(p, { total: 1, vendor: 'ACME' })], expectations: [], skips: [] }, score),
        other.writeBatch({ results: [], expectations: [feedback(p, { total: 42 })], skips: [] }, score),
      ]),
    );
    const agg = await store.aggregates(rolloutId);
    const umbrella = agg.cells.filter((x) => x.tenantId === 'umbrella');
    expect(umbrella).toEqual([{ tenantId: 'umbrella', stage: 0, controlOverridden: false, candidateOverridden: true, pairs: 200 }]);
  });

  it('sums skip counts across batches and writers, and erases a tenant', async () => {
    await store.writeBatch(
      {
        results: [],
        expectations: [],
        skips: [
          { rolloutId, reason: 'budget', skipped: 3 },
          { rolloutId, reason: 'budget', skipped: 2 },
        ],
      },
      score,
    );
    await store.writeBatch(
      {
        results: [],
        expectations: [],
        skips: [
          { rolloutId, reason: 'concurrency', skipped: 1 },
          { rolloutId, reason: 'budget', skipped: 1 },
        ],
      },
      score,
    );
    expect((await store.aggregates(rolloutId)).skipped).toEqual({ budget: 6, concurrency: 1 });
    await store.eraseTenant('umbrella');
    const agg = await store.aggregates(rolloutId);
    expect(agg.cells.some((x) => x.tenantId === 'umbrella')).toBe(false);
    expect(agg.shadowRuns).toBe(5);
  });

  it('stores what PostgreSQL would refuse (U+0000 in an output) as U+FFFD', async () => {
    const f = place('hooli');
    await store.writeBatch(
      { results: [result(f, { total: 42, vendor: 'AC\u0000ME' })], expectations: [feedback(f, { vendor: 'ACME' })], skips: [] },
      score,
    );
    const agg = await store.aggregates(rolloutId);
    expect(agg.cells.filter((x) => x.tenantId === 'hooli')).toEqual([
      { tenantId: 'hooli', stage: 0, controlOverridden: false, candidateOverridden: true, pairs: 1 },
    ]);
  });
});

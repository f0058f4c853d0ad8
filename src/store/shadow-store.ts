/**
 * Shadow runs in the database (src/domain/ports/shadow-repository.ts). One row per shadow run,
 * keyed by its id, filled from two sides: the shadow call's result and the feedback on its control
 * run. Each side is an upsert that sets only its own columns; the batch then scores, in the same
 * transaction, every pair it touched that has both halves. Two replicas writing the two halves of
 * one pair at once serialise on the row (the upsert locks it), so the second always sees the first
 * and scores the pair: "whichever is second" holds across replicas.
 */
import { sql } from 'drizzle-orm';
import type { Db, Schema } from './db.js';
import { jsonArray, recordsetInsert } from './json-recordset.js';
import { rowsOf } from './read-models/rows.js';
import { shadowRuns, shadowSkips } from './schema.js';
import { storableJson } from './storable-json.js';
import type { OverrideDiff } from '../domain/overrides/diff-overrides.js';
import type { Expectation } from '../domain/shadow/expectation.js';
import type { PairedCounts } from '../domain/shadow/paired-interval.js';
import type { ShadowAggregates } from '../domain/shadow/shadow-report.js';
import type { ShadowBatch, ShadowPairToScore, ShadowRepository, ShadowSkipCount } from '../domain/ports/shadow-repository.js';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';

type Executor = Pick<PgDatabase<PgQueryResultHKT, Schema>, 'execute'>;

const insertShadow = recordsetInsert(shadowRuns);
const insertSkips = recordsetInsert(shadowSkips);

const RESULT_UPSERT =
  'ON CONFLICT (id) DO UPDATE SET rollout_id = excluded.rollout_id, version = excluded.version, finished_at = excluded.finished_at, output = excluded.output, ' +
  'output_hashes = excluded.output_hashes, error = excluded.error, latency_ms = excluded.latency_ms, ' +
  'prompt_tokens = excluded.prompt_tokens, completion_tokens = excluded.completion_tokens';
const EXPECTATION_UPSERT =
  'ON CONFLICT (id) DO UPDATE SET expected = excluded.expected, feedback_at = excluded.feedback_at, ' +
  'control_overridden = excluded.control_overridden, control_fields = excluded.control_fields';
const SKIPS_UPSERT = 'ON CONFLICT (rollout_id, reason) DO UPDATE SET skipped = shadow_skips.skipped + excluded.skipped';

/** An upstream's output may carry characters PostgreSQL refuses; they become U+FFFD (storable-json.ts). */
const noop = (): void => {};

interface PairRow {
  id: string;
  rollout_id: string | null;
  output: unknown;
  output_hashes: Record<string, string> | null;
  expected: Expectation;
}

export class ShadowStore implements ShadowRepository {
  constructor(private readonly db: Db) {}

  async writeBatch(batch: ShadowBatch, score: (pair: ShadowPairToScore) => OverrideDiff): Promise<{ scoredRollouts: string[] }> {
    // One row can be changed once per statement: the last record per id wins. Sorted by id, so
    // replicas writing overlapping batches lock rows in the same order (a deadlock is still
    // possible between the two upserts of a batch; PostgreSQL breaks it and the writer retries).
    const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    const results = [...new Map(batch.results.map((r) => [r.id, r])).values()].sort(byId);
    const expectations = [...new Map(batch.expectations.map((e) => [e.id, e])).values()].sort(byId);
    const skips = new Map<string, ShadowSkipCount>();
    for (const s of batch.skips) {
      const key = `${s.rolloutId}\u0000${s.reason}`;
      skips.set(key, { ...s, skipped: (skips.get(key)?.skipped ?? 0) + s.skipped });
    }
    return this.db.transaction(async (tx) => {
      if (results.length > 0) await tx.execute(insertShadow(jsonArray(results.map((r) => storableJson(r, noop))), RESULT_UPSERT));
      if (expectations.length > 0)
        await tx.execute(insertShadow(jsonArray(expectations.map((e) => storableJson(e, noop))), EXPECTATION_UPSERT));
      if (skips.size > 0) await tx.execute(insertSkips(JSON.stringify([...skips.values()]), SKIPS_UPSERT));
      const touched = [...new Set([...results.map((r) => r.id), ...expectations.map((e) => e.id)])];
      return { scoredRollouts: touched.length > 0 ? await this.scorePairs(tx, touched, score) : [] };
    });
  }

  /** Scores the touched rows that now have both halves (and no error); the rollouts they belong to. */
  private async scorePairs(tx: Executor, ids: string[], score: (pair: ShadowPairToScore) => OverrideDiff): Promise<string[]> {
    const rows = rowsOf<PairRow>(
      await tx.execute(sql`
        SELECT id, rollout_id, output, output_hashes, expected FROM shadow_runs
        WHERE id = ANY(${sql.param(ids)}::uuid[]) AND finished_at IS NOT NULL AND error IS NULL AND expected IS NOT NULL
        FOR UPDATE`),
    );
    if (rows.length === 0) return [];
    const scored = rows.map((r) => {
      const diff = score({ id: r.id, output: r.output, outputHashes: r.output_hashes, expected: r.expected });
      return { id: r.id, overridden: diff.overridden, fields: diff.fields };
    });
    await tx.execute(sql`
      UPDATE shadow_runs s SET candidate_overridden = x.overridden, candidate_fields = x.fields, scored_at = now()
      FROM json_to_recordset(${JSON.stringify(scored)}::json) AS x(id uuid, overridden boolean, fields jsonb)
      WHERE s.id = x.id`);
    return [...new Set(rows.map((r) => r.rollout_id).filter((id): id is string => id !== null))];
  }

  async aggregates(rolloutId: string): Promise<ShadowAggregates> {
    const [cells, fields, totals, skips] = await Promise.all([
      this.db.execute(sql`
        SELECT tenant_id, stage, control_overridden, candidate_overridden, count(*)::float8 AS pairs
        FROM shadow_runs WHERE rollout_id = ${rolloutId} AND scored_at IS NOT NULL AND error IS NULL
        GROUP BY tenant_id, stage, control_overridden, candidate_overridden`),
      this.db.execute(sql`
        SELECT u.field,
          count(*) FILTER (WHERE p.control_fields ? u.field AND NOT p.candidate_fields ? u.field)::float8 AS only_control,
          count(*) FILTER (WHERE p.candidate_fields ? u.field AND NOT p.control_fields ? u.field)::float8 AS only_candidate,
          count(*) FILTER (WHERE p.control_fields ? u.field AND p.candidate_fields ? u.field)::float8 AS both
        FROM (SELECT control_fields, candidate_fields FROM shadow_runs
              WHERE rollout_id = ${rolloutId} AND scored_at IS NOT NULL AND error IS NULL) p,
          LATERAL (SELECT jsonb_array_elements_text(p.control_fields) UNION SELECT jsonb_array_elements_text(p.candidate_fields)) AS u(field)
        GROUP BY u.field`),
      this.db.execute(sql`
        SELECT count(*) FILTER (WHERE finished_at IS NOT NULL)::float8 AS shadow_runs,
          count(*) FILTER (WHERE error IS NOT NULL)::float8 AS errors,
          coalesce(sum(prompt_tokens), 0)::float8 AS prompt_tokens,
          coalesce(sum(completion_tokens), 0)::float8 AS completion_tokens
        FROM shadow_runs WHERE rollout_id = ${rolloutId}`),
      this.db.execute(sql`SELECT reason, skipped::float8 AS skipped FROM shadow_skips WHERE rollout_id = ${rolloutId}`),
    ]);
    const t = rowsOf<{ shadow_runs: number; errors: number; prompt_tokens: number; completion_tokens: number }>(totals)[0];
    const skipped = { budget: 0, concurrency: 0 };
    for (const s of rowsOf<{ reason: string; skipped: number }>(skips))
      if (s.reason === 'budget' || s.reason === 'concurrency') skipped[s.reason] = Number(s.skipped);
    return {
      cells: rowsOf<{ tenant_id: string; stage: number | null; control_overridden: boolean; candidate_overridden: boolean; pairs: number }>(
        cells,
      ).map((c) => ({
        tenantId: c.tenant_id,
        stage: c.stage,
        controlOverridden: c.control_overridden,
        candidateOverridden: c.candidate_overridden,
        pairs: Number(c.pairs),
      })),
      fields: rowsOf<{ field: string; only_control: number; only_candidate: number; both: number }>(fields).map((f) => ({
        field: f.field,
        onlyControl: Number(f.only_control),
        onlyCandidate: Number(f.only_candidate),
        both: Number(f.both),
      })),
      shadowRuns: Number(t?.shadow_runs ?? 0),
      candidateErrors: Number(t?.errors ?? 0),
      promptTokens: Number(t?.prompt_tokens ?? 0),
      completionTokens: Number(t?.completion_tokens ?? 0),
      skipped,
    };
  }

  async pairedCounts(rolloutId: string, opts: { servedSince?: Date } = {}): Promise<PairedCounts> {
    // A stage's pairs: control runs served in a stage (not stage-free, while gated) since it started.
    const since = opts.servedSince === undefined ? sql.empty() : sql` AND stage IS NOT NULL AND created_at >= ${opts.servedSince}`;
    const rows = rowsOf<{ control_overridden: boolean; candidate_overridden: boolean; pairs: number }>(
      await this.db.execute(sql`
        SELECT control_overridden, candidate_overridden, count(*)::float8 AS pairs
        FROM shadow_runs WHERE rollout_id = ${rolloutId} AND scored_at IS NOT NULL AND error IS NULL${since}
        GROUP BY control_overridden, candidate_overridden`),
    );
    const t: PairedCounts = { bothOk: 0, onlyControlOverridden: 0, onlyCandidateOverridden: 0, bothOverridden: 0 };
    for (const r of rows) {
      const n = Number(r.pairs);
      if (r.control_overridden && r.candidate_overridden) t.bothOverridden += n;
      else if (r.control_overridden) t.onlyControlOverridden += n;
      else if (r.candidate_overridden) t.onlyCandidateOverridden += n;
      else t.bothOk += n;
    }
    return t;
  }

  /** GDPR erasure: a tenant's shadow runs (call inside the erasure's transaction when there is one). */
  async eraseTenant(tenantId: string, tx: Executor = this.db): Promise<void> {
    await tx.execute(sql`DELETE FROM shadow_runs WHERE tenant_id = ${tenantId}`);
  }

  /** Retention: shadow runs of control runs created before `before`. */
  async deleteOlderThan(before: Date, tx: Executor = this.db): Promise<void> {
    await tx.execute(sql`DELETE FROM shadow_runs WHERE created_at < ${before}`);
  }
}

/**
 * Replays, their leases and their results in the database (the ReplayRepository port).
 *
 * Exactly-once scoring rests on two things here: each result is one INSERT keyed by
 * (replay, case, repeat) with ON CONFLICT DO NOTHING, committed as the case finishes; and the work
 * left is always read as "cases × repeats without a result", so a runner that starts again after
 * a crash (or another replica, once the dead runner's lease expired) picks up exactly the rest.
 */
import { and, asc, desc, eq, inArray, isNull, lt, or, sql, type SQL } from 'drizzle-orm';
import type { NewReplay, Replay, ReplayCaseResult, ReplayResult, ReplayStatus, ScoredResult } from '../domain/model/replay.js';
import { OPEN_REPLAY_STATUSES } from '../domain/model/replay.js';
import type { CreateReplayOutcome, ReplayRepository, ReplayWorkItem, ResultCursor } from '../domain/ports/replay-repository.js';
import { caseRowToDomain } from './dataset-store.js';
import { duplicateAs, isForeignKeyViolation } from './db-errors.js';
import type { Db } from './db.js';
import { rowsOf } from './read-models/rows.js';
import { datasetCases, datasets, replayCases, replays, type DatasetCaseRow, type ReplayRow } from './schema.js';
import { hasUnstorableEscapes, toStorable } from './storable-json.js';

const OPEN = [...OPEN_REPLAY_STATUSES] as string[];

export class ReplayStore implements ReplayRepository {
  constructor(private readonly db: Db) {}

  async create(r: NewReplay): Promise<CreateReplayOutcome> {
    // A gate's replay of a version exists once (replays_gate_idx): a second is a DuplicateError.
    return this.db
      .transaction(async (tx) => {
        // The same lock uploads take: after this commits, the dataset takes no more cases.
        const [dataset] = await tx.select({ cases: datasets.cases }).from(datasets).where(eq(datasets.id, r.datasetId)).for('update');
        if (!dataset) return { refused: 'dataset_not_found' } as const;
        if (dataset.cases === 0) return { refused: 'dataset_empty' } as const;
        const [row] = await tx
          .insert(replays)
          .values({ ...r, chainId: r.chain, status: 'queued', total: dataset.cases * r.repeats })
          .returning();
        return { ok: toReplay(row!) };
      })
      .catch((err: unknown) => {
        throw duplicateAs('A replay of this version for this rollout', err);
      });
  }

  async get(id: string): Promise<Replay | undefined> {
    const [row] = await this.db.select().from(replays).where(eq(replays.id, id));
    return row ? toReplay(row) : undefined;
  }

  async list(filter: { datasetId?: string; rolloutId?: string }): Promise<Replay[]> {
    const conds: SQL[] = [];
    if (filter.datasetId !== undefined) conds.push(eq(replays.datasetId, filter.datasetId));
    if (filter.rolloutId !== undefined) conds.push(eq(replays.rolloutId, filter.rolloutId));
    const rows = await this.db
      .select()
      .from(replays)
      .where(conds.length ? and(...conds) : undefined)
      .orderBy(desc(replays.createdAt), desc(replays.id));
    return rows.map(toReplay);
  }

  async progress(id: string): Promise<number> {
    const [row] = await this.db
      .select({ n: sql<number>`count(*)::int` })
      .from(replayCases)
      .where(eq(replayCases.replayId, id));
    return Number(row?.n ?? 0);
  }

  async claimable(now: Date): Promise<string[]> {
    const rows = await this.db
      .select({ id: replays.id })
      .from(replays)
      .where(and(inArray(replays.status, OPEN), or(isNull(replays.leaseUntil), lt(replays.leaseUntil, now))))
      .orderBy(asc(replays.createdAt));
    return rows.map((r) => r.id);
  }

  async claim(id: string, runner: string, now: Date, leaseUntil: Date): Promise<Replay | undefined> {
    const [row] = await this.db
      .update(replays)
      .set({ status: 'running', runner, leaseUntil, startedAt: sql`COALESCE(${replays.startedAt}, ${now})` })
      .where(
        and(
          eq(replays.id, id),
          inArray(replays.status, OPEN),
          or(eq(replays.runner, runner), isNull(replays.leaseUntil), lt(replays.leaseUntil, now)),
        ),
      )
      .returning();
    return row ? toReplay(row) : undefined;
  }

  async release(id: string, runner: string): Promise<void> {
    await this.db
      .update(replays)
      .set({ runner: null, leaseUntil: null })
      .where(and(eq(replays.id, id), eq(replays.runner, runner)));
  }

  async pendingWork(
    replay: Pick<Replay, 'id' | 'datasetId' | 'repeats'>,
    after: ResultCursor | undefined,
    limit: number,
  ): Promise<ReplayWorkItem[]> {
    const from = after ?? { seq: -1, repeat: replay.repeats };
    const rows = rowsOf<DatasetCaseRow & { rep: number }>(
      await this.db.execute(sql`
        SELECT c.id, c.dataset_id AS "datasetId", c.seq, c.input, c.expected, c.tracked_fields AS "trackedFields",
               c.source_run_id AS "sourceRunId", c.tenant_id AS "tenantId", c.environment, c.input_redacted AS "inputRedacted", rep.n AS rep
        FROM dataset_cases c CROSS JOIN generate_series(0, ${replay.repeats - 1}) AS rep(n)
        WHERE c.dataset_id = ${replay.datasetId}
          AND (c.seq, rep.n) > (${from.seq}, ${from.repeat})
          AND NOT EXISTS (SELECT 1 FROM replay_cases rc WHERE rc.replay_id = ${replay.id} AND rc.case_id = c.id AND rc.repeat = rep.n)
        ORDER BY c.seq, rep.n
        LIMIT ${limit}`),
    );
    return rows.map((r) => ({ case: caseRowToDomain(r), repeat: Number(r.rep) }));
  }

  async recordResult(r: ReplayCaseResult): Promise<boolean> {
    try {
      return await this.insertResult(r);
    } catch (err) {
      // Its case or its replay is gone: erased with a tenant's runs (DELETE /v1/tenants/{id}/runs), or the
      // replay was cancelled and its dataset deleted while this call was in flight. Nothing is
      // left to record it against, and nothing to resume.
      if (isForeignKeyViolation(err)) return false;
      throw err;
    }
  }

  private async insertResult(r: ReplayCaseResult): Promise<boolean> {
    const rows = await this.db
      .insert(replayCases)
      .values({
        replayId: r.replayId,
        caseId: r.caseId,
        repeat: r.repeat,
        seq: r.seq,
        // An upstream's output may carry what jsonb refuses (U+0000, lone surrogates): U+FFFD then.
        output: r.output === undefined ? null : storable(r.output),
        error: r.error ? storable(r.error) : null,
        overridden: r.overridden,
        fields: r.fields,
        latencyMs: r.latencyMs,
        promptTokens: r.promptTokens ?? null,
        completionTokens: r.completionTokens ?? null,
        at: r.at,
      })
      .onConflictDoNothing()
      .returning({ id: replayCases.replayId });
    return rows.length > 0;
  }

  async scored(id: string): Promise<ScoredResult[]> {
    const rows = await this.db
      .select({
        caseId: replayCases.caseId,
        repeat: replayCases.repeat,
        overridden: replayCases.overridden,
        fields: replayCases.fields,
        latencyMs: replayCases.latencyMs,
        promptTokens: replayCases.promptTokens,
        completionTokens: replayCases.completionTokens,
        errored: sql<boolean>`${replayCases.error} IS NOT NULL`,
      })
      .from(replayCases)
      .where(eq(replayCases.replayId, id))
      .orderBy(asc(replayCases.seq), asc(replayCases.repeat));
    return rows.map((r) => ({
      caseId: r.caseId,
      repeat: r.repeat,
      overridden: r.overridden,
      fields: r.fields,
      latencyMs: r.latencyMs,
      errored: r.errored,
      ...(r.promptTokens === null ? {} : { promptTokens: r.promptTokens }),
      ...(r.completionTokens === null ? {} : { completionTokens: r.completionTokens }),
    }));
  }

  async listResults(
    id: string,
    opts: { overridden?: boolean; after?: ResultCursor; limit: number },
  ): Promise<(ReplayCaseResult & { input: unknown; expected: unknown })[]> {
    const conds: SQL[] = [eq(replayCases.replayId, id)];
    if (opts.overridden !== undefined) conds.push(eq(replayCases.overridden, opts.overridden));
    if (opts.after) conds.push(sql`(${replayCases.seq}, ${replayCases.repeat}) > (${opts.after.seq}, ${opts.after.repeat})`);
    const rows = await this.db
      .select({ r: replayCases, input: datasetCases.input, expected: datasetCases.expected })
      .from(replayCases)
      .innerJoin(datasetCases, eq(datasetCases.id, replayCases.caseId))
      .where(and(...conds))
      .orderBy(asc(replayCases.seq), asc(replayCases.repeat))
      .limit(opts.limit);
    return rows.map(({ r, input, expected }) => ({
      replayId: r.replayId,
      caseId: r.caseId,
      seq: r.seq,
      repeat: r.repeat,
      ...(r.error === null ? { output: r.output } : { error: r.error as { code: string; message: string } }),
      overridden: r.overridden,
      fields: r.fields,
      latencyMs: r.latencyMs,
      ...(r.promptTokens === null ? {} : { promptTokens: r.promptTokens }),
      ...(r.completionTokens === null ? {} : { completionTokens: r.completionTokens }),
      at: r.at,
      input,
      expected,
    }));
  }

  async finish(
    id: string,
    runner: string | null,
    status: Exclude<ReplayStatus, 'queued' | 'running'>,
    now: Date,
    result?: ReplayResult,
    error?: string,
  ): Promise<Replay | undefined> {
    const conds = [eq(replays.id, id), inArray(replays.status, OPEN)];
    if (runner !== null) conds.push(eq(replays.runner, runner));
    const [row] = await this.db
      .update(replays)
      .set({ status, finishedAt: now, runner: null, leaseUntil: null, result: result ?? null, error: error ?? null })
      .where(and(...conds))
      .returning();
    return row ? toReplay(row) : undefined;
  }
}

function storable<T>(value: T): T {
  return hasUnstorableEscapes(JSON.stringify(value) ?? 'null') ? toStorable(value) : value;
}

function toReplay(row: ReplayRow): Replay {
  return {
    id: row.id,
    datasetId: row.datasetId,
    chain: row.chainId,
    version: row.version,
    concurrency: row.concurrency,
    repeats: row.repeats,
    status: row.status as ReplayStatus,
    total: row.total,
    rolloutId: row.rolloutId,
    error: row.error,
    result: (row.result as ReplayResult | null) ?? null,
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
  };
}

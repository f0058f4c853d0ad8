/**
 * Datasets and their cases in the database (the DatasetRepository port), and the query that picks
 * reviewed runs for a new dataset. A dataset row is locked (SELECT ... FOR UPDATE) by uploads, by
 * replay creation and by deletion alike, so no case is added once a replay has read the dataset,
 * and no dataset is deleted under a replay that is running.
 */
import { randomUUID } from 'node:crypto';
import { and, asc, desc, eq, gt, inArray, sql, type SQL } from 'drizzle-orm';
import type { CaseSource, Dataset, DatasetCase, DatasetFilter, NewDatasetCase, ReviewedRun } from '../domain/model/dataset.js';
import { OPEN_REPLAY_STATUSES } from '../domain/model/replay.js';
import type { AppendOutcome, DatasetRepository, DeleteOutcome, NewDataset } from '../domain/ports/dataset-repository.js';
import type { Db } from './db.js';
import { rowsOf } from './read-models/rows.js';
import { datasetCases, datasets, replays, type DatasetCaseRow, type DatasetRow } from './schema.js';
import type { Tx } from './run-store.js';

/** Rows per INSERT: 9 parameters a row stays far below PostgreSQL's 65,535. */
const INSERT_CHUNK = 500;

interface ReviewedRunRow {
  id: string;
  tenant_id: string;
  environment: string;
  input: unknown;
  output: unknown;
  output_hashes: Record<string, string> | null;
  fields: string[];
  corrections: Record<string, unknown> | null;
  tracked: string[] | null;
}

export class DatasetStore implements DatasetRepository {
  constructor(private readonly db: Db) {}

  async reviewedRuns(chain: string, f: DatasetFilter): Promise<ReviewedRun[]> {
    const conds: SQL[] = [sql`r.chain_id = ${chain}`, sql`(r.error IS NULL OR r.fallback)`];
    if (f.environments) conds.push(sql`r.environment = ANY(${sql.param(f.environments)}::text[])`);
    if (f.tenants) conds.push(sql`r.tenant_id = ANY(${sql.param(f.tenants)}::text[])`);
    if (f.from) conds.push(sql`r.created_at >= ${f.from}`);
    if (f.to) conds.push(sql`r.created_at < ${f.to}`);
    if (f.overriddenOnly) conds.push(sql`f.overridden`);
    // Random sampling is an order by a keyed hash of the run id: the same seed picks the same runs,
    // on PostgreSQL and PGlite alike, and needs no state.
    const order = f.sample === 'random' ? sql`md5(${String(f.seed ?? 0)} || ':' || r.id::text), r.id` : sql`r.created_at DESC, r.id DESC`;
    const columns = sql`r.id, r.tenant_id, r.environment, r.input, r.output, r.output_hashes, f.fields, f.corrections, f.tracked`;
    const where = sql.join(conds, sql` AND `);
    const query =
      f.perTenant === undefined
        ? sql`SELECT ${columns} FROM runs r JOIN feedback f ON f.run_id = r.id WHERE ${where} ORDER BY ${order} LIMIT ${f.limit}`
        : // At most perTenant per tenant, taken round-robin: every tenant's first pick, then every second...
          sql`SELECT * FROM (
                SELECT ${columns}, row_number() OVER (PARTITION BY r.tenant_id ORDER BY ${order}) AS rn, row_number() OVER (ORDER BY ${order}) AS ord
                FROM runs r JOIN feedback f ON f.run_id = r.id WHERE ${where}) picked
              WHERE rn <= ${f.perTenant} ORDER BY rn, ord LIMIT ${f.limit}`;
    const rows = rowsOf<ReviewedRunRow>(await this.db.execute(query));
    return rows.map((r) => ({
      runId: r.id,
      tenant: r.tenant_id,
      environment: r.environment,
      input: r.input,
      output: r.output,
      redactedFields: r.output_hashes ? Object.keys(r.output_hashes) : [],
      fields: r.fields,
      corrections: r.corrections,
      tracked: r.tracked,
    }));
  }

  async create(d: NewDataset, cases: readonly NewDatasetCase[], fields: readonly string[]): Promise<Dataset> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(datasets)
        .values({
          id: d.id,
          name: d.name,
          chainId: d.chain,
          filter: d.filter ? filterToJson(d.filter) : null,
          cases: cases.length,
          redactedInputs: cases.filter((c) => c.inputRedacted).length,
          fields: [...fields].sort(),
          createdAt: d.createdAt,
        })
        .returning();
      await insertCases(tx, d.id, 0, cases);
      return toDataset(row!);
    });
  }

  async appendCases(id: string, cases: readonly NewDatasetCase[], maxCases: number, fields: readonly string[]): Promise<AppendOutcome> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.select().from(datasets).where(eq(datasets.id, id)).for('update');
      if (!row) return { refused: 'not_found' } as const;
      const [replay] = await tx.select({ id: replays.id }).from(replays).where(eq(replays.datasetId, id)).limit(1);
      if (replay) return { refused: 'has_replays' } as const;
      if (row.cases + cases.length > maxCases) return { refused: 'too_many_cases' } as const;
      await insertCases(tx, id, row.cases, cases);
      const [updated] = await tx
        .update(datasets)
        .set({
          cases: row.cases + cases.length,
          redactedInputs: row.redactedInputs + cases.filter((c) => c.inputRedacted).length,
          fields: [...new Set([...row.fields, ...fields])].sort(),
        })
        .where(eq(datasets.id, id))
        .returning();
      return { ok: toDataset(updated!) };
    });
  }

  async get(id: string): Promise<Dataset | undefined> {
    const [row] = await this.db.select().from(datasets).where(eq(datasets.id, id));
    return row ? toDataset(row) : undefined;
  }

  async list(chain?: string): Promise<Dataset[]> {
    const rows = await this.db
      .select()
      .from(datasets)
      .where(chain === undefined ? undefined : eq(datasets.chainId, chain))
      .orderBy(desc(datasets.createdAt), desc(datasets.id));
    return rows.map(toDataset);
  }

  async listCases(id: string, afterSeq: number, limit: number): Promise<DatasetCase[]> {
    const rows = await this.db
      .select()
      .from(datasetCases)
      .where(and(eq(datasetCases.datasetId, id), gt(datasetCases.seq, afterSeq)))
      .orderBy(asc(datasetCases.seq))
      .limit(limit);
    return rows.map(toCase);
  }

  async delete(id: string): Promise<DeleteOutcome> {
    return this.db.transaction(async (tx) => {
      // The lock replay creation takes: no replay of it starts between the check and the delete.
      const [row] = await tx.select({ id: datasets.id }).from(datasets).where(eq(datasets.id, id)).for('update');
      if (!row) return { refused: 'not_found' } as const;
      // A running replay's results would lose their rows under it (README "Datasets, replays and the gate").
      const [open] = await tx
        .select({ id: replays.id })
        .from(replays)
        .where(and(eq(replays.datasetId, id), inArray(replays.status, [...OPEN_REPLAY_STATUSES])))
        .orderBy(asc(replays.createdAt))
        .limit(1);
      if (open) return { refused: 'replaying', replayId: open.id } as const;
      await tx.delete(datasets).where(eq(datasets.id, id));
      return { ok: true } as const;
    });
  }

  async eraseTenant(tenantId: string): Promise<number> {
    return this.db.transaction(async (tx) => {
      const gone = await tx
        .delete(datasetCases)
        .where(eq(datasetCases.tenantId, tenantId))
        .returning({ datasetId: datasetCases.datasetId });
      const touched = [...new Set(gone.map((g) => g.datasetId))];
      if (touched.length > 0) {
        await tx.execute(sql`UPDATE datasets d SET
            cases = (SELECT count(*) FROM dataset_cases c WHERE c.dataset_id = d.id),
            redacted_inputs = (SELECT count(*) FROM dataset_cases c WHERE c.dataset_id = d.id AND c.input_redacted)
          WHERE d.id = ANY(${sql.param(touched)}::uuid[])`);
      }
      return gone.length;
    });
  }
}

export function caseRowToDomain(row: DatasetCaseRow): DatasetCase {
  return toCase(row);
}

async function insertCases(tx: Tx, datasetId: string, firstSeq: number, cases: readonly NewDatasetCase[]): Promise<void> {
  for (let i = 0; i < cases.length; i += INSERT_CHUNK) {
    await tx.insert(datasetCases).values(
      cases.slice(i, i + INSERT_CHUNK).map((c, j) => ({
        id: randomUUID(),
        datasetId,
        seq: firstSeq + i + j,
        input: c.input,
        expected: c.expected,
        trackedFields: c.trackedFields,
        sourceRunId: c.source?.runId ?? null,
        tenantId: c.source?.tenant ?? null,
        environment: c.source?.environment ?? null,
        inputRedacted: c.inputRedacted,
      })),
    );
  }
}

function toCase(row: DatasetCaseRow): DatasetCase {
  const source: CaseSource | null =
    row.sourceRunId && row.tenantId && row.environment
      ? { runId: row.sourceRunId, tenant: row.tenantId, environment: row.environment }
      : null;
  return { id: row.id, seq: row.seq, input: row.input, expected: row.expected, trackedFields: row.trackedFields ?? null, source };
}

function filterToJson(f: DatasetFilter): Record<string, unknown> {
  return { ...f, ...(f.from ? { from: f.from.toISOString() } : {}), ...(f.to ? { to: f.to.toISOString() } : {}) };
}

function toDataset(row: DatasetRow): Dataset {
  const raw = row.filter as (Omit<DatasetFilter, 'from' | 'to'> & { from?: string; to?: string }) | null;
  const filter: DatasetFilter | null = raw
    ? ({ ...raw, ...(raw.from ? { from: new Date(raw.from) } : {}), ...(raw.to ? { to: new Date(raw.to) } : {}) } as DatasetFilter)
    : null;
  return {
    id: row.id,
    name: row.name,
    chain: row.chainId,
    filter,
    cases: row.cases,
    redactedInputs: row.redactedInputs,
    fields: row.fields,
    createdAt: row.createdAt,
  };
}

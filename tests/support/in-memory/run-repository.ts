/**
 * RunRepository in memory, for unit tests of the services and the writer: the port's semantics
 * (a run is stored once, feedback replaces feedback, newest-first keyset listing) without SQL.
 */
import type { Feedback, Run, RunWithFeedback } from '../../../src/domain/model/run.js';
import { runsOf } from '../runs.js';
import type { BatchPipeline, RecordBatch, RunCursor, RunFilters, RunRepository } from '../../../src/domain/ports/run-repository.js';

export class InMemoryRunRepository implements RunRepository {
  readonly runs = new Map<string, Run>();
  readonly feedback = new Map<string, Feedback>();
  /** Batches written, in order. */
  readonly batches: RecordBatch[] = [];
  /** While set, every call fails with it (a database that is away, say). */
  failure?: Error;

  async writeBatch(batch: RecordBatch, pipeline: BatchPipeline = {}): Promise<void> {
    this.check();
    pipeline.runsInserted?.();
    if (pipeline.after) await pipeline.after;
    this.batches.push(batch);
    for (const r of runsOf(batch)) if (!this.runs.has(r.id)) this.runs.set(r.id, r);
    for (const f of batch.feedback) this.feedback.set(f.runId, structuredClone(f));
  }

  async getRun(id: string): Promise<RunWithFeedback | undefined> {
    this.check();
    const run = this.runs.get(id);
    return run && { ...run, feedback: this.feedback.get(id) ?? null };
  }

  async latestByExternalId(chainId: string, externalId: string, tenantId?: string): Promise<Run | undefined> {
    this.check();
    return newestFirst([...this.runs.values()]).find(
      (r) => r.chainId === chainId && r.externalId === externalId && (tenantId === undefined || r.tenantId === tenantId),
    );
  }

  async byIdempotencyKey(tenantId: string, chainId: string, key: string): Promise<Run | undefined> {
    this.check();
    return [...this.runs.values()].find((r) => r.tenantId === tenantId && r.chainId === chainId && r.idempotencyKey === key);
  }

  async listRuns(filters: RunFilters, limit: number, cursor?: RunCursor): Promise<RunWithFeedback[]> {
    this.check();
    const f = filters;
    return newestFirst([...this.runs.values()])
      .map((r) => ({ ...r, feedback: this.feedback.get(r.id) ?? null }))
      .filter(
        (r) =>
          (f.chain === undefined || r.chainId === f.chain) &&
          (f.tenant === undefined || r.tenantId === f.tenant) &&
          (f.environment === undefined || r.environment === f.environment) &&
          (f.variant === undefined || r.variant === f.variant) &&
          (f.externalId === undefined ||
            (typeof f.externalId === 'string'
              ? r.externalId === f.externalId
              : r.externalId !== null && f.externalId.includes(r.externalId))) &&
          (f.rolloutId === undefined || r.rolloutId === f.rolloutId) &&
          (f.from === undefined || r.createdAt >= f.from) &&
          (f.to === undefined || r.createdAt < f.to) &&
          (f.overridden === undefined || r.feedback?.overridden === f.overridden) &&
          (cursor === undefined ||
            r.createdAt < cursor.createdAt ||
            (r.createdAt.getTime() === cursor.createdAt.getTime() && r.id < cursor.id)),
      )
      .slice(0, limit);
  }

  async eraseTenant(tenantId: string): Promise<number> {
    this.check();
    return this.deleteWhere((r) => r.tenantId === tenantId);
  }

  async hasTenantRunsBefore(tenantId: string, before: Date): Promise<boolean> {
    this.check();
    return [...this.runs.values()].some((r) => r.tenantId === tenantId && r.createdAt < before);
  }

  async deleteOlderThan(before: Date): Promise<number> {
    this.check();
    return this.deleteWhere((r) => r.createdAt < before);
  }

  private deleteWhere(match: (r: Run) => boolean): number {
    let n = 0;
    for (const [id, r] of this.runs) {
      if (!match(r)) continue;
      this.runs.delete(id);
      this.feedback.delete(id);
      n++;
    }
    return n;
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }
}

function newestFirst(runs: Run[]): Run[] {
  return runs.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

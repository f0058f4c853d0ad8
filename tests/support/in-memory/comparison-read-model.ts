/**
 * The comparison's read model with canned aggregates: what the rollups would hold, given by the
 * test. The service's own logic (windows, baselines, guardrail inputs) is what is under test.
 */
import { sumCounts } from '../../../src/domain/comparison/counts.js';
import type {
  Arm,
  AssignmentCount,
  Cell,
  CellFilter,
  ComparisonReadModel,
  Counts,
  DefaultBeforeQuery,
  DefaultCell,
  DefaultDuringQuery,
  SeriesGrain,
  SeriesRow,
} from '../../../src/domain/comparison/types.js';

export class CannedComparisonReadModel implements ComparisonReadModel {
  cells: Cell[] = [];
  assignments: AssignmentCount[] = [];
  pairs: { stage: number; tenantId: string; environment: string }[] = [];
  /** Default traffic on the control version, per tenant and environment (tenantId set). */
  defaults: DefaultCell[] = [];
  seriesRows: SeriesRow[] = [];
  /** Every call, to see which reads the service made. */
  readonly reads: { method: string; args: unknown[] }[] = [];

  async rolloutCells(rolloutId: string, filter: CellFilter): Promise<Cell[]> {
    this.reads.push({ method: 'rolloutCells', args: [rolloutId, filter] });
    return this.cells.filter(
      (c) =>
        (filter.tenant === undefined || c.tenantId === filter.tenant) &&
        (filter.environment === undefined || c.environment === filter.environment) &&
        (filter.stage === undefined || c.stage === filter.stage),
    );
  }

  async candidatePairs(rolloutId: string): Promise<{ stage: number; tenantId: string; environment: string }[]> {
    this.reads.push({ method: 'candidatePairs', args: [rolloutId] });
    return this.pairs;
  }

  async assignmentCounts(rolloutId: string): Promise<AssignmentCount[]> {
    this.reads.push({ method: 'assignmentCounts', args: [rolloutId] });
    return this.assignments;
  }

  /** Keys seen in both arms, per stage (none unless a test says otherwise). */
  keysInBoth: { stage: number; keys: number }[] = [];

  async keysInBothArms(rolloutId: string): Promise<{ stage: number; keys: number }[]> {
    this.reads.push({ method: 'keysInBothArms', args: [rolloutId] });
    return this.keysInBoth;
  }

  async armTotals(rolloutId: string): Promise<Map<Arm, Counts>> {
    this.reads.push({ method: 'armTotals', args: [rolloutId] });
    const totals = new Map<Arm, Counts>();
    for (const arm of ['control', 'candidate'] as const) {
      const cells = this.cells.filter((c) => c.arm === arm);
      if (cells.length > 0) totals.set(arm, sumCounts(cells));
    }
    return totals;
  }

  async defaultBefore(q: DefaultBeforeQuery): Promise<DefaultCell[]> {
    this.reads.push({ method: 'defaultBefore', args: [q] });
    return this.defaults.filter((d) => q.pairs.some((p) => p.tenantId === d.tenantId && p.environment === d.environment));
  }

  async defaultDuring(q: DefaultDuringQuery): Promise<DefaultCell[]> {
    this.reads.push({ method: 'defaultDuring', args: [q] });
    return q.environments.flatMap((environment) => {
      const rows = this.defaults.filter(
        (d) => d.environment === environment && (q.tenants === undefined || q.tenants.includes(d.tenantId!)),
      );
      return rows.length > 0 ? [{ ...sumCounts(rows), tenantId: null, environment }] : [];
    });
  }

  async series(rolloutId: string, grain: SeriesGrain | 'day', from?: Date, to?: Date): Promise<SeriesRow[]> {
    this.reads.push({ method: 'series', args: [rolloutId, grain, from, to] });
    return this.seriesRows.filter((r) => (from === undefined || r.t >= from) && (to === undefined || r.t < to));
  }

  async latestSeriesTime(rolloutId: string, grain: SeriesGrain): Promise<Date | undefined> {
    this.reads.push({ method: 'latestSeriesTime', args: [rolloutId, grain] });
    return this.seriesRows.map((r) => r.t).sort((a, b) => b.getTime() - a.getTime())[0];
  }
}

/**
 * Shapes of the comparison read path. The read model (src/store/read-models) produces `Counts`
 * per cell; the pure assembly turns them into the contract's comparison. Kept free of numerics so
 * both sides can `import type` them.
 */
import type { Counts, SeriesCounts } from '../metrics/counted-metrics.js';

export type Arm = 'control' | 'candidate';

/** Aggregated runs and feedback of one cell (or of a whole arm, once summed): the counted metrics. */
export type { Counts } from '../metrics/counted-metrics.js';

/** A rollout cell: one stage, arm, tenant and environment (summed over the window's hours). */
export interface Cell extends Counts {
  stage: number;
  arm: Arm;
  /** null for a pooled baseline cell (other tenants' traffic, summed over tenants). */
  tenantId: string | null;
  environment: string;
}

export interface CellFilter {
  /** Hour-aligned [from, to); absent: the rollout's whole life. */
  window?: { from: Date; to: Date };
  tenant?: string;
  environment?: string;
  stage?: number;
}

/** Default-variant traffic summed over some hours: of one tenant, or pooled over tenants (null). */
export interface DefaultCell extends Counts {
  tenantId: string | null;
  environment: string;
}

/** Default traffic on `version` of each (tenant, environment) pair, over that pair's own hours. */
export interface DefaultBeforeQuery {
  chainId: string;
  version: string;
  pairs: { tenantId: string; environment: string; from: Date; to: Date }[];
}

/** Default traffic on `version` per environment over [from, to): of all tenants, or of `tenants` only. */
export interface DefaultDuringQuery {
  chainId: string;
  version: string;
  environments: string[];
  from: Date;
  to: Date;
  tenants?: string[];
}

export interface AssignmentCount {
  stage: number;
  arm: Arm;
  keys: number;
}

export type SeriesGrain = 'minute' | 'hour';

/** One point of the per-arm series: the metrics it keeps (`inSeries` in the metric table). */
export interface SeriesRow extends SeriesCounts {
  t: Date;
  arm: Arm;
}

/**
 * The read model the comparison needs (implemented in src/store/read-models/comparison-queries.ts).
 * Every method is one indexed range read of a rollup table.
 */
export interface ComparisonReadModel {
  /** Cells of a rollout: from the all-time totals, or from the hourly rollups within `window`. */
  rolloutCells(rolloutId: string, filter: CellFilter): Promise<Cell[]>;
  /** Tenants the candidate arm has served, per stage and environment (all time, no filter). */
  candidatePairs(rolloutId: string): Promise<{ stage: number; tenantId: string; environment: string }[]>;
  /** Distinct assignment keys per stage and arm. */
  assignmentCounts(rolloutId: string): Promise<AssignmentCount[]>;
  /** Per stage, assignment keys recorded in both of its arms (stages with none left out; must be none: assignment is sticky). */
  keysInBothArms(rolloutId: string): Promise<{ stage: number; keys: number }[]>;
  /**
   * Per-arm totals over the rollout's life (two rows). The guardrails no longer read it: they
   * need per-stage strata (rolloutCells), never pooled totals.
   */
  armTotals(rolloutId: string): Promise<Map<Arm, Counts>>;
  /**
   * Default traffic on `version` of each (tenant, environment) pair, summed over the hours in its
   * own [from, to); pairs without traffic are left out.
   */
  defaultBefore(q: DefaultBeforeQuery): Promise<DefaultCell[]>;
  /**
   * Default traffic on `version` per environment, summed over the hours in [from, to): of all
   * tenants (tenantId null), or of the given tenants only (summed over them, tenantId null too).
   */
  defaultDuring(q: DefaultDuringQuery): Promise<DefaultCell[]>;
  /** Timeseries rows of a rollout, t in [from, to); day rows sum the hour rows of each UTC day. */
  series(rolloutId: string, grain: SeriesGrain | 'day', from?: Date, to?: Date): Promise<SeriesRow[]>;
  /** The latest bucket with data at this grain, if any. */
  latestSeriesTime(rolloutId: string, grain: SeriesGrain): Promise<Date | undefined>;
}

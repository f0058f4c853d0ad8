/**
 * A batch's deltas, summed in memory per rollup row before one upsert per table (so 2,000 runs of
 * a few tenants become a handful of row updates). Keys and grains:
 * - rollups:    (rollout, hour, stage, arm, tenant, environment)
 * - totals:     (rollout, stage, arm, tenant, environment)
 * - series:     (rollout, grain, t, arm), grain minute | hour | total (t = epoch for total)
 * - defaults:   (chain, version, tenant, environment, hour)     variant 'default' runs only
 * - defaultEnv: (chain, version, environment, hour)
 */
import type { Tx } from '../run-store.js';
import { latencyBucketIndex } from '../../domain/stats/index.js';
import type { Counts } from '../../domain/comparison/types.js';
import { upsertRollups, type Counter, type RollupTable, type UpsertRow } from './upsert-sql.js';

export const TABLES = {
  rollups: {
    name: 'rollout_rollups',
    keys: [['rollout_id', 'uuid'], ['hour', 'timestamptz'], ['stage', 'int'], ['variant', 'text'], ['tenant_id', 'text'], ['environment', 'text']],
    extras: true,
  },
  totals: {
    name: 'rollout_totals',
    keys: [['rollout_id', 'uuid'], ['stage', 'int'], ['variant', 'text'], ['tenant_id', 'text'], ['environment', 'text']],
    extras: true,
  },
  series: { name: 'rollout_series', keys: [['rollout_id', 'uuid'], ['grain', 'text'], ['t', 'timestamptz'], ['variant', 'text']], extras: false },
  defaults: {
    name: 'default_rollups',
    keys: [['chain_id', 'text'], ['version', 'text'], ['tenant_id', 'text'], ['environment', 'text'], ['hour', 'timestamptz']],
    extras: true,
  },
  defaultEnv: { name: 'default_env_rollups', keys: [['chain_id', 'text'], ['version', 'text'], ['environment', 'text'], ['hour', 'timestamptz']], extras: true },
} as const satisfies Record<string, RollupTable>;

export type TableName = keyof typeof TABLES;

/** Counters a kind of change touches: runs add run counts, feedback adds review counts. */
export const RUN_COUNTERS: readonly Counter[] = ['runs', 'errors', 'fallbacks', 'prompt_tokens', 'completion_tokens', 'token_runs', 'latency_hist'];
export const FEEDBACK_COUNTERS: readonly Counter[] = ['reviewed', 'overridden', 'field_overrides'];
export const ALL_COUNTERS: readonly Counter[] = [...RUN_COUNTERS, ...FEEDBACK_COUNTERS];

export const EPOCH_ISO = new Date(0).toISOString();
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

export const hourOf = (d: Date): string => new Date(Math.floor(d.getTime() / HOUR_MS) * HOUR_MS).toISOString();
export const minuteOf = (d: Date): string => new Date(Math.floor(d.getTime() / MINUTE_MS) * MINUTE_MS).toISOString();

/**
 * The histogram bucket of a latency as stored: `runs.latency_ms` is a float4, so the value is
 * rounded to float4 first, which keeps the bucket of a run identical whether it is computed here
 * at insert or in SQL from the stored value (erasure subtracts what was added).
 */
export const latencyBucket = (ms: number): number => {
  const stored = Math.fround(ms);
  // NaN never reaches a run, but one bad value must not fail the batch (and so the writer) forever;
  // PostgreSQL's width_bucket puts a NaN latency in bucket 0 as well.
  return Number.isNaN(stored) ? 0 : latencyBucketIndex(Math.max(0, stored));
};

/** The change a batch makes to one rollup row: the comparison's Counts, kept sparse until written. */
export type Delta = Omit<Counts, 'latencyHist' | 'fieldOverrides'> & {
  /** Bucket index → count. */
  hist: Map<number, number>;
  fields: Map<string, number>;
};

const emptyDelta = (): Delta => ({
  runs: 0,
  errors: 0,
  fallbacks: 0,
  reviewed: 0,
  overridden: 0,
  promptTokens: 0,
  completionTokens: 0,
  tokenRuns: 0,
  hist: new Map(),
  fields: new Map(),
});

export class BatchDeltas {
  private readonly maps = new Map<TableName, Map<string, { key: (string | number)[]; delta: Delta }>>();

  /** The delta of one row, created empty on first use. */
  at(table: TableName, key: (string | number)[]): Delta {
    let m = this.maps.get(table);
    if (!m) this.maps.set(table, (m = new Map()));
    const k = key.join('\u0000');
    let e = m.get(k);
    if (!e) m.set(k, (e = { key, delta: emptyDelta() }));
    return e.delta;
  }

  /** Applies `fn` to the row of each table at its key (a run or feedback lands in several tables). */
  each(targets: [TableName, (string | number)[]][], fn: (d: Delta) => void): void {
    for (const [table, key] of targets) fn(this.at(table, key));
  }

  /** One upsert per table that has rows, tables in a fixed order (lock order across writers). */
  async write(tx: Tx, counters: readonly Counter[]): Promise<void> {
    for (const name of Object.keys(TABLES) as TableName[]) {
      const m = this.maps.get(name);
      if (!m || m.size === 0) continue;
      const rows: UpsertRow[] = [];
      for (const { key, delta } of m.values()) rows.push({ key, values: toValues(delta) });
      const statement = upsertRollups(TABLES[name], counters, rows);
      if (statement) await tx.execute(statement);
    }
  }
}

function toValues(d: Delta): UpsertRow['values'] {
  return {
    runs: d.runs,
    errors: d.errors,
    fallbacks: d.fallbacks,
    reviewed: d.reviewed,
    overridden: d.overridden,
    prompt_tokens: d.promptTokens,
    completion_tokens: d.completionTokens,
    token_runs: d.tokenRuns,
    latency_hist: d.hist,
    field_overrides: Object.fromEntries([...d.fields].filter(([, n]) => n !== 0)),
  };
}

export function addBucket(d: Delta, bucket: number, n = 1): void {
  d.hist.set(bucket, (d.hist.get(bucket) ?? 0) + n);
}

export function addFields(d: Delta, fields: Iterable<string>, sign: 1 | -1): void {
  for (const f of new Set(fields)) d.fields.set(f, (d.fields.get(f) ?? 0) + sign);
}

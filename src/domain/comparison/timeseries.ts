/**
 * The timeseries of a rollout's arms (pure): minute and hour points straight from the per-arm
 * series rollup, day points as sums of its hours (UTC days). Runs and feedback count in the bucket
 * of the run's creation, so late feedback changes past points, like the comparison.
 */
import { timeseriesCountFields, type TimeseriesCountFields } from '../metrics/counted-metrics.js';
import { completeCounts } from '../metrics/counts.js';
import { histogramQuantile } from '../stats/index.js';
import { sanitized, sumCounts } from './counts.js';
import type { Arm, SeriesRow } from './types.js';

export type TimeseriesBucket = 'minute' | 'hour' | 'day';

/** The bucket, the arm, the plain counts (the metric table's `api.timeseries` fields) and the p95. */
export interface TimeseriesPoint extends TimeseriesCountFields {
  t: string;
  arm: Arm;
  /** From the log-spaced histogram (within 2%); null without runs. */
  latencyP95Ms: number | null;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const ARM_ORDER: Record<Arm, number> = { control: 0, candidate: 1 };

export function timeseriesPoints(rows: readonly SeriesRow[], bucket: TimeseriesBucket): TimeseriesPoint[] {
  // Rows normally arrive one per (bucket, arm) already (the read model sums days); rows that share
  // a bucket are summed here all the same.
  const groups = new Map<string, { t: number; arm: Arm; rows: SeriesRow[] }>();
  for (const r of rows) {
    const t = bucket === 'day' ? Math.floor(r.t.getTime() / DAY_MS) * DAY_MS : r.t.getTime();
    const key = `${t}\u0000${r.arm}`;
    const g = groups.get(key);
    if (g) g.rows.push(r);
    else groups.set(key, { t, arm: r.arm, rows: [r] });
  }
  return [...groups.values()]
    .sort((a, b) => a.t - b.t || ARM_ORDER[a.arm] - ARM_ORDER[b.arm])
    .map(({ t, arm, rows: group }) => {
      const asCounts = ({ t: _t, arm: _arm, ...counts }: SeriesRow) => completeCounts(counts);
      const c = sanitized(group.length === 1 ? asCounts(group[0]!) : sumCounts(group.map(asCounts)));
      return {
        t: new Date(t).toISOString(),
        arm,
        ...timeseriesCountFields(c),
        latencyP95Ms: histogramQuantile(c.latencyHist, 0.95) ?? null,
      };
    })
    .filter((p) => p.runs > 0);
}

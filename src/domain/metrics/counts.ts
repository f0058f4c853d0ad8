/** Adding up `Counts` (pure), for every metric of the table by its kind (metric-kinds.ts). */
import { COUNTED_METRICS, type CountedMetric, type Counts } from './counted-metrics.js';
import { opsOf } from './metric-kinds.js';

type Mutable = Record<string, unknown>;

export function emptyCounts(): Counts {
  const c: Mutable = {};
  for (const m of COUNTED_METRICS) c[m.name] = opsOf(m.kind).zero();
  return c as Counts;
}

const skipsHistograms = (m: CountedMetric, histograms: boolean) => !histograms && m.kind === 'histogram';

/**
 * Adds `b` into `a` (sign −1 subtracts; `histograms: false` leaves the latency histogram out);
 * returns `a`.
 */
export function addInto(a: Counts, b: Counts, sign: 1 | -1 = 1, histograms = true): Counts {
  const into = a as unknown as Mutable;
  const from = b as unknown as Mutable;
  for (const m of COUNTED_METRICS) {
    if (skipsHistograms(m, histograms)) continue;
    into[m.name] = opsOf(m.kind).add(into[m.name], from[m.name], sign);
  }
  return a;
}

/**
 * The sum of some cells. `latency: false` skips the histograms (an empty one is returned): the
 * statistics need counts only, and adding 380 buckets per cell is what costs.
 */
export function sumCounts(cells: Iterable<Counts>, opts: { latency?: boolean } = {}): Counts {
  const latency = opts.latency ?? true;
  const total = emptyCounts() as unknown as Mutable;
  if (!latency) for (const m of COUNTED_METRICS) if (m.kind === 'histogram') total[m.name] = [];
  for (const c of cells) addInto(total as Counts, c, 1, latency);
  return total as Counts;
}

/**
 * Counts fit for the statistics: never negative, never more events than trials (each metric's
 * `atMost`, read from the metrics above it once they are clamped). Aggregates are exact by
 * construction; this only keeps a damaged row from turning a dashboard into a 500.
 */
export function sanitized(c: Counts): Counts {
  const out: Mutable = {};
  const from = c as unknown as Mutable;
  const clamped = (name: string | undefined) => (name === undefined ? 0 : (out[name] as number));
  for (const m of COUNTED_METRICS) {
    const atMost = m.atMost ? clamped(m.atMost.of) - clamped(m.atMost.minus) : Number.POSITIVE_INFINITY;
    out[m.name] = opsOf(m.kind).clamp(from[m.name], atMost);
  }
  return out as Counts;
}

/** Counts with every metric the given partial counts lack at zero (e.g. a series row's). */
export function completeCounts(partial: Partial<Counts>): Counts {
  return { ...emptyCounts(), ...partial };
}

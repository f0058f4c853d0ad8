/** Adding up cells: pure helpers over `Counts` (src/domain/comparison/types.ts). */
import { LATENCY_BUCKET_COUNT } from '../stats/index.js';
import type { Counts } from './types.js';

/** A packed (not holey) array of zeros: sums over it stay on V8's fast path. */
function zeros(): number[] {
  const out: number[] = [];
  for (let i = 0; i < LATENCY_BUCKET_COUNT; i++) out.push(0);
  return out;
}

export function emptyCounts(): Counts {
  return {
    runs: 0,
    errors: 0,
    fallbacks: 0,
    reviewed: 0,
    overridden: 0,
    promptTokens: 0,
    completionTokens: 0,
    tokenRuns: 0,
    latencyHist: zeros(),
    fieldOverrides: {},
  };
}

/** Adds `b` into `a` (sign −1 subtracts; `latency: false` leaves the histogram out); returns `a`. */
export function addInto(a: Counts, b: Counts, sign: 1 | -1 = 1, latency = true): Counts {
  a.runs += sign * b.runs;
  a.errors += sign * b.errors;
  a.fallbacks += sign * b.fallbacks;
  a.reviewed += sign * b.reviewed;
  a.overridden += sign * b.overridden;
  a.promptTokens += sign * b.promptTokens;
  a.completionTokens += sign * b.completionTokens;
  a.tokenRuns += sign * b.tokenRuns;
  if (latency) {
    const h = a.latencyHist;
    const bh = b.latencyHist;
    for (let i = 0; i < bh.length; i++) {
      const n = bh[i]!;
      if (n !== 0) h[i] = (h[i] ?? 0) + sign * n;
    }
  }
  for (const [field, n] of Object.entries(b.fieldOverrides)) {
    const next = (a.fieldOverrides[field] ?? 0) + sign * n;
    if (next === 0) delete a.fieldOverrides[field];
    else a.fieldOverrides[field] = next;
  }
  return a;
}

/**
 * The sum of some cells. `latency: false` skips the histograms (an empty one is returned): the
 * statistics need counts only, and adding 380 buckets per cell is what costs.
 */
export function sumCounts(cells: Iterable<Counts>, opts: { latency?: boolean } = {}): Counts {
  const latency = opts.latency ?? true;
  const total = latency ? emptyCounts() : { ...emptyCounts(), latencyHist: [] };
  for (const c of cells) addInto(total, c, 1, latency);
  return total;
}

/**
 * Counts fit for the statistics: never negative, never more events than trials. Aggregates are
 * exact by construction; this only keeps a damaged row from turning a dashboard into a 500.
 */
export function sanitized(c: Counts): Counts {
  const nn = (x: number) => (x > 0 ? x : 0);
  const runs = nn(c.runs);
  const errors = Math.min(nn(c.errors), runs);
  const reviewed = Math.min(nn(c.reviewed), runs - errors);
  const fieldOverrides: Record<string, number> = {};
  for (const [f, n] of Object.entries(c.fieldOverrides)) if (n > 0) fieldOverrides[f] = Math.min(n, reviewed);
  return {
    runs,
    errors,
    fallbacks: Math.min(nn(c.fallbacks), errors),
    reviewed,
    overridden: Math.min(nn(c.overridden), reviewed),
    promptTokens: nn(c.promptTokens),
    completionTokens: nn(c.completionTokens),
    tokenRuns: Math.min(nn(c.tokenRuns), runs),
    latencyHist: c.latencyHist.map(nn),
    fieldOverrides,
  };
}

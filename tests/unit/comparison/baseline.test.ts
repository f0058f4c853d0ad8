import { describe, expect, it } from 'vitest';
import { BASELINE_LOOKBACK_MS, beforeBaseline, concurrentBaseline, planBaseline } from '../../../src/domain/comparison/baseline.js';
import { emptyCounts } from '../../../src/domain/comparison/counts.js';
import { stageStarts, stageViews } from '../../../src/domain/comparison/stage-starts.js';
import { timeseriesPoints } from '../../../src/domain/comparison/timeseries.js';
import type { DefaultCell, SeriesRow } from '../../../src/domain/comparison/types.js';
import { LATENCY_BUCKET_COUNT, latencyBucketIndex } from '../../../src/domain/stats/index.js';
import { stage } from './fixtures.js';

const H = 3_600_000;
const t0 = Date.UTC(2026, 2, 10, 12, 30);

function row(tenantId: string | null, environment: string, reviewed: number, overridden = 0): DefaultCell {
  return { ...emptyCounts(), runs: reviewed, reviewed, overridden, tenantId, environment };
}

describe('baseline control', () => {
  const s0 = { ...stage(0, 100, 'tenant', ['prod']), startedAt: new Date(t0) };
  const s1 = { ...stage(1, 100, 'tenant', ['prod', 'eu']), startedAt: new Date(t0 + 5 * H) };
  const pairs = [
    { stage: 0, tenantId: 'acme', environment: 'prod' },
    { stage: 1, tenantId: 'acme', environment: 'prod' }, // first switched at stage 0
    { stage: 1, tenantId: 'globex', environment: 'eu' },
  ];
  const plan = planBaseline({
    stages: [s0, s1],
    allStages: [s0, s1],
    pairs,
    filter: {},
    rolloutSpan: { from: new Date(t0), to: new Date(t0 + 10 * H) },
  });

  it('plans the same tenants’ history before each first switch, and the concurrent fallback', () => {
    expect(plan.cutoff.get('acme\u0000prod')).toEqual(new Date(t0));
    expect(plan.cutoff.get('globex\u0000eu')).toEqual(new Date(t0 + 5 * H));
    // One lookback window per pair, ending when the pair first got the candidate (a pair in two
    // stages keeps its first switch).
    expect(plan.before).toEqual([
      { tenantId: 'acme', environment: 'prod', from: new Date(t0 - BASELINE_LOOKBACK_MS), to: new Date(t0) },
      { tenantId: 'globex', environment: 'eu', from: new Date(t0 + 5 * H - BASELINE_LOOKBACK_MS), to: new Date(t0 + 5 * H) },
    ]);
    // From the hour the rollout started (hour buckets), excluding every tenant it switched.
    expect(plan.concurrent).toEqual({
      environments: ['eu', 'prod'],
      from: new Date(Date.UTC(2026, 2, 10, 12)),
      to: new Date(t0 + 10 * H),
      excludeTenants: ['acme', 'globex'],
    });
    const filtered = planBaseline({
      stages: [s1],
      allStages: [s0, s1],
      pairs,
      filter: { tenant: 'globex' },
      rolloutSpan: { from: new Date(t0), to: new Date(t0 + H) },
    });
    expect(filtered.stagePairs.get(1)).toEqual([{ tenantId: 'globex', environment: 'eu' }]);
    expect(filtered.before.map((p) => p.tenantId)).toEqual(['globex']);
    const windowed = planBaseline({
      stages: [s0],
      allStages: [s0],
      pairs,
      filter: {},
      rolloutSpan: { from: new Date(t0), to: new Date(t0 + 10 * H) },
      window: { from: new Date(t0 + 2 * H), to: new Date(t0 + 3 * H) },
    });
    expect(windowed.concurrent).toMatchObject({ from: new Date(t0 + 2 * H), to: new Date(t0 + 3 * H) });
  });

  it('uses the same tenants’ history once it has 100 reviewed runs, each pair once', () => {
    const rows = [row('acme', 'prod', 100, 10), row('globex', 'eu', 10, 1), row('initech', 'prod', 500)];
    const b = beforeBaseline(plan, rows)!;
    expect(b.kind).toBe('same_tenants_before');
    expect(b.overall.map((c) => [c.tenantId, c.environment, c.reviewed, c.overridden])).toEqual([
      ['acme', 'prod', 100, 10],
      ['globex', 'eu', 10, 1],
    ]);
    expect(b.byStage.get(0)!.map((c) => c.reviewed)).toEqual([100]);
    expect(b.byStage.get(1)!.map((c) => c.reviewed)).toEqual([100, 10]);
    expect(b.description).toEqual({ lookbackHours: 168, pairs: 2 });
    // Fewer than 100 reviewed runs: not enough.
    expect(beforeBaseline(plan, [row('acme', 'prod', 89), row('globex', 'eu', 10)])).toBeUndefined();
  });

  it('pools other tenants’ concurrent traffic, minus the switched tenants', () => {
    const pooled = [row(null, 'prod', 80, 8), row(null, 'eu', 10, 0)];
    const excluded = [row(null, 'prod', 20, 2)];
    const b = concurrentBaseline(plan, pooled, excluded);
    expect(b.kind).toBe('other_tenants_concurrent');
    expect(b.overall.map((c) => [c.environment, c.tenantId, c.reviewed, c.overridden])).toEqual([
      ['eu', null, 10, 0],
      ['prod', null, 60, 6],
    ]);
    expect(b.byStage.get(0)!.map((c) => c.environment)).toEqual(['prod']);
    expect(b.byStage.get(1)!.map((c) => c.environment)).toEqual(['prod', 'eu']);
  });
});

describe('stage starts and timeseries', () => {
  it('dates each stage from the audit log', () => {
    const created = new Date(t0);
    const starts = stageStarts(created, [
      { at: new Date(t0 + H), type: 'advanced', data: { after: { stage: 1 } } },
      { at: new Date(t0 + 2 * H), type: 'paused', data: {} },
      { at: new Date(t0 + 3 * H), type: 'advanced', data: { after: { stage: 1 } } }, // first wins
      { at: new Date(t0 + 4 * H), type: 'advanced', data: { after: { stage: 2 } } },
    ]);
    expect([...starts]).toEqual([
      [0, created],
      [1, new Date(t0 + H)],
      [2, new Date(t0 + 4 * H)],
    ]);
    const views = stageViews(
      { stages: [0, 1, 2, 3].map((i) => ({ environments: ['prod'], percent: 10 * i, splitBy: 'unit' as const })) },
      starts,
    );
    expect(views.map((v) => v.startedAt)).toEqual([created, new Date(t0 + H), new Date(t0 + 4 * H), null]);
  });

  it('sums hours into UTC days and orders points by time, control first', () => {
    const hist = (ms: number, n: number) => {
      const h = new Array<number>(LATENCY_BUCKET_COUNT).fill(0);
      h[latencyBucketIndex(ms)] = n;
      return h;
    };
    const day = Date.UTC(2026, 2, 10);
    // Series rows carry every series metric: those not named here are 0.
    const row = (
      r: Pick<SeriesRow, 't' | 'arm' | 'runs' | 'errors' | 'fallbacks' | 'reviewed' | 'overridden' | 'latencyHist'>,
    ): SeriesRow => ({ ...emptyCounts(), ...r });
    const rows = [
      row({
        t: new Date(day + 23 * H),
        arm: 'candidate',
        runs: 2,
        errors: 1,
        fallbacks: 1,
        reviewed: 1,
        overridden: 1,
        latencyHist: hist(100, 2),
      }),
      row({
        t: new Date(day + 1 * H),
        arm: 'candidate',
        runs: 3,
        errors: 0,
        fallbacks: 0,
        reviewed: 2,
        overridden: 0,
        latencyHist: hist(100, 3),
      }),
      row({
        t: new Date(day + 2 * H),
        arm: 'control',
        runs: 4,
        errors: 0,
        fallbacks: 0,
        reviewed: 4,
        overridden: 2,
        latencyHist: hist(50, 4),
      }),
      row({
        t: new Date(day + 24 * H),
        arm: 'control',
        runs: 1,
        errors: 0,
        fallbacks: 0,
        reviewed: 0,
        overridden: 0,
        latencyHist: hist(50, 1),
      }),
    ];
    const points = timeseriesPoints(rows, 'day');
    expect(points.map((p) => [p.t, p.arm, p.runs, p.reviewed, p.overridden, p.errors, p.fallbacks])).toEqual([
      [new Date(day).toISOString(), 'control', 4, 4, 2, 0, 0],
      [new Date(day).toISOString(), 'candidate', 5, 3, 1, 1, 1],
      [new Date(day + 24 * H).toISOString(), 'control', 1, 0, 0, 0, 0],
    ]);
    expect(points[1]!.latencyP95Ms).toBeCloseTo(100, -1);
    expect(timeseriesPoints(rows, 'hour')).toHaveLength(4);
  });
});

/**
 * The baseline control of a stage that sends all its traffic to the candidate (pure).
 *
 * The contract: "the same tenants' traffic in the same environments before the stage started when
 * it has enough reviewed runs, else other tenants' default traffic in the same environments while
 * the rollout runs". Our reading, in the terms of the read model (default traffic on the control
 * version, by hour):
 * - same tenants before: for each (tenant, environment) the candidate served in the stage, its
 *   default traffic on the control version in the BASELINE_LOOKBACK_MS before it first got the
 *   candidate (hour buckets that start before that moment; while a 100% stage runs, none of the
 *   pair's traffic is default, so such a bucket holds only earlier traffic). "Enough" is the
 *   verdict's MIN_REVIEWED_PER_ARM reviewed runs over the selected stages;
 * - else other tenants concurrently: default traffic on the control version in the stage's
 *   environments from the rollout's start to its end (now while it is active), minus the tenants
 *   the candidate served, pooled over tenants (no per-tenant clusters).
 * Filtering by the control version keeps traffic of older versions (before a promotion) out.
 */
import type { BaselineInput, StageView } from './assemble.js';
import { addInto, emptyCounts } from './counts.js';
import type { Cell, Counts, DefaultCell } from './types.js';
import { MIN_REVIEWED_PER_ARM } from './verdict.js';

/** How far before a tenant's switch its traffic counts as its baseline. */
export const BASELINE_LOOKBACK_MS = 7 * 24 * 60 * 60 * 1000;

const HOUR_MS = 60 * 60 * 1000;

export interface CandidatePair {
  stage: number;
  tenantId: string;
  environment: string;
}

export interface BaselinePlan {
  /** The selected 100% stages and the (tenant, environment) pairs each served, after filters. */
  stagePairs: Map<number, { tenantId: string; environment: string }[]>;
  stageEnvironments: Map<number, string[]>;
  /** Per pair: when it first got the candidate (any stage). */
  cutoff: Map<string, Date>;
  /** Each chosen pair's lookback window [cutoff − lookback, cutoff). */
  before: { tenantId: string; environment: string; from: Date; to: Date }[];
  lookbackMs: number;
  concurrent?: { environments: string[]; from: Date; to: Date; excludeTenants: string[] };
}

const pairKey = (tenant: string, environment: string) => `${tenant}\u0000${environment}`;

export function planBaseline(args: {
  /** Selected stages at 100% (the ones that need a baseline). */
  stages: StageView[];
  /** Every stage, for start times. */
  allStages: StageView[];
  /** Every (stage, tenant, environment) the candidate served, unfiltered. */
  pairs: CandidatePair[];
  filter: { tenant?: string; environment?: string };
  /** The rollout's life: [created, ended or now). */
  rolloutSpan: { from: Date; to: Date };
  /** The comparison's window, if any. */
  window?: { from: Date; to: Date };
  lookbackMs?: number;
}): BaselinePlan {
  const lookback = args.lookbackMs ?? BASELINE_LOOKBACK_MS;
  const startOf = new Map(args.allStages.map((s) => [s.index, s.startedAt]));
  const cutoff = new Map<string, Date>();
  for (const p of args.pairs) {
    const start = startOf.get(p.stage);
    if (!start) continue;
    const k = pairKey(p.tenantId, p.environment);
    const prev = cutoff.get(k);
    if (!prev || start < prev) cutoff.set(k, start);
  }
  const selected = new Set(args.stages.map((s) => s.index));
  const stagePairs = new Map<number, { tenantId: string; environment: string }[]>(args.stages.map((s) => [s.index, []]));
  for (const p of args.pairs) {
    if (!selected.has(p.stage)) continue;
    if (args.filter.tenant !== undefined && p.tenantId !== args.filter.tenant) continue;
    if (args.filter.environment !== undefined && p.environment !== args.filter.environment) continue;
    stagePairs.get(p.stage)!.push({ tenantId: p.tenantId, environment: p.environment });
  }
  const stageEnvironments = new Map(
    args.stages.map((s) => [s.index, s.environments.filter((e) => args.filter.environment === undefined || e === args.filter.environment)]),
  );

  const before = new Map<string, BaselinePlan['before'][number]>();
  for (const p of [...stagePairs.values()].flat()) {
    const cut = cutoff.get(pairKey(p.tenantId, p.environment))!;
    before.set(pairKey(p.tenantId, p.environment), { ...p, from: new Date(cut.getTime() - lookback), to: cut });
  }

  const environments = [...new Set([...stageEnvironments.values()].flat())].sort();
  let from = Math.floor(args.rolloutSpan.from.getTime() / HOUR_MS) * HOUR_MS;
  let to = args.rolloutSpan.to.getTime();
  if (args.window) {
    from = Math.max(from, args.window.from.getTime());
    to = Math.min(to, args.window.to.getTime());
  }
  const concurrent =
    environments.length > 0 && from < to
      ? { environments, from: new Date(from), to: new Date(to), excludeTenants: [...new Set(args.pairs.map((p) => p.tenantId))].sort() }
      : undefined;
  return { stagePairs, stageEnvironments, cutoff, before: [...before.values()], lookbackMs: lookback, concurrent };
}

/**
 * The same-tenants-before baseline from the per-pair sums of the plan's `before` windows, or
 * undefined when it has fewer than MIN_REVIEWED_PER_ARM reviewed runs.
 */
export function beforeBaseline(plan: BaselinePlan, pairRows: DefaultCell[]): BaselineInput | undefined {
  const byPair = new Map<string, DefaultCell>();
  for (const r of pairRows) if (r.tenantId !== null) byPair.set(pairKey(r.tenantId, r.environment), r);
  const byStage = new Map<number, Cell[]>();
  const overall = new Map<string, Cell>();
  for (const [stage, pairs] of plan.stagePairs) {
    const cells: Cell[] = [];
    for (const p of pairs) {
      const k = pairKey(p.tenantId, p.environment);
      const row = byPair.get(k);
      if (!row) continue;
      const cell: Cell = { ...row, stage, arm: 'control', tenantId: p.tenantId, environment: p.environment };
      cells.push(cell);
      // A pair served by two stages has one history: count it once overall.
      if (!overall.has(k)) overall.set(k, cell);
    }
    byStage.set(stage, cells);
  }
  const reviewed = [...overall.values()].reduce((n, c) => n + c.reviewed, 0);
  if (reviewed < MIN_REVIEWED_PER_ARM) return undefined;
  return {
    kind: 'same_tenants_before',
    byStage,
    overall: [...overall.values()],
    description: { lookbackHours: plan.lookbackMs / HOUR_MS, pairs: overall.size },
  };
}

/**
 * Other tenants' default traffic while the rollout runs: per environment, the pooled default
 * traffic minus that of the tenants the candidate served (same environments and hours).
 */
export function concurrentBaseline(plan: BaselinePlan, pooled: DefaultCell[], excluded: DefaultCell[]): BaselineInput {
  const perEnv = new Map<string, Counts>();
  const envTotal = (env: string) => {
    let c = perEnv.get(env);
    if (!c) perEnv.set(env, (c = emptyCounts()));
    return c;
  };
  for (const r of pooled) addInto(envTotal(r.environment), r);
  for (const r of excluded) addInto(envTotal(r.environment), r, -1);
  const cellOf = (stage: number, env: string): Cell => ({
    ...(perEnv.get(env) ?? emptyCounts()),
    stage,
    arm: 'control',
    tenantId: null,
    environment: env,
  });
  const byStage = new Map<number, Cell[]>();
  for (const [stage, envs] of plan.stageEnvironments)
    byStage.set(
      stage,
      envs.filter((e) => perEnv.has(e)).map((e) => cellOf(stage, e)),
    );
  const firstStage = [...plan.stageEnvironments.keys()][0] ?? 0;
  const overall = [...perEnv.keys()].sort().map((e) => cellOf(firstStage, e));
  return {
    kind: 'other_tenants_concurrent',
    byStage,
    overall,
    description: plan.concurrent
      ? {
          from: plan.concurrent.from.toISOString(),
          to: plan.concurrent.to.toISOString(),
          excludedTenants: plan.concurrent.excludeTenants.length,
        }
      : {},
  };
}

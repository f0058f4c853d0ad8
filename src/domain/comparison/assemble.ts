/**
 * Assembles the contract's comparison from aggregated cells (pure: no clock, no I/O). The service
 * (comparison-service.ts) reads the cells, the baseline and the assignment counts; this decides
 * which cells form which arm, computes the differences, SRM and verdict, and lays out the answer.
 *
 * Arms. The candidate arm is every candidate cell of the selected stages. The control arm is the
 * randomized control when a selected stage splits its traffic (0 < percent < 100); when every
 * selected stage with a candidate sends all its traffic to it (percent 100), the control is the
 * baseline the service found (observational: it never yields a better/worse verdict).
 * A 100% stage beside randomized ones has no randomized control: it drops out of the top-level
 * (stratified) difference, and its byStage entry has an empty control unless the service passed
 * a baseline for it (it does when the comparison is filtered to that stage).
 */
import { ARM_COUNT_FIELDS, type ArmCountFields } from '../metrics/counted-metrics.js';
import {
  reviewRateImbalance as reviewRateTest,
  sampleRatioMismatch,
  sequentialSrm,
  tenantReviewRateImbalance,
  type BinomialCount,
  type SrmResult,
} from '../stats/index.js';
import { fieldNames, summarizeArm, type ArmSummary } from './arm-summary.js';
import { buildBreakdown, type Breakdown } from './breakdowns.js';
import { sumCounts } from './counts.js';
import { rateDifference, rateOf, tenantsPerArm, type Difference, type StageArms } from './differences.js';
import { MIN_GUARDRAIL_TENANTS_PER_ARM, type GuardrailCheck } from '../guardrails/guardrail-status.js';
import type { AssignmentCount, Cell, Counts } from './types.js';
import { decideVerdict, tooFewTenants, type AnalysisUnit, type ControlArm, type Verdict } from './verdict.js';

export interface StageView {
  index: number;
  environments: string[];
  percent: number;
  splitBy: 'tenant' | 'unit';
  /** When the stage became active; null if the rollout never reached it. */
  startedAt: Date | null;
}

export type BaselineKind = 'same_tenants_before' | 'other_tenants_concurrent';

export interface BaselineInput {
  kind: BaselineKind;
  /** Control cells standing in for each 100% stage's missing control (arm 'control'). */
  byStage: Map<number, Cell[]>;
  /** The union over the stages, each underlying hour counted once (the top-level control arm). */
  overall: Cell[];
  /** Where the baseline was taken from, for the answer. */
  description: Record<string, unknown>;
}

export interface ComparisonInput {
  rolloutId: string;
  chain: string;
  control: string;
  candidate: string;
  /** The rollout's alpha: level of the always-valid interval the verdict reads. */
  alpha: number;
  window: { from: Date; to: Date; granularity: 'hour' | 'rollout' };
  /** The selected stages (the `stage` filter, else every started stage), in order. */
  stages: StageView[];
  /** Control and candidate cells of those stages, after the tenant/environment/window filters. */
  cells: Cell[];
  baseline?: BaselineInput;
  assignments: AssignmentCount[];
  guardrails: GuardrailCheck[];
  warnings?: string[];
  /** Randomized stages in the rollout's spec (the stratified sequences' factor count); default: those selected. */
  plannedStrata?: number;
  /** Whole tenants assigned: each tenant's override counts before the rollout (CUPED for the tenant-level verdict). */
  preRollout?: ReadonlyMap<string, BinomialCount>;
  /** Per stage, assignment keys recorded in both of its arms (must be none). */
  keysInBothArms?: { stage: number; keys: number }[];
}

export interface ArmPair {
  control: ArmSummary;
  candidate: ArmSummary;
}

export interface StageComparison {
  stage: number;
  environments: string[];
  percent: number;
  splitBy: 'tenant' | 'unit';
  startedAt: string | null;
  controlArm: ControlArm;
  analysisUnit: AnalysisUnit;
  arms: ArmPair;
  difference: { overrideRate: Difference; errorRate: Difference };
  srm: SrmOut;
  verdict: Verdict;
}

export type SrmOut = Pick<SrmResult, 'expectedCandidateShare' | 'observedCandidateShare' | 'chiSquare' | 'degreesOfFreedom'> & {
  /** Always-valid p-value of the sequential per-stage test (data-quality.ts); mismatch at ≤ 0.001. */
  pValue: number;
  mismatch: boolean;
  /** Fixed-sample exact binomial p-value of the most extreme stage (display only). */
  exactPValue: number;
  method: string;
  keys: { control: number; candidate: number };
  /** Keys seen in both arms of one stage: must be 0. */
  keysInBothArms: number;
};

/** Review-rate imbalance per stratum (reviewed / answered runs per arm, by a test). */
export interface ReviewRateImbalanceOut {
  imbalance: boolean;
  byStage: { stage: number; pValue: number }[];
  method: string;
}

export interface Comparison {
  rolloutId: string;
  chain: string;
  window: { from: string; to: string; granularity: 'hour' | 'rollout' };
  analysisUnit: AnalysisUnit;
  controlArm: ControlArm;
  baseline?: { kind: BaselineKind } & Record<string, unknown>;
  warnings: string[];
  alpha: number;
  /** The plain count fields of each arm, in the metric table's order (clients list them from here). */
  countFields: (keyof ArmCountFields)[];
  arms: ArmPair;
  difference: { overrideRate: Difference; errorRate: Difference };
  byStage: StageComparison[];
  byTenant: (Breakdown & { tenant: string })[];
  byEnvironment: (Breakdown & { environment: string })[];
  srm: SrmOut;
  reviewRateImbalance: ReviewRateImbalanceOut;
  guardrails: GuardrailCheck[];
  verdict: Verdict;
}

/** What a stage's traffic split gives: a randomized comparison, all candidate, or all control. */
export function stageKind(percent: number): 'randomized' | 'all_candidate' | 'all_control' {
  if (percent >= 100) return 'all_candidate';
  if (percent <= 0) return 'all_control';
  return 'randomized';
}

function byTenantCounts(cells: Cell[]): Map<string, Counts> | undefined {
  const groups = new Map<string, Cell[]>();
  for (const c of cells) {
    if (c.tenantId === null) return undefined; // pooled over tenants: no clusters
    const g = groups.get(c.tenantId) ?? [];
    g.push(c);
    groups.set(c.tenantId, g);
  }
  return new Map([...groups].map(([t, g]) => [t, sumCounts(g, { latency: false })]));
}

/** A stratum's counts for the statistics (no histograms: they are summed for the summaries only). */
function stageArms(stage: number, share: number, candidate: Cell[], control: Cell[]): StageArms {
  return {
    stage,
    share,
    candidate: sumCounts(candidate, { latency: false }),
    control: sumCounts(control, { latency: false }),
    candidateTenants: byTenantCounts(candidate),
    controlTenants: byTenantCounts(control),
  };
}

/**
 * SRM: the sequential per-stage test (data-quality.ts) decides; the chi-square figures stay for
 * display. Stages at 0% or 100% have nothing to compare.
 */
function srmOf(
  stages: StageView[],
  assignments: AssignmentCount[],
  plannedStages: number,
  keysInBoth: readonly { stage: number; keys: number }[],
): SrmOut {
  const keysInBothArms = keysInBoth.filter((k) => stages.some((s) => s.index === k.stage)).reduce((n, k) => n + k.keys, 0);
  const keysOf = (stage: number, arm: 'control' | 'candidate') =>
    assignments.filter((a) => a.stage === stage && a.arm === arm).reduce((n, a) => n + a.keys, 0);
  const per = stages.map((s) => ({
    expectedCandidateShare: s.percent / 100,
    share: s.percent / 100,
    candidate: keysOf(s.index, 'candidate'),
    control: keysOf(s.index, 'control'),
  }));
  const chi = sampleRatioMismatch(per);
  const seq = sequentialSrm(per, { plannedStages });
  return {
    expectedCandidateShare: chi.expectedCandidateShare,
    observedCandidateShare: chi.observedCandidateShare,
    pValue: seq.pValue,
    mismatch: seq.mismatch,
    exactPValue: seq.exactPValue,
    method: seq.method,
    chiSquare: chi.chiSquare,
    degreesOfFreedom: chi.degreesOfFreedom,
    keys: { control: per.reduce((n, s) => n + s.control, 0), candidate: per.reduce((n, s) => n + s.candidate, 0) },
    keysInBothArms,
  };
}

function armPair(input: ComparisonInput, control: Counts, candidate: Counts): ArmPair {
  const fields = fieldNames(control, candidate);
  return { control: summarizeArm(input.control, control, fields), candidate: summarizeArm(input.candidate, candidate, fields) };
}

function unitOf(stages: StageView[]): AnalysisUnit {
  return stages.some((s) => s.splitBy === 'tenant') ? 'tenant' : 'run';
}

export function assembleComparison(input: ComparisonInput): Comparison {
  const warnings = [...(input.warnings ?? [])];
  const candidateCells = (stage?: number) => input.cells.filter((c) => c.arm === 'candidate' && (stage === undefined || c.stage === stage));
  const randomizedControl = (stage?: number) =>
    input.cells.filter((c) => c.arm === 'control' && (stage === undefined || c.stage === stage));

  const randomized = input.stages.filter((s) => stageKind(s.percent) === 'randomized');
  const allCandidate = input.stages.filter((s) => stageKind(s.percent) === 'all_candidate');
  const controlArm: ControlArm = randomized.length === 0 && allCandidate.length > 0 ? 'baseline' : 'randomized';
  const contributing = controlArm === 'baseline' ? allCandidate : randomized.length > 0 ? randomized : input.stages;
  // A baseline compares tenants with their own past (per run, as a unit split does) or with a
  // pool of other tenants that has no tenant clusters: per run either way.
  const analysisUnit: AnalysisUnit = controlArm === 'baseline' ? 'run' : unitOf(contributing);

  const controlFor = (s: StageView): Cell[] =>
    stageKind(s.percent) === 'all_candidate' ? (input.baseline?.byStage.get(s.index) ?? []) : randomizedControl(s.index);

  // byStage: each stage against its own control (randomized, or its baseline at 100%).
  const byStage = input.stages.map((s): StageComparison => {
    const cand = candidateCells(s.index);
    const ctrl = controlFor(s);
    const arms = stageArms(s.index, stageShare(s), cand, ctrl);
    const stageControlArm: ControlArm = stageKind(s.percent) === 'all_candidate' ? 'baseline' : 'randomized';
    const unit: AnalysisUnit = stageControlArm === 'baseline' ? 'run' : unitOf([s]);
    const overrideRate = rateDifference('overrideRate', [arms], { alpha: input.alpha, unit });
    return {
      stage: s.index,
      environments: s.environments,
      percent: s.percent,
      splitBy: s.splitBy,
      startedAt: s.startedAt?.toISOString() ?? null,
      controlArm: stageControlArm,
      analysisUnit: unit,
      arms: armPair(input, sumCounts(ctrl), sumCounts(cand)),
      difference: { overrideRate, errorRate: rateDifference('errorRate', [arms], { alpha: input.alpha, unit }) },
      srm: srmOf([s], input.assignments, 1, input.keysInBothArms ?? []),
      verdict: decideVerdict({
        controlArm: stageControlArm,
        analysisUnit: unit,
        reviewed: { control: arms.control.reviewed, candidate: arms.candidate.reviewed },
        tenants: tenantsPerArm('overrideRate', [arms]),
        alwaysValidCI: overrideRate.alwaysValidCI,
      }),
    };
  });

  // Top level: every candidate cell against the control arm; the difference over the
  // contributing stages, stratified by stage.
  const topControl = controlArm === 'baseline' ? (input.baseline?.overall ?? []) : randomizedControl();
  const candidate = sumCounts(candidateCells());
  const control = sumCounts(topControl);
  const strata = contributing.map((s) => stageArms(s.index, stageShare(s), candidateCells(s.index), controlFor(s)));
  const plannedStrata = controlArm === 'baseline' ? 1 : Math.max(input.plannedStrata ?? randomized.length, randomized.length, 1);
  const diffOpts = { alpha: input.alpha, unit: analysisUnit, plannedStrata, preRollout: input.preRollout };
  const overrideRate = rateDifference('overrideRate', strata, diffOpts);
  const errorRate = rateDifference('errorRate', strata, diffOpts);
  const tenants = tenantsPerArm('overrideRate', strata);

  const srm = srmOf(input.stages, input.assignments, plannedStrata, input.keysInBothArms ?? []);
  const reviewImbalance: ReviewRateImbalanceOut =
    controlArm === 'randomized'
      ? reviewRateImbalance(strata, analysisUnit, plannedStrata)
      : { imbalance: false, byStage: [], method: 'none' };
  if (controlArm === 'baseline') {
    warnings.push(
      'baseline_observational',
      input.baseline?.kind === 'other_tenants_concurrent' ? 'baseline_other_tenants' : 'baseline_same_tenants_before',
    );
    if (control.runs === 0) warnings.push('baseline_empty');
  } else if (allCandidate.length > 0) {
    warnings.push('stage_without_randomized_control');
  }
  if (tooFewTenants({ analysisUnit, tenants })) warnings.push('too_few_tenants');
  if (srm.mismatch) warnings.push('srm_mismatch');
  if (srm.keysInBothArms > 0) warnings.push('keys_in_both_arms');
  if (reviewImbalance.imbalance) warnings.push('review_rate_imbalance');
  if (input.guardrails.some((g) => g.status === 'unevaluable')) warnings.push('guardrail_unevaluable');
  if (
    !warnings.includes('too_few_tenants') &&
    input.guardrails.some((g) => g.tenants && g.status === 'waiting' && tooFewGuardrailTenants(g.tenants))
  )
    warnings.push('too_few_tenants');

  const byTenant = groupBreakdowns(input, [...candidateCells(), ...topControl], (c) => c.tenantId).map(([tenant, b]) => ({ tenant, ...b }));
  const byEnvironment = groupBreakdowns(input, [...candidateCells(), ...topControl], (c) => c.environment).map(([environment, b]) => ({
    environment,
    ...b,
  }));

  return {
    rolloutId: input.rolloutId,
    chain: input.chain,
    window: { from: input.window.from.toISOString(), to: input.window.to.toISOString(), granularity: input.window.granularity },
    analysisUnit,
    controlArm,
    ...(controlArm === 'baseline' && input.baseline ? { baseline: { kind: input.baseline.kind, ...input.baseline.description } } : {}),
    warnings,
    alpha: input.alpha,
    countFields: [...ARM_COUNT_FIELDS],
    arms: armPair(input, control, candidate),
    difference: { overrideRate, errorRate },
    byStage,
    byTenant,
    byEnvironment,
    srm,
    reviewRateImbalance: reviewImbalance,
    guardrails: input.guardrails,
    verdict: decideVerdict({
      controlArm,
      analysisUnit,
      reviewed: { control: control.reviewed, candidate: candidate.reviewed },
      tenants,
      alwaysValidCI: overrideRate.alwaysValidCI,
    }),
  };
}

/** A stage's designed candidate share; a baseline stratum has none (1/2 tunes for equal arms). */
const stageShare = (s: StageView) => (stageKind(s.percent) === 'randomized' ? s.percent / 100 : 0.5);

const tooFewGuardrailTenants = (t: { control: number; candidate: number }) =>
  t.control < MIN_GUARDRAIL_TENANTS_PER_ARM || t.candidate < MIN_GUARDRAIL_TENANTS_PER_ARM;

/**
 * Reviews chosen differently per arm bias the override rate. Per stratum (pooled stages hide or
 * invent an imbalance as they do for the override rate): reviewed of answered runs per arm, by the
 * finite-sample two-sided sequence (per tenant on a tenant split), strata sharing 0.001.
 */
export function reviewRateImbalance(strata: readonly StageArms[], unit: AnalysisUnit, plannedStrata?: number): ReviewRateImbalanceOut {
  const reviews = (c: Counts) => {
    const answered = rateOf('overrideRate', c);
    return { x: answered.n, n: Math.max(0, c.runs - Math.min(c.errors, c.runs)) };
  };
  const withData = strata.filter((s) => reviews(s.candidate).n > 0 && reviews(s.control).n > 0);
  const options = { plannedStrata: Math.max(plannedStrata ?? strata.length, strata.length, 1) };
  const perTenant = unit === 'tenant' && withData.length > 0 && withData.every((s) => s.candidateTenants && s.controlTenants);
  const r = perTenant
    ? tenantReviewRateImbalance(
        withData.map((s) => {
          const rows = (m: Map<string, Counts>) => [...m].map(([tenant, c]) => ({ tenant, ...reviews(c) })).filter((t) => t.n > 0);
          return { candidate: rows(s.candidateTenants!), control: rows(s.controlTenants!) };
        }),
        options,
      )
    : reviewRateTest(
        withData.map((s) => ({ share: s.share, candidate: reviews(s.candidate), control: reviews(s.control) })),
        options,
      );
  return {
    imbalance: r.imbalance,
    byStage: withData.map((s, i) => ({ stage: s.stage, pValue: r.pValues[i] as number })),
    method: r.method,
  };
}

function groupBreakdowns(input: ComparisonInput, cells: Cell[], keyOf: (c: Cell) => string | null): [string, Breakdown][] {
  const groups = new Map<string, Cell[]>();
  for (const c of cells) {
    const k = keyOf(c);
    if (k === null) continue;
    const g = groups.get(k) ?? [];
    g.push(c);
    groups.set(k, g);
  }
  return [...groups.keys()].sort().map((k) => [k, buildBreakdown(input.control, input.candidate, groups.get(k)!)]);
}

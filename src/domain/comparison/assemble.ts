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
import { sampleRatioMismatch, twoProportionZTest, SRM_THRESHOLD, type SrmResult } from '../stats/index.js';
import { fieldNames, summarizeArm, type ArmSummary } from './arm-summary.js';
import { buildBreakdown, type Breakdown } from './breakdowns.js';
import { sumCounts } from './counts.js';
import { rateDifference, tenantsPerArm, type Difference, type StageArms } from './differences.js';
import type { GuardrailCheck } from '../guardrails/guardrail-status.js';
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

export type SrmOut = Pick<
  SrmResult,
  'expectedCandidateShare' | 'observedCandidateShare' | 'pValue' | 'mismatch' | 'chiSquare' | 'degreesOfFreedom'
> & {
  keys: { control: number; candidate: number };
};

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
function stageArms(stage: number, candidate: Cell[], control: Cell[]): StageArms {
  return {
    stage,
    candidate: sumCounts(candidate, { latency: false }),
    control: sumCounts(control, { latency: false }),
    candidateTenants: byTenantCounts(candidate),
    controlTenants: byTenantCounts(control),
  };
}

function srmOf(stages: StageView[], assignments: AssignmentCount[]): SrmOut {
  const keysOf = (stage: number, arm: 'control' | 'candidate') =>
    assignments.filter((a) => a.stage === stage && a.arm === arm).reduce((n, a) => n + a.keys, 0);
  const per = stages.map((s) => ({
    expectedCandidateShare: s.percent / 100,
    candidate: keysOf(s.index, 'candidate'),
    control: keysOf(s.index, 'control'),
  }));
  const r = sampleRatioMismatch(per);
  return {
    expectedCandidateShare: r.expectedCandidateShare,
    observedCandidateShare: r.observedCandidateShare,
    pValue: r.pValue,
    mismatch: r.mismatch,
    chiSquare: r.chiSquare,
    degreesOfFreedom: r.degreesOfFreedom,
    keys: { control: per.reduce((n, s) => n + s.control, 0), candidate: per.reduce((n, s) => n + s.candidate, 0) },
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
    const arms = stageArms(s.index, cand, ctrl);
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
      srm: srmOf([s], input.assignments),
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
  const strata = contributing.map((s) => stageArms(s.index, candidateCells(s.index), controlFor(s)));
  const diffOpts = { alpha: input.alpha, unit: analysisUnit };
  const overrideRate = rateDifference('overrideRate', strata, diffOpts);
  const errorRate = rateDifference('errorRate', strata, diffOpts);
  const tenants = tenantsPerArm('overrideRate', strata);

  const srm = srmOf(input.stages, input.assignments);
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
  if (controlArm === 'randomized' && reviewRateImbalance(control, candidate)) warnings.push('review_rate_imbalance');

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

/**
 * Reviews chosen differently per arm bias the override rate: flagged when the share of answered
 * runs that were reviewed differs between arms at the SRM threshold (pooled z-test, p < 0.001).
 */
export function reviewRateImbalance(control: Counts, candidate: Counts): boolean {
  const answered = (c: Counts) => Math.max(0, c.runs - c.errors);
  if (answered(control) === 0 || answered(candidate) === 0) return false;
  const x1 = Math.min(candidate.reviewed, answered(candidate));
  const x0 = Math.min(control.reviewed, answered(control));
  return twoProportionZTest(x1, answered(candidate), x0, answered(control)).pValue < SRM_THRESHOLD;
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

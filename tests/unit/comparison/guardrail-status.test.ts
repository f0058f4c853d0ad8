import { describe, expect, it } from 'vitest';
import {
  evaluateGuardrails,
  guardrailCheckCount,
  guardrailSamples,
  LATENCY_SLOW_SHARE_LIMIT,
  MIN_GUARDRAIL_TENANTS_PER_ARM,
  type GuardrailArmTotals,
  type GuardrailInputs,
  type GuardrailStratum,
  type TenantStratum,
} from '../../../src/domain/guardrails/guardrail-status.js';
import { guardrailSchema, type Guardrail } from '../../../src/domain/model/rollout-spec.js';
import {
  DEFAULT_DIFFERENCE_TUNING,
  holm,
  LATENCY_BUCKET_COUNT,
  latencyBucketIndex,
  rateBound,
  stratifiedBound,
} from '../../../src/domain/stats/index.js';

function arm(
  runs: number,
  errors: number,
  reviewed: number,
  overridden: number,
  latencies: [ms: number, n: number][] = [],
): GuardrailArmTotals {
  const latencyHist = new Array<number>(LATENCY_BUCKET_COUNT).fill(0);
  for (const [ms, n] of latencies) latencyHist[latencyBucketIndex(ms)]! += n;
  return { runs, errors, reviewed, overridden, latencyHist };
}

const g = (x: unknown): Guardrail => guardrailSchema.parse(x);
const stratum = (stage: number, share: number, control: GuardrailArmTotals, candidate: GuardrailArmTotals): GuardrailStratum => ({
  stage,
  share,
  control,
  candidate,
});
const oneStage = (control: GuardrailArmTotals, candidate: GuardrailArmTotals, share = 0.5): GuardrailInputs => ({
  controlArm: 'randomized',
  strata: [stratum(0, share, control, candidate)],
  plannedStrata: 1,
});
/** Reviewed runs only (the override rate): runs = reviewed, no errors. */
const reviews = (reviewed: number, overridden: number) => arm(reviewed, 0, reviewed, overridden);

describe('guardrail status: what the guardrails read', () => {
  const override = g({ metric: 'override_rate', maxIncrease: 0.05, minSamples: 100 });

  it("the README's rollout with an identical candidate holds: stage 0 staging at 100% never enters, prod at 10% is the stratum", () => {
    // Staging reviewers override 30% in both arms, prod 10%. Pooling staging's all-candidate
    // runs with prod's randomized control (the old whole-life totals) put the bound at +8.9 points.
    const inputs: GuardrailInputs = {
      controlArm: 'randomized',
      // Only the randomized stage is a stratum; staging (100%) has no control and is not read.
      strata: [stratum(1, 0.1, reviews(9000, 900), reviews(1000, 100))],
      plannedStrata: 1,
    };
    const [check] = evaluateGuardrails([override], inputs, 0.05);
    expect(check).toMatchObject({ status: 'holding', estimate: 0, samples: 1000, controlArm: 'randomized' });
    expect(check!.bound!).toBeLessThan(0);
    expect(check!.method).toMatch(/^stratified-worst-stage\(1 planned\):finite-sample-cs/);
    // What the old pooled read saw: staging's 2000 candidate reviews at 30% beside prod's control.
    const pooled = oneStage(reviews(9000, 900), reviews(3000, 700), 0.1);
    expect(evaluateGuardrails([override], pooled, 0.05)[0]!.status).toBe('breached');
  });

  it('going 10% → 50% while the base rate drifts 5% → 15%: each stage against its own control holds', () => {
    const maxIncrease = g({ metric: 'override_rate', maxIncrease: 0.03, minSamples: 100 });
    const inputs: GuardrailInputs = {
      controlArm: 'randomized',
      strata: [stratum(0, 0.1, reviews(18000, 900), reviews(2000, 100)), stratum(1, 0.5, reviews(4000, 600), reviews(4000, 600))],
      plannedStrata: 2,
    };
    const [check] = evaluateGuardrails([maxIncrease], inputs, 0.05);
    expect(check).toMatchObject({ status: 'holding', estimate: 0, samplesByArm: { control: 22000, candidate: 6000 } });
    expect(check!.upperBound!).toBeLessThan(0.03); // positive evidence: auto-advance may go on
    // Pooled, the candidate's runs lean to the later, higher-rate stage: +4.7 points.
    const pooled = oneStage(reviews(22000, 1500), reviews(6000, 700), 0.2);
    expect(evaluateGuardrails([maxIncrease], pooled, 0.05)[0]!.status).toBe('breached');
  });

  it('a real regression in prod is breached, even beside a harmless staging stage', () => {
    const inputs: GuardrailInputs = {
      controlArm: 'randomized',
      strata: [stratum(0, 0.5, reviews(2000, 600), reviews(2000, 600)), stratum(1, 0.1, reviews(9000, 900), reviews(1000, 250))],
      plannedStrata: 2,
    };
    const [check] = evaluateGuardrails([override], inputs, 0.05);
    expect(check).toMatchObject({ status: 'breached', estimate: 0.15 });
    expect(check!.bound!).toBeGreaterThan(0.05);
    // The bound is the stratified sequence's at the level Holm tested it at (one check: alpha).
    const seq = inputs.strata.map((s) => ({
      share: s.share,
      candidate: { x: s.candidate.overridden, n: s.candidate.reviewed },
      control: { x: s.control.overridden, n: s.control.reviewed },
    }));
    expect(check!.bound).toBe(
      stratifiedBound(seq, 'lower', 0.05, { tuning: DEFAULT_DIFFERENCE_TUNING, center: 0.05, plannedStrata: 2 }, 0.05),
    );
  });

  it('a baseline stratum (no randomized stage) acts as a safety net', () => {
    const inputs: GuardrailInputs = { ...oneStage(reviews(2000, 200), reviews(2000, 500)), controlArm: 'baseline' };
    expect(evaluateGuardrails([override], inputs, 0.05)[0]).toMatchObject({ status: 'breached', controlArm: 'baseline' });
  });
});

describe('guardrail status: rules shared by every check', () => {
  it('shares guardrailAlpha among the checks by Holm: the smallest p-value is tested at alpha/m, the next at alpha/(m−1)', () => {
    const guardrails = [g({ metric: 'override_rate', maxIncrease: 0.05 }), g({ metric: 'error_rate', max: 0.02, maxIncrease: 0.2 })];
    expect(guardrailCheckCount(guardrails)).toBe(3);
    // The error rate far above its max: that check has the smallest p-value.
    const inputs = oneStage(arm(1000, 10, 800, 80), arm(1000, 100, 800, 90));
    const checks = evaluateGuardrails(guardrails, inputs, 0.06);
    expect(checks.map((c) => [c.metric, c.limit])).toEqual([
      ['override_rate', 'maxIncrease'],
      ['error_rate', 'max'],
      ['error_rate', 'maxIncrease'],
    ]);
    expect(checks[1]).toMatchObject({ status: 'breached', alpha: 0.02 });
    expect(checks[1]!.method).toMatch(/^finite-sample-cs:one-sided-bernoulli-mixture/);
    // After one rejection the rest are tested at 0.06 / 2 (Bonferroni would keep 0.02).
    expect(checks[0]!.alpha).toBeCloseTo(0.03, 12);
    expect(checks[2]!.alpha).toBeCloseTo(0.03, 12);
    expect(holm([0.5, 0.001, 0.5], 0.06).levels).toEqual([0.03, 0.02, 0.03]);
    expect(evaluateGuardrails([], inputs, 0.05)).toEqual([]);
    // Without bounds (simulations) the decisions are the same.
    const cheap = evaluateGuardrails(guardrails, inputs, 0.06, { bounds: false });
    expect(cheap.map((c) => [c.status, c.alpha, c.bound])).toEqual(checks.map((c) => [c.status, c.alpha, null]));
  });

  it('waits for minSamples in each arm (relative) or in the candidate (absolute)', () => {
    const inputs = oneStage(arm(50, 0, 40, 0), arm(500, 400, 90, 90));
    const [relative, absolute] = evaluateGuardrails(
      [g({ metric: 'override_rate', maxIncrease: 0.01, minSamples: 50 }), g({ metric: 'error_rate', max: 0.1, minSamples: 500 })],
      inputs,
      0.05,
    );
    // Overwhelming evidence, but the control has 40 reviewed runs of the 50 required.
    expect(relative!.bound).toBeGreaterThan(0.01);
    expect(relative).toMatchObject({ status: 'waiting', samples: 40, samplesByArm: { control: 40, candidate: 90 } });
    // Holm over two checks: the decisive one first, at 0.05 / 2.
    expect(absolute).toMatchObject({ status: 'breached', samples: 500, samplesByArm: { control: null, candidate: 500 }, alpha: 0.025 });
    expect(absolute!.bound).toBe(rateBound(400, 500, 'lower', 0.025, { center: 0.1, tuning: DEFAULT_DIFFERENCE_TUNING }));
  });

  it('a relative check with no control data once the candidate has minSamples is unevaluable, not waiting forever', () => {
    const rule = g({ metric: 'override_rate', maxIncrease: 0.01, minSamples: 50 });
    const [none] = evaluateGuardrails([rule], oneStage(arm(0, 0, 0, 0), arm(500, 0, 90, 72)), 0.05);
    expect(none).toMatchObject({ status: 'unevaluable', bound: null, upperBound: null, samplesByArm: { control: 0, candidate: 90 } });
    // Below minSamples it still waits.
    expect(evaluateGuardrails([rule], oneStage(arm(0, 0, 0, 0), arm(40, 0, 40, 30)), 0.05)[0]!.status).toBe('waiting');
  });

  it('counts reviewed runs per arm over the strata for auto-advance', () => {
    const inputs: GuardrailInputs = {
      controlArm: 'randomized',
      strata: [stratum(0, 0.1, arm(10, 0, 7, 1), arm(20, 0, 9, 2)), stratum(1, 0.5, arm(5, 0, 3, 0), arm(5, 0, 4, 0))],
      plannedStrata: 2,
    };
    expect(guardrailSamples(inputs)).toEqual({ control: 10, candidate: 13 });
  });
});

describe('guardrail status: latency', () => {
  it('breaches max when more than 5% of candidate runs are slower than max, with confidence', () => {
    expect(LATENCY_SLOW_SHARE_LIMIT).toBe(0.05);
    const latency = g({ metric: 'latency_p95_ms', max: 2000, minSamples: 100 });
    const fast = oneStage(
      arm(0, 0, 0, 0),
      arm(1000, 0, 0, 0, [
        [300, 990],
        [5000, 10],
      ]),
    );
    const slow = oneStage(
      arm(0, 0, 0, 0),
      arm(1000, 0, 0, 0, [
        [300, 700],
        [5000, 300],
      ]),
    );
    const [ok] = evaluateGuardrails([latency], fast, 0.05);
    const [bad] = evaluateGuardrails([latency], slow, 0.05);
    expect(ok).toMatchObject({
      quantity: 'share_slower_than_max',
      threshold: 0.05,
      maxMs: 2000,
      estimate: 0.01,
      samples: 1000,
      status: 'holding',
    });
    expect(ok!.upperBound).toBeLessThan(0.05); // positive evidence for auto-advance
    expect(bad).toMatchObject({ estimate: 0.3, status: 'breached' });
  });

  it("relative latency: breaches when the candidate's p95 exceeds the control's by more than maxIncrease ms", () => {
    const latency = g({ metric: 'latency_p95_ms', maxIncrease: 200, minSamples: 100 });
    const control = arm(5000, 0, 0, 0, [
      [300, 4750],
      [1000, 250],
    ]);
    const same = evaluateGuardrails([latency], oneStage(control, control), 0.05)[0]!;
    expect(same).toMatchObject({ quantity: 'quantile_difference_ms', threshold: 200, status: 'holding' });
    expect(same.estimate).toBe(0);
    expect(same.method).toMatch(/finite-sample-quantile-cs\(q=0.95/);
    const slower = arm(5000, 0, 0, 0, [
      [300, 4000],
      [2000, 1000],
    ]);
    const worse = evaluateGuardrails([latency], oneStage(control, slower), 0.05)[0]!;
    expect(worse.status).toBe('breached');
    expect(worse.bound!).toBeGreaterThan(200);
  });
});

describe('guardrail status: tenant splits', () => {
  const tenantsOf = (prefix: string, count: number, reviewed: number, overridden: (i: number) => number) =>
    Array.from({ length: count }, (_, i) => ({ tenant: `${prefix}${i}`, x: overridden(i), n: reviewed }));
  const totals = (rows: { x: number; n: number }[]) =>
    reviews(
      rows.reduce((s, r) => s + r.n, 0),
      rows.reduce((s, r) => s + r.x, 0),
    );
  const inputsOf = (t: TenantStratum): GuardrailInputs => ({
    controlArm: 'randomized',
    strata: [stratum(0, 0.5, totals([...t.control]), totals([...t.candidate]))],
    plannedStrata: 1,
    tenants: [t],
  });
  const override = g({ metric: 'override_rate', maxIncrease: 0.05, minSamples: 100 });

  it('waits with fewer than 20 tenants in an arm, whatever the per-run evidence', () => {
    const t: TenantStratum = { candidate: tenantsOf('c', 12, 50, () => 40), control: tenantsOf('t', 12, 50, () => 5) };
    const [check] = evaluateGuardrails([override], inputsOf(t), 0.05);
    expect(check).toMatchObject({ status: 'waiting', tenants: { control: 12, candidate: 12 } });
    expect(MIN_GUARDRAIL_TENANTS_PER_ARM).toBe(20);
  });

  it('uses the tenant-level sequence with 20 or more tenants: an identical candidate holds, a much worse one breaches', () => {
    // Tenants differ (rates 0.02–0.2), identically in both arms.
    const rate = (i: number) => [1, 3, 5, 8, 10][i % 5]!;
    const same: TenantStratum = { candidate: tenantsOf('c', 30, 50, rate), control: tenantsOf('t', 30, 50, rate) };
    const [holds] = evaluateGuardrails([override], inputsOf(same), 0.05);
    expect(holds).toMatchObject({ status: 'holding', tenants: { control: 30, candidate: 30 } });
    expect(holds!.method).toMatch(/^tenant-cluster:cr2/);
    const worse: TenantStratum = { candidate: tenantsOf('c', 30, 50, (i) => rate(i) + 15), control: same.control };
    expect(evaluateGuardrails([override], inputsOf(worse), 0.05)[0]!.status).toBe('breached');
  });
});

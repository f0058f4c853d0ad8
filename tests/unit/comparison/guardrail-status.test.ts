import { describe, expect, it } from 'vitest';
import {
  evaluateGuardrails,
  guardrailCheckCount,
  guardrailSamples,
  LATENCY_SLOW_SHARE_LIMIT,
  statusOf,
  type GuardrailArmTotals,
  type GuardrailInputs,
} from '../../../src/domain/guardrails/guardrail-status.js';
import { guardrailSchema, type Guardrail } from '../../../src/domain/model/rollout-spec.js';
import {
  alwaysValidDifferenceBound,
  alwaysValidProportionBound,
  LATENCY_BUCKET_COUNT,
  latencyBucketIndex,
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

describe('guardrail status', () => {
  it('shares guardrailAlpha among the checks (Bonferroni)', () => {
    const guardrails = [g({ metric: 'override_rate', maxIncrease: 0.05 }), g({ metric: 'error_rate', max: 0.02, maxIncrease: 0.01 })];
    expect(guardrailCheckCount(guardrails)).toBe(3);
    const inputs: GuardrailInputs = { controlArm: 'randomized', control: arm(1000, 10, 800, 80), candidate: arm(1000, 12, 800, 90) };
    const checks = evaluateGuardrails(guardrails, inputs, 0.06);
    expect(checks.map((c) => [c.metric, c.limit, c.alpha])).toEqual([
      ['override_rate', 'maxIncrease', 0.02],
      ['error_rate', 'max', 0.02],
      ['error_rate', 'maxIncrease', 0.02],
    ]);
    expect(evaluateGuardrails([], inputs, 0.05)).toEqual([]);
  });

  it('breaches a relative limit when the lower bound of candidate − control exceeds maxIncrease', () => {
    const inputs: GuardrailInputs = { controlArm: 'randomized', control: arm(3000, 0, 2000, 200), candidate: arm(3000, 0, 2000, 500) };
    const [check] = evaluateGuardrails([g({ metric: 'override_rate', maxIncrease: 0.05, minSamples: 100 })], inputs, 0.05);
    const lower = alwaysValidDifferenceBound(500, 2000, 200, 2000, 'lower', { alpha: 0.05 });
    const upper = alwaysValidDifferenceBound(500, 2000, 200, 2000, 'upper', { alpha: 0.05 });
    expect(check).toMatchObject({
      quantity: 'rate_difference',
      threshold: 0.05,
      bound: lower.bound,
      upperBound: upper.bound,
      estimate: 0.15,
      samples: 2000,
      status: 'breached',
    });
    expect(check!.bound).toBeGreaterThan(0.05);
    // The same difference with a generous limit holds.
    expect(evaluateGuardrails([g({ metric: 'override_rate', maxIncrease: 0.3 })], inputs, 0.05)[0]!.status).toBe('holding');
  });

  it('waits for minSamples in each arm (relative) or in the candidate (absolute)', () => {
    const inputs: GuardrailInputs = { controlArm: 'randomized', control: arm(50, 0, 40, 0), candidate: arm(500, 400, 90, 90) };
    const [relative, absolute] = evaluateGuardrails(
      [g({ metric: 'override_rate', maxIncrease: 0.01, minSamples: 50 }), g({ metric: 'error_rate', max: 0.1, minSamples: 500 })],
      inputs,
      0.05,
    );
    // Overwhelming evidence, but the control has 40 reviewed runs of the 50 required.
    expect(relative!.bound).toBeGreaterThan(0.01);
    expect(relative).toMatchObject({ status: 'waiting', samples: 40, samplesByArm: { control: 40, candidate: 90 } });
    expect(absolute).toMatchObject({ status: 'breached', samples: 500, samplesByArm: { control: null, candidate: 500 } });
    expect(absolute!.bound).toBe(alwaysValidProportionBound(400, 500, 'lower', { alpha: 0.025 }));
    // No control at all: nothing to compare.
    const [none] = evaluateGuardrails(
      [g({ metric: 'override_rate', maxIncrease: 0.01, minSamples: 1 })],
      { ...inputs, control: arm(0, 0, 0, 0) },
      0.05,
    );
    expect(none).toMatchObject({ status: 'waiting', bound: null, upperBound: null });
  });

  it('breaches latency when more than 5% of candidate runs are slower than max, with confidence', () => {
    expect(LATENCY_SLOW_SHARE_LIMIT).toBe(0.05);
    const latency = g({ metric: 'latency_p95_ms', max: 2000, minSamples: 100 });
    const fast: GuardrailInputs = {
      controlArm: 'randomized',
      control: arm(0, 0, 0, 0),
      candidate: arm(1000, 0, 0, 0, [
        [300, 990],
        [5000, 10],
      ]),
    };
    const slow: GuardrailInputs = {
      ...fast,
      candidate: arm(1000, 0, 0, 0, [
        [300, 700],
        [5000, 300],
      ]),
    };
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
    expect(bad!.bound).toBe(alwaysValidProportionBound(300, 1000, 'lower', { alpha: 0.05 }));
  });

  it('decides the status the same way for every check', () => {
    expect(statusOf(0.2, 0.1, false)).toBe('waiting');
    expect(statusOf(null, 0.1, true)).toBe('waiting');
    expect(statusOf(0.2, 0.1, true)).toBe('breached');
    expect(statusOf(0.1, 0.1, true)).toBe('holding');
    expect(guardrailSamples({ controlArm: 'baseline', control: arm(10, 0, 7, 1), candidate: arm(20, 0, 9, 2) })).toEqual({
      control: 7,
      candidate: 9,
    });
  });
});

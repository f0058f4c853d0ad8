/**
 * The CLI's (and the demo's) comparison: every figure says which runs it counts, so the
 * lines agree with one another. The fixture has the demo's shape: a 100% staging stage with no
 * control, then a 50% unit split in prod whose difference is the headline.
 */
import { describe, expect, it } from 'vitest';
import { formatComparison, warningSentence } from '../../../src/cli/format.js';

const arm = (runs: number, reviewed: number, overridden: number, version: string) => ({
  version,
  runs,
  reviewed,
  overridden,
  overrideRate: reviewed ? overridden / reviewed : 0,
  overrideRateCI: [0.01, 0.3],
  errors: 0,
  errorRate: 0,
  fallbacks: 0,
  latencyMs: { p50: 10, p95: 20, p99: 30 },
});

const comparison = {
  controlArm: 'randomized',
  analysisUnit: 'run',
  verdict: 'candidate_worse',
  warnings: ['stage_without_randomized_control'],
  arms: { control: arm(246, 188, 11, 'v1'), candidate: arm(421, 346, 76, 'v2') },
  difference: { overrideRate: { estimate: 0.1761, alwaysValidCI: [0.0197, 0.3338], alwaysValidPValue: 0.0227 } },
  byStage: [
    {
      stage: 0,
      environments: ['staging'],
      percent: 100,
      splitBy: 'tenant',
      controlArm: 'baseline',
      arms: { control: arm(0, 0, 0, 'v1'), candidate: arm(200, 167, 34, 'v2') },
      difference: { overrideRate: { estimate: 0 } },
    },
    {
      stage: 1,
      environments: ['prod'],
      percent: 50,
      splitBy: 'unit',
      controlArm: 'randomized',
      arms: { control: arm(246, 188, 11, 'v1'), candidate: arm(221, 179, 42, 'v2') },
      difference: { overrideRate: { estimate: 42 / 179 - 11 / 188 } },
    },
  ],
  guardrails: [
    {
      metric: 'override_rate',
      limit: 'maxIncrease',
      quantity: 'rate_difference',
      threshold: 0.03,
      bound: 0.0358,
      samples: 1,
      minSamples: 1,
      status: 'breached',
    },
  ],
};

describe('formatComparison', () => {
  const text = formatComparison(comparison);

  it('says the arms count every stage, and shows each stage with its own arms and difference', () => {
    expect(text).toContain('arms: every run of the rollout by its assigned arm, all 2 stages');
    expect(text).toMatch(/stage 1 \(staging, all tenants, 100%\)\s+–\s+200 runs, 167 reviewed, 20\.4%\s+no randomized control/);
    expect(text).toMatch(
      /stage 2 \(prod, all tenants, 50% by unit\)\s+246 runs, 188 reviewed, 5\.9%\s+221 runs, 179 reviewed, 23\.5%\s+\+17\.6 points/,
    );
  });

  it('prints the headline difference in points with a signed interval, over the stages it counts', () => {
    // 23.5% − 5.9% in stage 2 is the +17.6 of the headline: the figures agree.
    expect(text).toContain(
      'difference in override rate (candidate − control) (over the stages with a randomized control, stratified by stage): +17.6 points, always-valid 95% interval [+2.0, +33.4] points, p = 0.023',
    );
    expect(text).not.toMatch(/interval \[2\.0%/);
  });

  it('names the stage a warning is about, in words, and counts one sample as one', () => {
    expect(text).toContain(
      'warning: stage 1 (staging, all tenants, 100%) sent all its traffic to the candidate, so it has no randomized control: its runs count in the candidate arm, not in the difference.',
    );
    expect(text).not.toContain('warning: stage_without_randomized_control');
    expect(text).toContain('1 sample');
    expect(text).not.toContain('1 samples');
    expect(warningSentence('review_rate_imbalance')).toMatch(/review rates differ/);
    expect(warningSentence('something_new')).toBe('something_new');
  });
});

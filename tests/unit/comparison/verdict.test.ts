import { describe, expect, it } from 'vitest';
import {
  decideVerdict,
  MIN_REVIEWED_PER_ARM,
  MIN_TENANTS_PER_ARM,
  tooFewTenants,
  type VerdictInput,
} from '../../../src/domain/comparison/verdict.js';

const base: VerdictInput = {
  controlArm: 'randomized',
  analysisUnit: 'run',
  reviewed: { control: 100, candidate: 100 },
  tenants: { control: 0, candidate: 0 },
  alwaysValidCI: [0.01, 0.2],
};

describe('verdict', () => {
  it('is insufficient_data until each arm has 100 reviewed runs', () => {
    expect(MIN_REVIEWED_PER_ARM).toBe(100);
    expect(decideVerdict({ ...base, reviewed: { control: 99, candidate: 5000 } })).toBe('insufficient_data');
    expect(decideVerdict({ ...base, reviewed: { control: 5000, candidate: 99 } })).toBe('insufficient_data');
    expect(decideVerdict(base)).toBe('candidate_worse');
  });

  it('reads the always-valid interval of candidate − control override rate', () => {
    expect(decideVerdict({ ...base, alwaysValidCI: [0.001, 0.3] })).toBe('candidate_worse');
    expect(decideVerdict({ ...base, alwaysValidCI: [-0.3, -0.001] })).toBe('candidate_better');
    expect(decideVerdict({ ...base, alwaysValidCI: [-0.1, 0.1] })).toBe('no_significant_difference');
    // An interval touching 0 does not exclude it.
    expect(decideVerdict({ ...base, alwaysValidCI: [0, 0.1] })).toBe('no_significant_difference');
    expect(decideVerdict({ ...base, alwaysValidCI: [-0.1, 0] })).toBe('no_significant_difference');
  });

  it('withholds significance with fewer than 10 tenants per arm when whole tenants were assigned', () => {
    expect(MIN_TENANTS_PER_ARM).toBe(10);
    const tenantLevel = { ...base, analysisUnit: 'tenant' as const };
    expect(decideVerdict({ ...tenantLevel, tenants: { control: 9, candidate: 40 } })).toBe('insufficient_data');
    expect(decideVerdict({ ...tenantLevel, tenants: { control: 40, candidate: 9 } })).toBe('insufficient_data');
    expect(decideVerdict({ ...tenantLevel, tenants: { control: 10, candidate: 10 } })).toBe('candidate_worse');
    expect(tooFewTenants({ analysisUnit: 'tenant', tenants: { control: 3, candidate: 3 } })).toBe(true);
    // Per-run analysis (unit splits) has no tenant rule.
    expect(tooFewTenants({ analysisUnit: 'run', tenants: { control: 1, candidate: 1 } })).toBe(false);
    expect(decideVerdict({ ...base, tenants: { control: 1, candidate: 1 } })).toBe('candidate_worse');
  });

  it('never calls a winner against a baseline', () => {
    const baseline = { ...base, controlArm: 'baseline' as const };
    expect(decideVerdict({ ...baseline, alwaysValidCI: [0.2, 0.4] })).toBe('no_significant_difference');
    expect(decideVerdict({ ...baseline, alwaysValidCI: [-0.4, -0.2] })).toBe('no_significant_difference');
    expect(decideVerdict({ ...baseline, reviewed: { control: 10, candidate: 500 } })).toBe('insufficient_data');
  });
});

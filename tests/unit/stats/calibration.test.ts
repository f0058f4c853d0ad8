/**
 * The calibration grid in small (the full one is `npm run calibrate`, in the README): A/A
 * rollouts of an identical candidate, the override_rate guardrail at maxIncrease 0 looked at
 * after every 20 new candidate reviews once each arm has 100, must roll back at most α of the
 * time (within 3 Monte Carlo standard errors) at every base rate, share, alpha and split kind;
 * and a real regression must be caught as fast as before. Seeded: the same figures every run.
 */
import { describe, expect, it } from 'vitest';
import { aaMargin, runAaCell, runPowerCell, type AaCell, type GridSettings } from '../../../src/domain/stats/calibration/grid.js';
import { overrideGuardrailDecide } from '../../../src/domain/stats/calibration/deciders.js';
import { simulate, type Scenario, type SimState } from '../../../src/domain/stats/calibration/simulate.js';
import { newcombeBoundsAtZ, normalQuantile } from '../../../src/domain/stats/index.js';

const unitSettings: GridSettings = { sequences: 600, seed: 15, horizon: 4000, checkEvery: 20, minSamples: 100, maxIncrease: 0 };
const tenantSettings: GridSettings = { ...unitSettings, sequences: 120, horizon: 2500 };

describe('calibration: A/A false rollbacks stay at most alpha (small grid)', () => {
  const unitCells: AaCell[] = [
    { splitBy: 'unit', baseRate: 0.001, share: 0.01, alpha: 0.05 },
    { splitBy: 'unit', baseRate: 0.005, share: 0.1, alpha: 0.05 },
    { splitBy: 'unit', baseRate: 0.02, share: 0.1, alpha: 0.0125 },
    { splitBy: 'unit', baseRate: 0.1, share: 0.5, alpha: 0.05 },
    { splitBy: 'unit', baseRate: 0.3, share: 0.01, alpha: 0.01 },
    { splitBy: 'unit', baseRate: 0.5, share: 0.5, alpha: 0.001 },
  ];
  it.each(unitCells.map((c) => [`${c.baseRate} at ${c.share * 100}%, α ${c.alpha}`, c] as const))(
    'per run: %s',
    (_, cell) => {
      const r = runAaCell(cell, unitSettings);
      expect(r.sequences).toBe(unitSettings.sequences);
      expect(r.rate).toBeLessThanOrEqual(cell.alpha + aaMargin(cell.alpha, r.sequences));
    },
    120_000,
  );

  it('the same check fails a fixed-horizon bound looked at this often (the harness can tell)', () => {
    const naive = (s: SimState) => ({
      breached:
        newcombeBoundsAtZ(s.candidate.overridden, s.candidate.reviewed, s.control.overridden, s.control.reviewed, normalQuantile(0.95))
          .interval[0] > 0,
    });
    const r = runAaCell({ splitBy: 'unit', baseRate: 0.1, share: 0.5, alpha: 0.05 }, { ...unitSettings, sequences: 200 }, naive);
    expect(r.rate).toBeGreaterThan(0.05 + aaMargin(0.05, r.sequences));
  }, 120_000);

  const tenantCells: AaCell[] = [
    { splitBy: 'tenant', baseRate: 0.1, share: 0.5, alpha: 0.05, tenants: 40, tenantSpread: 0.1 },
    { splitBy: 'tenant', baseRate: 0.3, share: 0.5, alpha: 0.05, tenants: 100, tenantSpread: 0.05 },
    { splitBy: 'tenant', baseRate: 0.1, share: 0.1, alpha: 0.05, tenants: 200, tenantSpread: 0.1 },
  ];
  it.each(tenantCells.map((c) => [`${c.tenants} tenants (SD ${c.tenantSpread}) at ${c.share * 100}%, base ${c.baseRate}`, c] as const))(
    'per tenant: %s',
    (_, cell) => {
      const r = runAaCell(cell, tenantSettings);
      expect(r.rate).toBeLessThanOrEqual(cell.alpha + aaMargin(cell.alpha, r.sequences));
    },
    120_000,
  );
});

describe("calibration: power at the issue's reference case", () => {
  it('10% → 20% is rolled back in every sequence, median within ~320 candidate reviews (10% and 50% shares)', () => {
    for (const share of [0.1, 0.5]) {
      const r = runPowerCell(
        { splitBy: 'unit', baseRate: 0.1, share, alpha: 0.05, candidateRate: 0.2, maxIncrease: 0 },
        { ...unitSettings, sequences: 150 },
      );
      expect(r.caught).toBe(1);
      // Measured with this seed: median 141 (10%), 200 (50%) candidate reviews.
      expect(r.medianCandidateReviewed).toBeLessThanOrEqual(320);
    }
  }, 120_000);

  it('per tenant, 100 tenants with SD 0.05: 10% → 20% is caught in at least 90% of sequences', () => {
    const r = runPowerCell(
      { splitBy: 'tenant', baseRate: 0.1, share: 0.5, alpha: 0.05, tenants: 100, tenantSpread: 0.05, candidateRate: 0.2, maxIncrease: 0 },
      { ...tenantSettings, sequences: 80 },
    );
    expect(r.caught).toBeGreaterThanOrEqual(0.9);
  }, 120_000);
});

describe('the simulator', () => {
  const scenario: Scenario = {
    control: { overrideRate: 0.1 },
    share: 0.1,
    splitBy: 'unit',
    checkEvery: 20,
    horizon: 2000,
    minSamples: 100,
  };
  const decide = overrideGuardrailDecide({ maxIncrease: 0, alpha: 0.05 });

  it('is reproducible, and a budget-truncated run is a prefix of the full one', () => {
    const a = simulate(scenario, decide, { sequences: 20, seed: 3 });
    const b = simulate(scenario, decide, { sequences: 20, seed: 3 });
    expect(b.outcomes).toEqual(a.outcomes);
    let clock = 0;
    const truncated = simulate(scenario, decide, { sequences: 20, seed: 3, budget: { maxMs: 5, now: () => clock++ } });
    expect(truncated.truncated).toBe(true);
    expect(truncated.sequences).toBeLessThan(20);
    expect(truncated.outcomes).toEqual(a.outcomes.slice(0, truncated.sequences));
  });

  it('looks only once both arms have minSamples, and follows the cadence', () => {
    let first: { c: number; t: number } | undefined;
    let looks = 0;
    simulate(
      { ...scenario, horizon: 1000 },
      (s) => {
        first ??= { c: s.candidate.reviewed, t: s.control.reviewed };
        looks++;
        return { breached: false };
      },
      { sequences: 1, seed: 1 },
    );
    expect(first!.c).toBeGreaterThanOrEqual(100);
    expect(first!.t).toBeGreaterThanOrEqual(100);
    // ≈ (1000 − 100)/20 looks after minSamples.
    expect(looks).toBeGreaterThan(30);
    expect(looks).toBeLessThan(60);
  });

  it('rejects impossible scenarios', () => {
    expect(() => simulate({ ...scenario, share: 1 }, decide, { sequences: 1, seed: 1 })).toThrow(RangeError);
    expect(() => simulate({ ...scenario, control: { overrideRate: 1.2 } }, decide, { sequences: 1, seed: 1 })).toThrow(RangeError);
    expect(() => simulate({ ...scenario, splitBy: 'tenant' }, decide, { sequences: 1, seed: 1 })).toThrow(RangeError);
  });
});

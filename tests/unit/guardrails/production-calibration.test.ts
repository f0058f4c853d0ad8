/**
 * Calibration of the PRODUCTION guardrail code (evaluateGuardrails, through the inputs the
 * comparison service builds): A/A rollouts of an identical candidate, looked at after every 20
 * new candidate reviews once both arms have minSamples, roll back at most alpha of the time
 * (within 3 Monte Carlo standard errors). Seeded, a few seconds. The full grid is `npm run
 * calibrate` (README, "Calibration").
 */
import { describe, expect, it } from 'vitest';
import { productionGuardrailDecide } from '../../../src/domain/guardrails/simulated-decide.js';
import { guardrailSchema } from '../../../src/domain/model/rollout-spec.js';
import { aaMargin, runAaCell, runPowerCell, type AaCell, type GridSettings } from '../../../src/domain/stats/calibration/grid.js';

const settings: GridSettings = { sequences: 200, seed: 21, horizon: 1500, checkEvery: 20, minSamples: 100, maxIncrease: 0 };
// The hardest null: maxIncrease 0, an identical candidate sits exactly at the limit.
const atLimit = [guardrailSchema.parse({ metric: 'override_rate', maxIncrease: 0, minSamples: 100 })];

describe('production guardrails: A/A false rollbacks at most alpha', () => {
  const cells: AaCell[] = [
    { splitBy: 'unit', baseRate: 0.005, share: 0.1, alpha: 0.05 },
    { splitBy: 'unit', baseRate: 0.1, share: 0.5, alpha: 0.05 },
    { splitBy: 'unit', baseRate: 0.3, share: 0.1, alpha: 0.01 },
  ];
  it.each(cells.map((c) => [`per run: base ${c.baseRate} at ${c.share * 100}%, α ${c.alpha}`, c] as const))(
    '%s',
    (_, cell) => {
      const r = runAaCell(cell, settings, productionGuardrailDecide(atLimit, cell.alpha));
      expect(r.sequences).toBe(settings.sequences);
      expect(r.rate).toBeLessThanOrEqual(cell.alpha + aaMargin(cell.alpha, r.sequences));
    },
    60_000,
  );

  it('per tenant: 40 tenants (SD 0.1) at 50%, base 0.1', () => {
    const cell: AaCell = { splitBy: 'tenant', baseRate: 0.1, share: 0.5, alpha: 0.05, tenants: 40, tenantSpread: 0.1 };
    const r = runAaCell(cell, { ...settings, sequences: 120 }, productionGuardrailDecide(atLimit, cell.alpha));
    expect(r.rate).toBeLessThanOrEqual(cell.alpha + aaMargin(cell.alpha, r.sequences));
  }, 60_000);

  it('the same harness catches a real regression (10% → 20%) with the production code: it is not silent', () => {
    const r = runPowerCell(
      { splitBy: 'unit', baseRate: 0.1, share: 0.5, alpha: 0.05, candidateRate: 0.2, maxIncrease: 0 },
      { ...settings, sequences: 60 },
      productionGuardrailDecide(atLimit, 0.05),
    );
    expect(r.caught).toBe(1);
  }, 60_000);
});

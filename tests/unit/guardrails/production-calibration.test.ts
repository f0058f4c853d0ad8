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
import { evaluateGuardrails, type GuardrailArmTotals, type GuardrailStratum } from '../../../src/domain/guardrails/guardrail-status.js';
import { aaMargin, runAaCell, runPowerCell, type AaCell, type GridSettings } from '../../../src/domain/stats/calibration/grid.js';
import { createRandom } from '../../../src/domain/stats/index.js';

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

describe('production guardrails: A/A over two stages whose base rate drifts (the stratified read)', () => {
  const arm = (): GuardrailArmTotals => ({ runs: 0, errors: 0, reviewed: 0, overridden: 0, latencyHist: [] });
  /**
   * Stage 0 at 10% while the base rate is 5%, then stage 1 at 50% at 15% (identical arms in each),
   * 1,500 candidate reviews per stage, a look after every 20; two guardrails (override_rate and
   * error_rate, maxIncrease 0: the hardest null) share alpha by Holm. Pooled into one stratum the same
   * sequences are all rolled back (40 of 40 measured: the candidate's reviews lean to the later,
   * higher-rate stage).
   */
  function falseRollbackRate(sequences: number, alpha: number): number {
    const guardrails = [
      guardrailSchema.parse({ metric: 'override_rate', maxIncrease: 0, minSamples: 100 }),
      guardrailSchema.parse({ metric: 'error_rate', maxIncrease: 0, minSamples: 100 }),
    ];
    const stages = [
      { share: 0.1, overrideRate: 0.05, errorRate: 0.01 },
      { share: 0.5, overrideRate: 0.15, errorRate: 0.03 },
    ];
    let fired = 0;
    for (let k = 0; k < sequences; k++) {
      const random = createRandom(33, k + 1);
      const strata: GuardrailStratum[] = [];
      let breached = false;
      for (const [stage, st] of stages.entries()) {
        const stratum: GuardrailStratum = { stage, share: st.share, control: arm(), candidate: arm() };
        strata.push(stratum);
        const batch = Math.round(20 / st.share);
        while (!breached && stratum.candidate.reviewed < 1500) {
          const c = random.binomial(batch, st.share);
          for (const [a, n] of [
            [stratum.candidate, c],
            [stratum.control, batch - c],
          ] as const) {
            const errors = random.binomial(n, st.errorRate);
            a.runs += n;
            a.errors += errors;
            a.reviewed += n - errors;
            a.overridden += random.binomial(n - errors, st.overrideRate);
          }
          const checks = evaluateGuardrails(guardrails, { controlArm: 'randomized', strata, plannedStrata: 2 }, alpha, { bounds: false });
          breached = checks.some((g) => g.status === 'breached');
        }
      }
      if (breached) fired++;
    }
    return fired / sequences;
  }

  it('false rollbacks stay at most alpha', () => {
    const sequences = 150;
    const rate = falseRollbackRate(sequences, 0.05);
    expect(rate).toBeLessThanOrEqual(0.05 + aaMargin(0.05, sequences));
  }, 120_000);
});

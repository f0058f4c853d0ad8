/**
 * `npm run calibrate`: the Monte Carlo calibration of the guardrail statistics (issue 15), printed
 * as Markdown for the README (the power table first: its cells are cheap):
 *   1. A/A false-rollback rates of an identical candidate, the guardrail at its hardest setting
 *      (override_rate, maxIncrease 0), looked at after every 20 new candidate reviews once each arm
 *      has 100, up to 20,000 candidate reviews: per run (unit splits) over base rates × candidate
 *      shares × alpha, and per tenant (tenant splits) over base rates × tenant SD × tenants;
 *   2. the power table: how often and how fast a worse candidate is rolled back, with the
 *      asymptotic sequence the guardrails used before (issue 15) for comparison.
 * Pure and seeded (src/domain/stats/calibration): the same figures on every machine for the same
 * number of sequences per cell.
 * Knobs (environment): CALIBRATE_SEQUENCES (default 1000), CALIBRATE_ONLY (aa-unit, aa-tenant,
 * power, legacy; comma-separated), CALIBRATE_SEED, CALIBRATE_MAX_MINUTES (default 20),
 * CALIBRATE_DECIDER (`stats`, the default: the statistical core; `production`: the production
 * evaluateGuardrails through the inputs the comparison service builds,
 * src/domain/guardrails/simulated-decide.ts, slower).
 *
 * Bounded in time: the run has CALIBRATE_MAX_MINUTES of wall time, shared out as it goes (each
 * cell may use the time left divided by the cells left, so cells that finish early leave their
 * time to the others); a cell out of time stops after fewer sequences (a prefix of the full one,
 * each sequence drawing its own substream) and its row says how many ran. Each table is printed
 * as soon as it is done. On a shared machine run it at low priority: `nice -n 19 npm run calibrate`.
 */
import { performance } from 'node:perf_hooks';
import { alwaysValidDifferenceBound } from '../src/domain/stats/always-valid-proportions.js';
import {
  aaMarkdown,
  DEFAULT_GRID_SETTINGS,
  fullAaGrid,
  fullPowerGrid,
  powerMarkdown,
  runAaCell,
  runPowerCell,
  type AaResult,
  type GridSettings,
  type PowerResult,
} from '../src/domain/stats/calibration/grid.js';
import type { Budget, Decide } from '../src/domain/stats/calibration/simulate.js';
import { productionGuardrailDecide } from '../src/domain/guardrails/simulated-decide.js';
import { guardrailSchema } from '../src/domain/model/rollout-spec.js';

const env = process.env;
const sequences = Number(env.CALIBRATE_SEQUENCES ?? DEFAULT_GRID_SETTINGS.sequences);
const only = (env.CALIBRATE_ONLY ?? 'aa-unit,aa-tenant,power,legacy').split(',').map((s) => s.trim());
const settings: GridSettings = { ...DEFAULT_GRID_SETTINGS, sequences, seed: Number(env.CALIBRATE_SEED ?? DEFAULT_GRID_SETTINGS.seed) };
const tenantSettings: GridSettings = { ...settings, sequences: Math.max(100, Math.round(sequences / 2)), horizon: 5000 };
const maxMinutes = Number(env.CALIBRATE_MAX_MINUTES ?? 20);

/** The guardrail as it was before issue 15: the asymptotic normal-mixture bound, per run. */
function legacyDecide(maxIncrease: number, alpha: number): Decide {
  return (s) => ({
    breached:
      alwaysValidDifferenceBound(s.candidate.overridden, s.candidate.reviewed, s.control.overridden, s.control.reviewed, 'lower', { alpha })
        .bound > maxIncrease,
  });
}

/** The production guardrail code with one override_rate guardrail, or undefined for the statistical core. */
function deciderFor(maxIncrease: number, alpha: number): Decide | undefined {
  if (env.CALIBRATE_DECIDER !== 'production') return undefined;
  return productionGuardrailDecide(
    [guardrailSchema.parse({ metric: 'override_rate', maxIncrease, minSamples: settings.minSamples })],
    alpha,
  );
}

function progress(done: number, total: number, started: number): void {
  const s = (performance.now() - started) / 1000;
  process.stderr.write(`\r${done}/${total} cells, ${s.toFixed(0)} s`);
}

const started = performance.now();
const deadline = started + maxMinutes * 60_000;
const cells = fullAaGrid();
const legacyCells = [
  { splitBy: 'unit' as const, baseRate: 0.005, share: 0.1, alpha: 0.05 },
  { splitBy: 'unit' as const, baseRate: 0.02, share: 0.1, alpha: 0.0125 },
];
const powerGrid = only.includes('power') ? fullPowerGrid() : [];
let cellsLeft =
  cells.filter((c) => only.includes(`aa-${c.splitBy}`)).length +
  powerGrid.length +
  (only.includes('legacy') ? powerGrid.filter((c) => c.splitBy === 'unit').length + legacyCells.length : 0);

/** This cell's share of the time left: the time left over the cells left. */
function nextBudget(): Budget {
  const now = performance.now();
  const share = Math.max(0, deadline - now) / Math.max(1, cellsLeft);
  cellsLeft--;
  return { maxMs: share, now: () => performance.now() };
}

/** Prints a section at once, so that a run stopped later keeps what is done. */
function emit(...lines: string[]): void {
  process.stderr.write('\n');
  console.log(lines.join('\n'));
}

// The power and legacy cells stop at their first rollback: cheap. Run first, they leave the time
// they do not use to the A/A cells, which run every sequence to its end.
if (only.includes('power')) {
  const grid = powerGrid;
  const results: PowerResult[] = [];
  const legacy: PowerResult[] = [];
  for (const c of grid) {
    results.push(runPowerCell(c, c.splitBy === 'unit' ? settings : tenantSettings, deciderFor(c.maxIncrease, c.alpha), nextBudget()));
    if (only.includes('legacy') && c.splitBy === 'unit')
      legacy.push(runPowerCell(c, settings, legacyDecide(c.maxIncrease, c.alpha), nextBudget()));
    progress(results.length, grid.length, started);
  }
  emit('### Power: how often and how fast a worse candidate is rolled back\n', powerMarkdown(results), '');
  if (legacy.length > 0)
    emit(
      'Before issue 15 (asymptotic sequence, not valid at small rates), same scenarios:\n',
      powerMarkdown(legacy, 'asymptotic (old)'),
      '',
    );
}
if (only.includes('legacy')) {
  const results = legacyCells.map((c) => runAaCell(c, settings, legacyDecide(0, c.alpha), nextBudget()));
  emit('The old asymptotic bound on the A/A cells of issue 15 (same simulation):\n', aaMarkdown(results), '');
}
for (const kind of ['unit', 'tenant'] as const) {
  if (!only.includes(`aa-${kind}`)) continue;
  const mine = cells.filter((c) => c.splitBy === kind);
  const results: AaResult[] = [];
  for (const c of mine) {
    results.push(runAaCell(c, kind === 'unit' ? settings : tenantSettings, deciderFor(settings.maxIncrease, c.alpha), nextBudget()));
    progress(results.length, mine.length, started);
  }
  const worst = results.reduce((w, r) => (r.rate - r.alpha > w.rate - w.alpha ? r : w));
  emit(
    `### A/A false rollbacks, ${kind === 'unit' ? 'per run (splitBy: unit)' : 'per tenant (splitBy: tenant)'}\n`,
    aaMarkdown(results),
    `\n${results.filter((r) => r.withinAlpha).length} of ${results.length} cells within α + 3 Monte Carlo SE; largest excess over α: ${((worst.rate - worst.alpha) * 100).toFixed(2)} points (${worst.baseRate}, share ${worst.share}, α ${worst.alpha}).\n`,
  );
}
emit(
  `_Up to ${sequences} sequences per per-run cell, ${tenantSettings.sequences} per tenant cell (fewer where a row says so: the ${maxMinutes}-minute time cap); seed ${settings.seed}; ${((performance.now() - started) / 60000).toFixed(1)} min._`,
);

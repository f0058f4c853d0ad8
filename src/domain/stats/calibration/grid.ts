/**
 * The calibration grid: A/A false-rollback rates over base rates × candidate shares × alpha ×
 * split kinds, and the power table; shared by `npm run calibrate` (the README's figures) and the
 * test suite's small grid. Each cell simulates the guardrail's decision (deciders.ts, or any
 * `Decide` the caller passes: the planner passes the production code) under the production
 * cadence: a look after every `checkEvery` new candidate reviews once both arms have minSamples.
 */
import { overrideGuardrailDecide } from './deciders.js';
import { breachQuantile, fireRate, simulate, type Budget, type Decide, type Scenario } from './simulate.js';

export interface AaCell {
  readonly splitBy: 'unit' | 'tenant';
  readonly baseRate: number;
  readonly share: number;
  readonly alpha: number;
  /** Tenant splits: tenants in the stage and the SD of their own rates. */
  readonly tenants?: number;
  readonly tenantSpread?: number;
}

export interface GridSettings {
  readonly sequences: number;
  readonly seed: number;
  /** Candidate reviewed runs per sequence. */
  readonly horizon: number;
  readonly checkEvery: number;
  readonly minSamples: number;
  /** The guardrail's maxIncrease: 0 is the hardest null (an identical candidate at the limit). */
  readonly maxIncrease: number;
}

export const DEFAULT_GRID_SETTINGS: GridSettings = {
  sequences: 1000,
  seed: 15,
  horizon: 20_000,
  checkEvery: 20,
  minSamples: 100,
  maxIncrease: 0,
};

export interface AaResult extends AaCell {
  readonly sequences: number;
  readonly falseRollbacks: number;
  readonly rate: number;
  readonly standardError: number;
  /** rate ≤ alpha + 3 standard errors of a rate equal to alpha. */
  readonly withinAlpha: boolean;
}

export function scenarioOf(cell: AaCell, settings: GridSettings, candidateRate?: number): Scenario {
  return {
    control: { overrideRate: cell.baseRate },
    ...(candidateRate !== undefined ? { candidate: { overrideRate: candidateRate } } : {}),
    share: cell.share,
    splitBy: cell.splitBy,
    ...(cell.splitBy === 'tenant'
      ? { tenants: cell.tenants ?? 40, tenantSpread: cell.tenantSpread ?? 0, tenantSizeSpread: 1, exactTenantSplit: true }
      : {}),
    checkEvery: settings.checkEvery,
    horizon: settings.horizon,
    minSamples: settings.minSamples,
  };
}

/** Monte Carlo margin used throughout: a rate is calibrated when ≤ α + 3·√(α(1−α)/n). */
export function aaMargin(alpha: number, sequences: number): number {
  return 3 * Math.sqrt((alpha * (1 - alpha)) / sequences);
}

/**
 * `budget` (optional) bounds a cell's time: the sequences run stop when it is spent, and the
 * result says how many ran (a prefix of the full cell: sequence i always draws substream i).
 */
export function runAaCell(cell: AaCell, settings: GridSettings, decide?: Decide, budget?: Budget): AaResult {
  const d = decide ?? overrideGuardrailDecide({ maxIncrease: settings.maxIncrease, alpha: cell.alpha });
  const result = simulate(scenarioOf(cell, settings), d, {
    sequences: settings.sequences,
    seed: settings.seed,
    ...(budget ? { budget } : {}),
  });
  const f = fireRate(result);
  return {
    ...cell,
    sequences: result.sequences,
    falseRollbacks: f.fired,
    rate: f.rate,
    standardError: f.standardError,
    withinAlpha: f.rate <= cell.alpha + aaMargin(cell.alpha, result.sequences),
  };
}

export interface PowerCell extends AaCell {
  readonly candidateRate: number;
  readonly maxIncrease: number;
}

export interface PowerResult extends PowerCell {
  readonly sequences: number;
  /** Share of sequences rolled back within the horizon. */
  readonly caught: number;
  readonly medianCandidateReviewed?: number;
  readonly p90CandidateReviewed?: number;
}

export function runPowerCell(cell: PowerCell, settings: GridSettings, decide?: Decide, budget?: Budget): PowerResult {
  const d = decide ?? overrideGuardrailDecide({ maxIncrease: cell.maxIncrease, alpha: cell.alpha });
  const result = simulate(scenarioOf(cell, settings, cell.candidateRate), d, {
    sequences: settings.sequences,
    seed: settings.seed,
    ...(budget ? { budget } : {}),
  });
  const median = breachQuantile(result, 0.5);
  const p90 = breachQuantile(result, 0.9);
  return {
    ...cell,
    sequences: result.sequences,
    caught: fireRate(result).rate,
    ...(median !== undefined ? { medianCandidateReviewed: median } : {}),
    ...(p90 !== undefined ? { p90CandidateReviewed: p90 } : {}),
  };
}

/** The full A/A grid of the README. */
export function fullAaGrid(): AaCell[] {
  const cells: AaCell[] = [];
  for (const alpha of [0.05, 0.01, 0.001]) {
    for (const baseRate of [0.001, 0.005, 0.02, 0.1, 0.3, 0.5]) {
      for (const share of [0.01, 0.1, 0.5]) cells.push({ splitBy: 'unit', baseRate, share, alpha });
    }
  }
  for (const alpha of [0.05, 0.01]) {
    for (const baseRate of [0.01, 0.1, 0.3]) {
      for (const tenantSpread of [0, 0.05, 0.1]) {
        for (const [tenants, share] of [
          [40, 0.5],
          [100, 0.5],
          [400, 0.5],
          [200, 0.1],
        ] as const) {
          cells.push({ splitBy: 'tenant', baseRate, share, alpha, tenants, tenantSpread });
        }
      }
    }
  }
  return cells;
}

/** The power table of the README: the reference case and its neighbours. */
export function fullPowerGrid(): PowerCell[] {
  const cells: PowerCell[] = [];
  for (const share of [0.01, 0.1, 0.5]) {
    for (const [candidateRate, maxIncrease] of [
      [0.2, 0],
      [0.2, 0.03],
      [0.15, 0],
      [0.13, 0],
    ] as const) {
      cells.push({ splitBy: 'unit', baseRate: 0.1, share, alpha: 0.05, candidateRate, maxIncrease });
    }
  }
  cells.push({ splitBy: 'unit', baseRate: 0.005, share: 0.1, alpha: 0.05, candidateRate: 0.015, maxIncrease: 0.005 });
  cells.push({ splitBy: 'unit', baseRate: 0.02, share: 0.1, alpha: 0.0125, candidateRate: 0.04, maxIncrease: 0.01 });
  for (const [tenants, tenantSpread] of [
    [40, 0.05],
    [100, 0.05],
    [100, 0.1],
    [400, 0.1],
  ] as const) {
    cells.push({ splitBy: 'tenant', baseRate: 0.1, share: 0.5, alpha: 0.05, tenants, tenantSpread, candidateRate: 0.2, maxIncrease: 0 });
  }
  return cells;
}

const pct = (x: number) => `${(100 * x).toFixed(x < 0.01 ? 2 : 1)}%`;

export function aaMarkdown(results: readonly AaResult[]): string {
  const lines = [
    '| split | base rate | candidate share | tenants (SD) | alpha | sequences | false rollbacks | rate | ≤ α + 3 SE |',
    '| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | :---: |',
  ];
  for (const r of results) {
    const tenants = r.splitBy === 'tenant' ? `${r.tenants} (${r.tenantSpread})` : '—';
    lines.push(
      `| ${r.splitBy} | ${r.baseRate} | ${pct(r.share)} | ${tenants} | ${r.alpha} | ${r.sequences} | ${r.falseRollbacks} | ${pct(r.rate)} | ${r.withinAlpha ? 'yes' : '**no**'} |`,
    );
  }
  return lines.join('\n');
}

export function powerMarkdown(results: readonly PowerResult[], label = 'finite-sample'): string {
  const lines = [
    `| method | split | control → candidate | maxIncrease | candidate share | tenants (SD) | alpha | sequences | caught | median candidate reviews | p90 |`,
    '| --- | --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of results) {
    const tenants = r.splitBy === 'tenant' ? `${r.tenants} (${r.tenantSpread})` : '—';
    lines.push(
      `| ${label} | ${r.splitBy} | ${r.baseRate} → ${r.candidateRate} | ${r.maxIncrease} | ${pct(r.share)} | ${tenants} | ${r.alpha} | ${r.sequences} | ${pct(r.caught)} | ${r.medianCandidateReviewed ?? '—'} | ${r.p90CandidateReviewed ?? '—'} |`,
    );
  }
  return lines.join('\n');
}

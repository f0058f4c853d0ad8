/**
 * Monte Carlo simulation of a rollout's guardrail and verdict decisions (pure and seeded): the
 * engine behind the calibration grid (`npm run calibrate`, tests/unit/stats/calibration.test.ts)
 * and the rollout planner.
 *
 * One simulated sequence is one rollout stage with a randomized control: runs arrive in batches;
 * each batch is sized so that the candidate arm gains `checkEvery` reviewed runs on average, and
 * the decision function is called after every batch once both arms have `minSamples`, the way the
 * guardrail job re-reads the running totals after feedback arrives. Whole tenants (`splitBy:
 * "tenant"`) are assigned to one arm at the start, each with its own traffic weight and its own
 * rates (drawn around the arm's rate with `tenantSpread`), so runs of a tenant are correlated.
 * The decision function gets the same totals production reads (per arm, and per tenant), so the
 * planner can pass the production guardrail and verdict code itself.
 *
 * The planner drives the same sequences by the clock instead (`runsPerBatch` runs between looks
 * for `maxBatches` looks: runs per day and the guardrail job's period), may compare a 100% stage
 * with a baseline of the same volume (`baselineControl`), and follows the verdict past a breach
 * (`continueAfterBreach`); the calibration grid sets none of these. It steps each sequence a batch
 * at a time (`startSequence`), to stop within its time budget.
 *
 * Time is bounded by `budget`: an injected clock and a limit; the answer says how many sequences
 * ran. No Date, no Math.random: same seed, same figures.
 */
import { createRandom, type Random } from '../random.js';

/** Rates of one arm. Rates outside [0, 1] are rejected. */
export interface ArmRates {
  /** Overridden / reviewed. */
  readonly overrideRate: number;
  /** Errors / runs (default 0). */
  readonly errorRate?: number;
  /** Reviewed / finished runs (default 1: every run reviewed). */
  readonly reviewRate?: number;
}

export interface Scenario {
  readonly control: ArmRates;
  /** Omitted: an identical candidate (A/A). Missing fields default to the control's. */
  readonly candidate?: Partial<ArmRates>;
  /** The stage's candidate share (percent / 100), 0 < share < 1. */
  readonly share: number;
  readonly splitBy: 'unit' | 'tenant';
  /** Tenants in the stage (tenant splits; unit splits ignore it). */
  readonly tenants?: number;
  /** Standard deviation of tenants' own rates around the arm's rate (capped for the Beta law). */
  readonly tenantSpread?: number;
  /**
   * Tenant splits: assign exactly round(share · tenants) tenants to the candidate (a fixed arm
   * size, the hardest case at a size limit) instead of each tenant by a coin with P = share.
   */
  readonly exactTenantSplit?: boolean;
  /** Spread of tenants' traffic: standard deviation of log-weights (0: equal traffic). */
  readonly tenantSizeSpread?: number;
  /** New candidate reviewed runs between two looks (on average). */
  readonly checkEvery: number;
  /** The sequence ends when the candidate arm has this many reviewed runs. */
  readonly horizon: number;
  /** No decision before each arm has this many of the metric's denominator (reviewed runs). */
  readonly minSamples: number;
  /** Each tenant's pre-rollout reviewed runs (for CUPED), drawn at its own rate; 0: none. */
  readonly preRolloutRunsPerTenant?: number;
  /**
   * Clock-driven cadence (the planner): finished runs of the stage between two looks, possibly
   * fractional (carried over: look k adds ⌊k·r⌋ − ⌊(k−1)·r⌋). Set, it replaces the batch that
   * `checkEvery` derives, and `maxBatches` ends the sequence (with `horizon`, whichever first).
   */
  readonly runsPerBatch?: number;
  readonly maxBatches?: number;
  /**
   * The control is a baseline of the same volume (a 100% stage, share 1): every batch sends all
   * its runs to the candidate and as many control runs to the baseline (unit splits only).
   */
  readonly baselineControl?: boolean;
  /**
   * Keep simulating after a breach until the verdict is decisive or the sequence ends, so that
   * the verdict's figures describe the rollout as if it ran its course (the planner's verdict).
   */
  readonly continueAfterBreach?: boolean;
}

/** Running totals of one arm, as the rollups hold them. */
export interface SimArm {
  runs: number;
  errors: number;
  reviewed: number;
  overridden: number;
}

/** One tenant's totals (tenant splits). */
export interface SimTenant extends SimArm {
  readonly tenant: string;
  readonly arm: 'candidate' | 'control';
  /** Reviewed and overridden runs before the rollout (CUPED), when simulated. */
  readonly pre?: { readonly reviewed: number; readonly overridden: number };
}

/** What a decision function sees at a look. */
export interface SimState {
  readonly scenario: Scenario;
  readonly candidate: SimArm;
  readonly control: SimArm;
  /** Tenant splits: every tenant of the stage with its arm and totals. */
  readonly tenants?: readonly SimTenant[];
  /** Looks so far, this one included. */
  readonly look: number;
  /** Batches so far (clock ticks of a clock-driven cadence), this one included. */
  readonly batch: number;
  /** What this sequence has already settled: a decision function may skip work it no longer needs. */
  readonly settled: { readonly breached: boolean; readonly verdict: boolean };
}

export type Verdict = 'insufficient_data' | 'candidate_better' | 'candidate_worse' | 'no_significant_difference';

/** A decision at one look: did a guardrail breach (which ones), and the verdict. */
export interface Decision {
  readonly breached: boolean;
  /** Per guardrail check, in order (for "which guardrail fired"). */
  readonly breachedChecks?: readonly boolean[];
  readonly verdict?: Verdict;
}

export type Decide = (state: SimState) => Decision;

/** The outcome of one sequence. */
export interface SequenceOutcome {
  /** Candidate reviewed runs at the first breach; undefined: never breached. */
  readonly breachedAt?: number;
  readonly breachedChecks?: readonly boolean[];
  /** Look index at the first breach. */
  readonly breachedLook?: number;
  /** Batch index at the first breach (the clock of a clock-driven cadence). */
  readonly breachedBatch?: number;
  /** First decisive verdict (worse or better) and when (candidate reviewed runs, look, batch). */
  readonly verdict?: { readonly verdict: Verdict; readonly at: number; readonly look: number; readonly batch: number };
  /** Candidate reviewed runs when the sequence ended. */
  readonly endedAt: number;
  readonly looks: number;
}

export interface Budget {
  /** Milliseconds, read from `now`. */
  readonly maxMs: number;
  readonly now: () => number;
}

export interface SimulationResult {
  readonly sequences: number;
  readonly outcomes: readonly SequenceOutcome[];
  /** True when the budget stopped the run before `sequences` were done. */
  readonly truncated: boolean;
}

function assertRate(name: string, r: number | undefined): void {
  if (r !== undefined && !(r >= 0 && r <= 1)) throw new RangeError(`${name} must be in [0, 1], got ${r}`);
}

export function assertScenario(s: Scenario): void {
  assertRate('control.overrideRate', s.control.overrideRate);
  assertRate('control.errorRate', s.control.errorRate);
  assertRate('control.reviewRate', s.control.reviewRate);
  assertRate('candidate.overrideRate', s.candidate?.overrideRate);
  assertRate('candidate.errorRate', s.candidate?.errorRate);
  assertRate('candidate.reviewRate', s.candidate?.reviewRate);
  if (s.baselineControl) {
    if (s.share !== 1 || s.splitBy !== 'unit') throw new RangeError('a baseline control needs share 1 and a unit split');
  } else if (!(s.share > 0 && s.share < 1)) throw new RangeError(`share must be in (0, 1), got ${s.share}`);
  if (s.runsPerBatch !== undefined) {
    if (!(s.runsPerBatch > 0 && Number.isFinite(s.runsPerBatch))) throw new RangeError(`runsPerBatch must be > 0, got ${s.runsPerBatch}`);
    if (!(s.maxBatches !== undefined && Number.isInteger(s.maxBatches) && s.maxBatches >= 1))
      throw new RangeError('a clock-driven cadence needs maxBatches ≥ 1');
  } else if (!(s.checkEvery >= 1)) throw new RangeError(`checkEvery must be at least 1, got ${s.checkEvery}`);
  if (!(s.horizon >= 1)) throw new RangeError(`horizon must be at least 1, got ${s.horizon}`);
  if (s.splitBy === 'tenant' && !(Number.isInteger(s.tenants) && (s.tenants as number) >= 2))
    throw new RangeError(`a tenant split needs tenants ≥ 2, got ${s.tenants}`);
}

interface Rates {
  override: number;
  error: number;
  review: number;
}

function ratesOf(s: Scenario): { control: Rates; candidate: Rates } {
  const control = { override: s.control.overrideRate, error: s.control.errorRate ?? 0, review: s.control.reviewRate ?? 1 };
  const c = s.candidate ?? {};
  return {
    control,
    candidate: {
      override: c.overrideRate ?? control.override,
      error: c.errorRate ?? control.error,
      review: c.reviewRate ?? control.review,
    },
  };
}

/** A tenant's own rate: Beta with the arm's mean and SD `spread` (capped at 0.9 of the largest possible SD). */
function tenantRate(random: Random, mean: number, spread: number): number {
  if (spread <= 0 || mean <= 0 || mean >= 1) return mean;
  const sd = Math.min(spread, 0.9 * Math.sqrt(mean * (1 - mean)));
  const k = (mean * (1 - mean)) / (sd * sd) - 1;
  return random.beta(mean * k, (1 - mean) * k);
}

const emptyArm = (): SimArm => ({ runs: 0, errors: 0, reviewed: 0, overridden: 0 });

/** Adds `runs` runs at the given rates into `into` (and `also`, the arm's total). */
function addRuns(random: Random, runs: number, r: Rates, into: SimArm, also?: SimArm): void {
  if (runs === 0) return;
  const errors = random.binomial(runs, r.error);
  const reviewed = random.binomial(runs - errors, r.review);
  const overridden = random.binomial(reviewed, r.override);
  into.runs += runs;
  into.errors += errors;
  into.reviewed += reviewed;
  into.overridden += overridden;
  if (also) {
    also.runs += runs;
    also.errors += errors;
    also.reviewed += reviewed;
    also.overridden += overridden;
  }
}

interface MutableTenant extends SimArm {
  tenant: string;
  arm: 'candidate' | 'control';
  weight: number;
  rates: Rates;
  pre?: { reviewed: number; overridden: number };
}

/**
 * One sequence under way, advanced a batch at a time (a tick of a clock-driven cadence, and its
 * look): a caller that must bound the time it spends without a pause (the planner: its slices and
 * its time budget, src/domain/planner/plan.ts) stops between any two batches and resumes, since one
 * of its sequences may make 50,000 looks (MAX_PLAN_CHECKS) of up to 40 guardrail checks each.
 * Stepping to the end draws exactly what `simulateSequence` draws, in the same order.
 */
export interface SequenceRun {
  /** Simulates the next batch and decides its look; the outcome once the sequence has ended (and on every call after). */
  step(): SequenceOutcome | undefined;
}

/** Runs one sequence of looks; `decide` is called at every look past minSamples. */
export function simulateSequence(scenario: Scenario, decide: Decide, random: Random): SequenceOutcome {
  const run = startSequence(scenario, decide, random);
  for (;;) {
    const outcome = run.step();
    if (outcome) return outcome;
  }
}

/** Draws a sequence's tenants (tenant splits) and returns it before its first batch. */
export function startSequence(scenario: Scenario, decide: Decide, random: Random): SequenceRun {
  const rates = ratesOf(scenario);
  const candidate = emptyArm();
  const control = emptyArm();
  const candRate = rates.candidate;
  const ctrlRate = rates.control;
  // Total finished runs per look so that the candidate gains checkEvery reviewed runs on average.
  const perRunReviewed = scenario.share * (1 - candRate.error) * candRate.review;
  const fixedBatch = Math.max(1, Math.round(scenario.checkEvery / Math.max(perRunReviewed, 1e-9)));
  const clock = scenario.runsPerBatch;
  const batchSize = (k: number) => (clock === undefined ? fixedBatch : Math.floor(k * clock) - Math.floor((k - 1) * clock));

  let tenants: MutableTenant[] | undefined;
  let weightTotal = 0;
  if (scenario.splitBy === 'tenant') {
    tenants = [];
    const spread = scenario.tenantSpread ?? 0;
    const sizeSpread = scenario.tenantSizeSpread ?? 0;
    const count = scenario.tenants as number;
    const exactCandidates = Math.round(scenario.share * count);
    for (let i = 0; i < count; i++) {
      const arm = (scenario.exactTenantSplit ? i < exactCandidates : random.next() < scenario.share) ? 'candidate' : 'control';
      const base = arm === 'candidate' ? candRate : ctrlRate;
      // A tenant keeps its own habits whichever arm it is in: draw its deviation from the
      // control's rate and shift it by the candidate's difference, so an A/A has equal laws.
      const own = tenantRate(random, ctrlRate.override, spread);
      const override = Math.min(1, Math.max(0, own + (base.override - ctrlRate.override)));
      const t: MutableTenant = {
        tenant: `t${i}`,
        arm,
        weight: Math.exp(sizeSpread * random.normal()),
        rates: { override, error: base.error, review: base.review },
        ...emptyArm(),
      };
      const preRuns = scenario.preRolloutRunsPerTenant ?? 0;
      if (preRuns > 0) {
        // Before the rollout every tenant ran the control: its own rate, shifted back.
        const pre = random.binomial(preRuns, own);
        t.pre = { reviewed: preRuns, overridden: pre };
      }
      weightTotal += t.weight;
      tenants.push(t);
    }
  }

  let look = 0;
  let batchIndex = 0;
  let verdict: SequenceOutcome['verdict'];
  let breach: Pick<SequenceOutcome, 'breachedAt' | 'breachedLook' | 'breachedBatch' | 'breachedChecks'> | undefined;
  let outcome: SequenceOutcome | undefined;
  const ended = (): SequenceOutcome => (outcome = { ...breach, ...(verdict ? { verdict } : {}), endedAt: candidate.reviewed, looks: look });
  const step = (): SequenceOutcome | undefined => {
    if (outcome) return outcome;
    batchIndex++;
    const batch = batchSize(batchIndex);
    if (tenants) {
      // Multinomial split of the batch over tenants by weight (conditional binomials).
      let left = batch;
      let wLeft = weightTotal;
      for (const t of tenants) {
        if (left === 0) break;
        const k = wLeft <= t.weight ? left : random.binomial(left, t.weight / wLeft);
        wLeft -= t.weight;
        left -= k;
        addRuns(random, k, t.rates, t, t.arm === 'candidate' ? candidate : control);
      }
    } else if (scenario.baselineControl) {
      addRuns(random, batch, candRate, candidate);
      addRuns(random, batch, ctrlRate, control);
    } else {
      const k = random.binomial(batch, scenario.share);
      addRuns(random, k, candRate, candidate);
      addRuns(random, batch - k, ctrlRate, control);
    }
    if (candidate.reviewed >= scenario.minSamples && control.reviewed >= scenario.minSamples) {
      look++;
      const settled = { breached: breach !== undefined, verdict: verdict !== undefined };
      const state: SimState = { scenario, candidate, control, look, batch: batchIndex, settled, ...(tenants ? { tenants } : {}) };
      const d = decide(state);
      if (!verdict && (d.verdict === 'candidate_worse' || d.verdict === 'candidate_better')) {
        verdict = { verdict: d.verdict, at: candidate.reviewed, look, batch: batchIndex };
      }
      if (d.breached && !breach) {
        breach = {
          breachedAt: candidate.reviewed,
          breachedLook: look,
          breachedBatch: batchIndex,
          ...(d.breachedChecks ? { breachedChecks: [...d.breachedChecks] } : {}),
        };
        if (!scenario.continueAfterBreach) return ended();
      }
      if (breach && verdict) return ended();
    }
    if (candidate.reviewed >= scenario.horizon) return ended();
    if (scenario.maxBatches !== undefined && batchIndex >= scenario.maxBatches) return ended();
    return undefined;
  };
  return { step };
}

/**
 * Runs `sequences` independent sequences (sequence i draws from substream i of `seed`, so a
 * truncated run is a prefix of the full one).
 */
export function simulate(
  scenario: Scenario,
  decide: Decide,
  options: { sequences: number; seed: number; budget?: Budget },
): SimulationResult {
  assertScenario(scenario);
  const outcomes: SequenceOutcome[] = [];
  const start = options.budget?.now();
  for (let i = 0; i < options.sequences; i++) {
    if (options.budget && start !== undefined && options.budget.now() - start > options.budget.maxMs) {
      return { sequences: i, outcomes, truncated: true };
    }
    outcomes.push(simulateSequence(scenario, decide, createRandom(options.seed, i + 1)));
  }
  return { sequences: options.sequences, outcomes, truncated: false };
}

/** Share of sequences that breached, with its Monte Carlo standard error. */
export function fireRate(result: SimulationResult): { rate: number; standardError: number; fired: number } {
  const n = result.outcomes.length;
  const fired = result.outcomes.filter((o) => o.breachedAt !== undefined).length;
  const rate = n > 0 ? fired / n : 0;
  return { rate, standardError: n > 0 ? Math.sqrt((rate * (1 - rate)) / n) : 0, fired };
}

/** The q-quantile (nearest rank) of the candidate reviewed runs at breach, over breached sequences. */
export function breachQuantile(result: SimulationResult, q: number): number | undefined {
  const at = result.outcomes
    .map((o) => o.breachedAt)
    .filter((x): x is number => x !== undefined)
    .sort((a, b) => a - b);
  if (at.length === 0) return undefined;
  return at[Math.min(at.length - 1, Math.max(0, Math.ceil(q * at.length) - 1))];
}

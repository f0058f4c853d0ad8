/**
 * The rollout planner (README, "Planning a rollout"): before a rollout starts, how likely its
 * guardrails are to roll back an identical candidate, how likely and how fast they catch a given
 * regression, and how long the verdict takes. It runs the calibration simulator
 * (src/domain/stats/calibration/simulate.ts) with a clock-driven cadence (runs arrive at
 * runsPerDay, the guardrail job looks every checkEveryMinutes for `days`) and decides each look
 * with the production code itself (production-guardrails.ts, production-verdict.ts).
 *
 * Seeded: simulation i draws from substream i of `seed` exactly as `simulate` does, so the same
 * request gives the same answer, a plan capped by its time budget is a prefix of the uncapped
 * one, and a plan agrees with the calibration grid's cell on the same inputs.
 *
 * Bounded: a plan stops `budgetMs` after it started and answers with the simulations that ended
 * by then (a prefix; `simulations` says how many, `method` that the budget capped them). A
 * deadline rather than a sum of its own slices: plans at once share the planner's thread, and each
 * still answers in time. It runs in slices of about `sliceMs`, yielding between them, so that
 * those plans take turns. Both are kept to within one batch of a simulated rollout
 * (`startSequence`): a whole rollout is up to 50,000 looks of up to 40 guardrail checks, seconds
 * to hours. A look itself cannot be cut: on a tenant split it reads every tenant (10,000 tenants
 * and 20 guardrails: about 0.4 s), which is why the gateway runs plans on a thread of their own
 * (src/runtime/planner-thread/), not on the event loop that answers invokes.
 */
import type { PlanRequest } from '../model/plan-request.js';
import { DEFAULT_PLAN_TENANTS } from '../model/plan-request.js';
import { wilsonInterval } from '../stats/index.js';
import { createRandom } from '../stats/random.js';
import {
  assertScenario,
  startSequence,
  type Decide,
  type Scenario,
  type SequenceOutcome,
  type SequenceRun,
} from '../stats/calibration/simulate.js';
import type { GuardrailLimit, GuardrailMetricName } from '../guardrails/guardrail-metrics.js';
import { productionGuardrailChecks } from './production-guardrails.js';
import { productionVerdict } from './production-verdict.js';
import { lookOf, type SimulatedLook } from './simulated-look.js';

/** The contract's ceiling on one plan's time (README "Planning a rollout"). */
export const PLAN_BUDGET_MS = 30_000;
/** Work between two yields: short enough that plans sharing a thread take turns often. */
export const PLAN_SLICE_MS = 20;
/** Tenants' traffic spread (SD of log-weights) in a tenant split: the calibration grid's. */
const TENANT_SIZE_SPREAD = 1;

export interface PlanAnswer {
  fireProbability: { estimate: number; ci: [number, number] };
  byGuardrail: { metric: GuardrailMetricName; limit: GuardrailLimit; fireProbability: number }[];
  timeToFire: { medianDays: number; p90Days: number; medianCandidateReviewed: number; p90CandidateReviewed: number } | null;
  verdict: { probabilityWorse: number; probabilityBetter: number; medianDaysToVerdict: number | null };
  simulations: number;
  method: string;
}

export interface PlanRunOptions {
  /** Time from its start after which a plan answers with what ran (default PLAN_BUDGET_MS). */
  budgetMs?: number;
  sliceMs?: number;
  /** A monotonic clock in ms. */
  now: () => number;
  /** Lets other work run between slices (the planner's thread: setImmediate, so plans at once take turns). */
  yieldToLoop: () => Promise<void>;
}

/** The simulator's scenario for a plan: one stage, runs arriving by the clock, looks by the guardrail job's cadence. */
export function scenarioOfPlan(p: PlanRequest): Scenario {
  const { traffic } = p;
  const baseline = traffic.candidateShare === 1;
  return {
    control: { overrideRate: p.control.overrideRate, errorRate: p.control.errorRate, reviewRate: p.control.reviewRate },
    ...(p.candidate ? { candidate: p.candidate } : {}),
    share: traffic.candidateShare,
    splitBy: traffic.splitBy,
    ...(traffic.splitBy === 'tenant'
      ? { tenants: traffic.tenants ?? DEFAULT_PLAN_TENANTS, tenantSpread: traffic.tenantSpread, tenantSizeSpread: TENANT_SIZE_SPREAD }
      : {}),
    ...(baseline ? { baselineControl: true } : {}),
    runsPerBatch: (traffic.runsPerDay * p.checkEveryMinutes) / 1440,
    maxBatches: Math.max(1, Math.ceil((traffic.days * 1440) / p.checkEveryMinutes)),
    // The production code applies minSamples itself; the sequence ends by the clock.
    minSamples: 0,
    checkEvery: 1,
    horizon: Number.POSITIVE_INFINITY,
    continueAfterBreach: true,
  };
}

/** The plan's scenario, refused with a RangeError when the simulator cannot run it. */
export function plannableScenario(p: PlanRequest): Scenario {
  const scenario = scenarioOfPlan(p);
  assertScenario(scenario);
  return scenario;
}

/** Each look decided by the production guardrails and verdict; settled questions are not asked again. */
export function planDecide(p: PlanRequest): Decide {
  return (state) => {
    const look = lookOf(state);
    let breachedChecks: boolean[] | undefined;
    if (!state.settled.breached)
      breachedChecks = productionGuardrailChecks(p.guardrails, look, p.guardrailAlpha).map((c) => c.status === 'breached');
    return {
      breached: breachedChecks?.some(Boolean) ?? false,
      ...(breachedChecks ? { breachedChecks } : {}),
      ...(state.settled.verdict ? {} : { verdict: productionVerdict(look, p.alpha) }),
    };
  };
}

/** The checks a plan's guardrails make, in the order `evaluateGuardrails` answers them. */
function checkLabels(p: PlanRequest): { metric: GuardrailMetricName; limit: GuardrailLimit }[] {
  const zero = { runs: 0, errors: 0, reviewed: 0, overridden: 0, latencyHist: [] };
  const empty: SimulatedLook = { controlArm: 'randomized', stages: [{ stage: 0, share: 0.5, control: zero, candidate: zero }] };
  return productionGuardrailChecks(p.guardrails, empty, p.guardrailAlpha).map((c) => ({ metric: c.metric, limit: c.limit }));
}

/** Nearest-rank q-quantile of `values` among `n` simulations (the rest never happened: +∞); null past them. */
function quantileOf(values: number[], n: number, q: number): number | null {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(q * n));
  return rank <= sorted.length ? (sorted[rank - 1] as number) : null;
}

const round = (x: number, digits = 4) => Number(x.toFixed(digits));

/** `cappedAtMs`: the budget that stopped the run before `p.simulations` (absent: all ran). */
export function summarizePlan(p: PlanRequest, outcomes: readonly SequenceOutcome[], cappedAtMs?: number): PlanAnswer {
  const n = outcomes.length;
  const daysOf = (batch: number) => (batch * p.checkEveryMinutes) / 1440;
  const fired = outcomes.filter((o) => o.breachedAt !== undefined);
  const [lo, hi] = wilsonInterval(fired.length, n, 0.95);
  const labels = checkLabels(p);
  const firedDays = fired.map((o) => daysOf(o.breachedBatch as number));
  const firedReviewed = fired.map((o) => o.breachedAt as number);
  const decisive = (v: 'candidate_worse' | 'candidate_better') => outcomes.filter((o) => o.verdict?.verdict === v).length / n;
  const verdictDays = outcomes.flatMap((o) => (o.verdict ? [daysOf(o.verdict.batch)] : []));
  const medianVerdict = quantileOf(verdictDays, n, 0.5);
  const { traffic } = p;
  const split =
    traffic.candidateShare === 1
      ? 'a 100% stage against a baseline of the same volume (guardrails act; no better/worse verdict)'
      : traffic.splitBy === 'tenant'
        ? `whole tenants (${traffic.tenants ?? DEFAULT_PLAN_TENANTS}, own-rate SD ${traffic.tenantSpread}, log-normal traffic SD ${TENANT_SIZE_SPREAD}) to the candidate with probability ${traffic.candidateShare}`
        : `each run to the candidate with probability ${traffic.candidateShare}`;
  const method = [
    `Monte Carlo, ${n} simulated rollouts (seed ${p.seed}${cappedAtMs !== undefined ? `; capped from ${p.simulations} by the ${cappedAtMs / 1000} s compute budget` : ''}).`,
    `One stage, ${traffic.runsPerDay} runs/day for ${traffic.days} days, ${split}; errors, reviews and overrides drawn per run (binomial).`,
    `Every ${p.checkEveryMinutes} min the production guardrail code (evaluateGuardrails) decides on the running totals, and the production verdict (the always-valid interval's side of 0, decideVerdict) on the override rate;`,
    'a rollout counts as rolled back at its first breached check; the verdict is followed to the end of the period even after a rollback.',
    p.guardrails.some((g) => g.metric === 'latency_p95_ms')
      ? 'Latency is not simulated (the plan has no latency inputs): latency guardrails wait.'
      : '',
  ]
    .filter(Boolean)
    .join(' ');
  return {
    fireProbability: { estimate: n > 0 ? round(fired.length / n) : 0, ci: [round(lo), round(hi)] },
    byGuardrail: labels.map((l, i) => ({
      ...l,
      fireProbability: n > 0 ? round(fired.filter((o) => o.breachedChecks?.[i]).length / n) : 0,
    })),
    timeToFire:
      fired.length === 0
        ? null
        : {
            medianDays: round(quantileOf(firedDays, fired.length, 0.5) as number),
            p90Days: round(quantileOf(firedDays, fired.length, 0.9) as number),
            medianCandidateReviewed: quantileOf(firedReviewed, fired.length, 0.5) as number,
            p90CandidateReviewed: quantileOf(firedReviewed, fired.length, 0.9) as number,
          },
    verdict: {
      probabilityWorse: n > 0 ? round(decisive('candidate_worse')) : 0,
      probabilityBetter: n > 0 ? round(decisive('candidate_better')) : 0,
      medianDaysToVerdict: medianVerdict === null ? null : round(medianVerdict),
    },
    simulations: n,
    method,
  };
}

/**
 * Runs up to `p.simulations` simulated rollouts until `budgetMs` after its start, yielding every
 * `sliceMs`. The clock is read after every batch (a reading costs far less than a look), so a slice
 * and the budget overrun by at most one look. A rollout the budget cuts short is left out: the
 * answer stays the prefix of the uncapped one.
 */
export async function runPlan(p: PlanRequest, opts: PlanRunOptions): Promise<PlanAnswer> {
  const scenario = plannableScenario(p);
  const decide = planDecide(p);
  const budget = opts.budgetMs ?? PLAN_BUDGET_MS;
  const slice = opts.sliceMs ?? PLAN_SLICE_MS;
  const outcomes: SequenceOutcome[] = [];
  let current: SequenceRun | undefined;
  const deadline = opts.now() + budget;
  for (;;) {
    const sliceEnd = Math.min(opts.now() + slice, deadline);
    let now: number;
    do {
      // Rollout i draws from substream i, whichever slice it starts or ends in.
      current ??= startSequence(scenario, decide, createRandom(p.seed, outcomes.length + 1));
      const outcome = current.step();
      if (outcome) {
        outcomes.push(outcome);
        current = undefined;
        if (outcomes.length === p.simulations) return summarizePlan(p, outcomes);
      }
      now = opts.now();
    } while (now < sliceEnd);
    if (now >= deadline) return summarizePlan(p, outcomes, budget);
    await opts.yieldToLoop();
  }
}

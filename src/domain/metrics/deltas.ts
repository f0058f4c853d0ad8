/**
 * What runs and feedback change in the counted metrics (pure). The read models add these deltas
 * to their rollup rows; erasure adds their inverse. Every rule comes from the metric table:
 * - a run adds each metric's `run` contribution;
 * - a feedback change adds (after − before) of each metric's `feedback` contribution, nothing on
 *   an errored run (an errored run counts in errors and never as reviewed);
 * - erasing a run and its feedback adds the inverse of both: −(run delta + feedback delta from
 *   nothing to it), so a row returns to exactly what it was without them.
 */
import {
  COUNTED_METRICS,
  type CountedMetric,
  type CountedMetricDef,
  type Counts,
  type FeedbackFacts,
  type RunFacts,
} from './counted-metrics.js';
import { opsOf, type DeltaOf, type KindOps } from './metric-kinds.js';

/** The change to one rollup row: a sparse delta per metric. */
export type CountsDelta = { [M in CountedMetricDef as M['name']]: DeltaOf<M['kind']> };

type Mutable = Record<string, unknown>;

export function emptyDelta(): CountsDelta {
  const d: Mutable = {};
  for (const m of COUNTED_METRICS) d[m.name] = opsOf(m.kind).zeroDelta();
  return d as CountsDelta;
}

/**
 * Adds `times` × a run's contributions to `into` (times −1 takes it away). `metrics` narrows the
 * metrics evaluated; the run then needs only the facts they read. Returns `into`.
 */
export function addRun(into: CountsDelta, run: RunFacts, times = 1, metrics: readonly CountedMetric[] = COUNTED_METRICS): CountsDelta {
  const d = into as unknown as Mutable;
  for (const step of runStepsOf(metrics)) {
    // Plain numbers (most metrics) are added here: this runs for every run the writer stores.
    if (step.scalar) d[step.name] = (d[step.name] as number) + times * (step.adds(run) as number);
    else d[step.name] = step.ops.addContribution(d[step.name], step.adds(run), times);
  }
  return into;
}

interface RunStep {
  name: string;
  scalar: boolean;
  ops: KindOps<unknown, unknown, unknown>;
  adds: (run: RunFacts) => unknown;
}

/** The run contributions of a list of metrics, resolved once per list. */
const runSteps = new WeakMap<readonly CountedMetric[], RunStep[]>();
function runStepsOf(metrics: readonly CountedMetric[]): RunStep[] {
  let steps = runSteps.get(metrics);
  if (!steps) {
    steps = metrics.flatMap((m) =>
      m.run ? [{ name: m.name, scalar: m.kind === 'count' || m.kind === 'sum', ops: opsOf(m.kind), adds: m.run.adds.bind(m.run) }] : [],
    );
    runSteps.set(metrics, steps);
  }
  return steps;
}

/**
 * Adds `times` × the change of a run's feedback from `before` to `after` (either may be absent:
 * none yet, or erased) to `into`. Returns `into`.
 */
export function addFeedbackChange(
  into: CountsDelta,
  run: Pick<RunFacts, 'errored'>,
  before: FeedbackFacts | undefined,
  after: FeedbackFacts | undefined,
  times = 1,
  metrics: readonly CountedMetric[] = COUNTED_METRICS,
): CountsDelta {
  if (run.errored) return into;
  const d = into as unknown as Mutable;
  for (const m of metrics) {
    if (!m.feedback) continue;
    const ops = opsOf(m.kind);
    if (before) d[m.name] = ops.addContribution(d[m.name], m.feedback.adds(before), -times);
    if (after) d[m.name] = ops.addContribution(d[m.name], m.feedback.adds(after), times);
  }
  return into;
}

/** What one run adds when it is recorded. */
export function runDelta(run: RunFacts): CountsDelta {
  return addRun(emptyDelta(), run);
}

/** What a feedback change adds (re-sent feedback replaces the earlier one: counted once). */
export function feedbackDelta(
  run: Pick<RunFacts, 'errored'>,
  before: FeedbackFacts | undefined,
  after: FeedbackFacts | undefined,
): CountsDelta {
  return addFeedbackChange(emptyDelta(), run, before, after);
}

/** What erasing a run, with its feedback if it has any, adds: the inverse of what they added. */
export function erasureDelta(
  run: RunFacts,
  feedback: FeedbackFacts | undefined,
  times = 1,
  metrics: readonly CountedMetric[] = COUNTED_METRICS,
): CountsDelta {
  const d = addRun(emptyDelta(), run, -times, metrics);
  return addFeedbackChange(d, run, undefined, feedback, -times, metrics);
}

/** `into` + times × `from`; returns `into`. */
export function addDelta(into: CountsDelta, from: CountsDelta, times = 1): CountsDelta {
  const d = into as unknown as Mutable;
  const f = from as unknown as Mutable;
  for (const m of COUNTED_METRICS) d[m.name] = opsOf(m.kind).addDelta(d[m.name], f[m.name], times);
  return into;
}

export function isZeroDelta(d: CountsDelta): boolean {
  const v = d as unknown as Mutable;
  return COUNTED_METRICS.every((m) => opsOf(m.kind).isZeroDelta(v[m.name]));
}

/** Summed counts as a delta (e.g. to subtract a whole rollup row: `addDelta(d, countsAsDelta(c), -1)`). */
export function countsAsDelta(c: Counts): CountsDelta {
  const d: Mutable = {};
  const v = c as unknown as Mutable;
  for (const m of COUNTED_METRICS) d[m.name] = opsOf(m.kind).toDelta(v[m.name]);
  return d as CountsDelta;
}

/** `counts` + `delta`, as a new Counts. */
export function applyDelta(counts: Counts, delta: CountsDelta): Counts {
  const out: Mutable = {};
  const v = structuredClone(counts) as unknown as Mutable;
  const d = delta as unknown as Mutable;
  for (const m of COUNTED_METRICS) out[m.name] = opsOf(m.kind).apply(v[m.name], d[m.name]);
  return out as Counts;
}

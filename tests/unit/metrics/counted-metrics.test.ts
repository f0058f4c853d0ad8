/**
 * The counted-metric table and the algebra derived from it: deltas of runs and feedback sum to
 * the counts of the raw runs, erasure is their inverse, and the derived lists (API fields, the
 * series' metrics, the facts erasure selects) agree with the table.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ARM_COUNT_FIELDS,
  armCountFields,
  COUNTED_METRICS,
  factsRead,
  FEEDBACK_METRICS,
  RUN_METRICS,
  SERIES_METRICS,
  TIMESERIES_COUNT_FIELDS,
  type Counts,
  type FeedbackFacts,
  type RunFacts,
} from '../../../src/domain/metrics/counted-metrics.js';
import { addInto, emptyCounts, sanitized, sumCounts } from '../../../src/domain/metrics/counts.js';
import {
  addDelta,
  addFeedbackChange,
  addRun,
  applyDelta,
  countsAsDelta,
  emptyDelta,
  erasureDelta,
  feedbackDelta,
  isZeroDelta,
  runDelta,
  type CountsDelta,
} from '../../../src/domain/metrics/deltas.js';
import { LATENCY_BUCKET_COUNT } from '../../../src/domain/stats/index.js';

// ---- generators -------------------------------------------------------------------------------

const tokensArb = fc.option(fc.integer({ min: 0, max: 100_000 }), { nil: null });
const runArb: fc.Arbitrary<RunFacts> = fc
  .record({
    errored: fc.boolean(),
    fallback: fc.boolean(),
    latencyBucket: fc.integer({ min: 0, max: LATENCY_BUCKET_COUNT - 1 }),
    promptTokens: tokensArb,
    completionTokens: tokensArb,
  })
  // A fallback is an error (the candidate failed; the control answered).
  .map((r) => ({ ...r, errored: r.errored || r.fallback }));

const feedbackArb: fc.Arbitrary<FeedbackFacts> = fc.record({
  overridden: fc.boolean(),
  fields: fc.array(fc.constantFrom('total', 'vendor', 'date', '$', '__proto__'), { maxLength: 4 }),
});

/** A run with the feedback it received over time (re-sent feedback replaces the earlier one). */
const historyArb = fc.record({ run: runArb, feedback: fc.array(feedbackArb, { maxLength: 3 }) });

// ---- the counts of raw runs, written out (the "truth" the read models must equal) --------------

function truth(histories: { run: RunFacts; feedback: FeedbackFacts[] }[]): Counts {
  const c = emptyCounts();
  for (const { run, feedback } of histories) {
    c.runs += 1;
    if (run.errored) c.errors += 1;
    if (run.fallback) c.fallbacks += 1;
    c.latencyHist[run.latencyBucket]! += 1;
    if (run.promptTokens !== null || run.completionTokens !== null) {
      c.tokenRuns += 1;
      c.promptTokens += run.promptTokens ?? 0;
      c.completionTokens += run.completionTokens ?? 0;
    }
    const last = feedback.at(-1);
    if (last && !run.errored) {
      c.reviewed += 1;
      if (last.overridden) c.overridden += 1;
      for (const f of new Set(last.fields)) {
        const n = (Object.hasOwn(c.fieldOverrides, f) ? c.fieldOverrides[f]! : 0) + 1;
        Object.defineProperty(c.fieldOverrides, f, { value: n, writable: true, enumerable: true, configurable: true });
      }
    }
  }
  return c;
}

/** Every delta a run's history writes: its insert, then each feedback replacing the one before. */
function historyDeltas({ run, feedback }: { run: RunFacts; feedback: FeedbackFacts[] }): CountsDelta[] {
  const out = [runDelta(run)];
  feedback.forEach((f, i) => out.push(feedbackDelta(run, feedback[i - 1], f)));
  return out;
}

const sumDeltas = (deltas: CountsDelta[]) => deltas.reduce((a, d) => addDelta(a, d), emptyDelta());

describe('counted metrics: deltas', () => {
  it('sum, over runs and re-sent feedback, to the counts of the raw runs', () => {
    fc.assert(
      fc.property(fc.array(historyArb, { maxLength: 30 }), (histories) => {
        const counts = applyDelta(emptyCounts(), sumDeltas(histories.flatMap(historyDeltas)));
        expect(counts).toEqual(truth(histories));
      }),
    );
  });

  it('erasure of a run is the inverse of everything its history added: the row returns to zero', () => {
    fc.assert(
      fc.property(historyArb, ({ run, feedback }) => {
        const added = sumDeltas(historyDeltas({ run, feedback }));
        const erased = erasureDelta(run, feedback.at(-1));
        expect(isZeroDelta(addDelta(structuredClone(added), erased))).toBe(true);
        // Erasure equals the negated sum of the deltas, metric by metric.
        expect(applyDelta(emptyCounts(), erased)).toEqual(applyDelta(emptyCounts(), addDelta(emptyDelta(), added, -1)));
      }),
    );
  });

  it('erasing some runs leaves exactly the counts of the others', () => {
    fc.assert(
      fc.property(fc.array(historyArb, { maxLength: 20 }), fc.array(historyArb, { maxLength: 20 }), (kept, erased) => {
        const all = sumDeltas([...kept, ...erased].flatMap(historyDeltas));
        for (const h of erased) addDelta(all, erasureDelta(h.run, h.feedback.at(-1)));
        expect(applyDelta(emptyCounts(), all)).toEqual(truth(kept));
      }),
    );
  });

  it('add n identical runs with times = n, as erasure of a group does', () => {
    fc.assert(
      fc.property(runArb, fc.option(feedbackArb, { nil: undefined }), fc.integer({ min: 1, max: 50 }), (run, fb, n) => {
        const one = addFeedbackChange(addRun(emptyDelta(), run), run, undefined, fb);
        const many = addFeedbackChange(addRun(emptyDelta(), run, n), run, undefined, fb, n);
        expect(applyDelta(emptyCounts(), many)).toEqual(applyDelta(emptyCounts(), addDelta(emptyDelta(), one, n)));
      }),
    );
  });

  it('add nothing for feedback on an errored run, or feedback re-sent unchanged', () => {
    fc.assert(
      fc.property(runArb, feedbackArb, feedbackArb, (run, before, after) => {
        expect(isZeroDelta(feedbackDelta({ errored: true }, before, after))).toBe(true);
        expect(isZeroDelta(feedbackDelta(run, after, { ...after, fields: [...after.fields].reverse() }))).toBe(true);
      }),
    );
  });

  it('of a whole row subtract it: countsAsDelta is the inverse of applyDelta', () => {
    fc.assert(
      fc.property(fc.array(historyArb, { maxLength: 10 }), (histories) => {
        const counts = truth(histories);
        expect(isZeroDelta(addDelta(countsAsDelta(counts), countsAsDelta(counts), -1))).toBe(true);
        expect(applyDelta(counts, addDelta(emptyDelta(), countsAsDelta(counts), -1))).toEqual(emptyCounts());
      }),
    );
  });
});

describe('counted metrics: counts', () => {
  it('sumCounts adds cells and addInto with sign −1 takes one away', () => {
    fc.assert(
      fc.property(fc.array(historyArb, { maxLength: 10 }), fc.array(historyArb, { maxLength: 10 }), (a, b) => {
        const total = sumCounts([truth(a), truth(b)]);
        expect(total).toEqual(truth([...a, ...b]));
        expect(addInto(total, truth(b), -1)).toEqual(truth(a));
      }),
    );
  });

  it('keeps a field named like an Object.prototype member as a field', () => {
    const c = applyDelta(
      emptyCounts(),
      feedbackDelta({ errored: false }, undefined, { overridden: true, fields: ['__proto__', 'constructor'] }),
    );
    expect(Object.entries(c.fieldOverrides)).toEqual([
      ['__proto__', 1],
      ['constructor', 1],
    ]);
    expect(Object.entries(sanitized({ ...c, runs: 1, reviewed: 1 }).fieldOverrides)).toEqual([
      ['__proto__', 1],
      ['constructor', 1],
    ]);
    expect(Object.entries(addInto(emptyCounts(), c).fieldOverrides)).toEqual([
      ['__proto__', 1],
      ['constructor', 1],
    ]);
  });

  it('sanitized never lets events exceed their trials, in table order', () => {
    const damaged: Counts = {
      ...emptyCounts(),
      runs: 10,
      errors: 12,
      fallbacks: 20,
      reviewed: 5,
      overridden: 9,
      tokenRuns: 11,
      promptTokens: -3,
      fieldOverrides: { total: 4, vendor: -1 },
    };
    expect(sanitized(damaged)).toMatchObject({
      runs: 10,
      errors: 10,
      fallbacks: 10,
      reviewed: 0,
      overridden: 0,
      tokenRuns: 10,
      promptTokens: 0,
      fieldOverrides: { total: 0 },
    });
  });

  it('bounds each metric only by plain counts above it in the table', () => {
    COUNTED_METRICS.forEach((m, i) => {
      if (!m.atMost) return;
      const above = COUNTED_METRICS.slice(0, i).filter((x) => x.kind === 'count' || x.kind === 'sum');
      for (const name of [m.atMost.of, m.atMost.minus].filter((n) => n !== undefined))
        expect(
          above.map((x) => x.name as string),
          m.name,
        ).toContain(name);
    });
  });
});

describe('counted metrics: the table and what derives from it', () => {
  it('names are unique and every metric is written by runs or by feedback', () => {
    expect(new Set(COUNTED_METRICS.map((m) => m.name)).size).toBe(COUNTED_METRICS.length);
    for (const m of COUNTED_METRICS) expect(m.run !== undefined || m.feedback !== undefined, m.name).toBe(true);
    expect([...RUN_METRICS, ...FEEDBACK_METRICS].map((m) => m.name).sort()).toEqual(COUNTED_METRICS.map((m) => m.name).sort());
  });

  it('shows only plain counts as API fields, under unique names', () => {
    for (const m of COUNTED_METRICS) if (m.api) expect(['count', 'sum'], m.name).toContain(m.kind);
    expect(new Set(ARM_COUNT_FIELDS).size).toBe(ARM_COUNT_FIELDS.length);
    expect(ARM_COUNT_FIELDS).toEqual(['runs', 'errors', 'fallbacks', 'reviewed', 'overridden']);
    expect(TIMESERIES_COUNT_FIELDS).toEqual(['runs', 'errors', 'fallbacks', 'reviewed', 'overridden']);
    // A timeseries field must be kept per arm over time.
    for (const m of COUNTED_METRICS) if (m.api?.timeseries) expect(m.inSeries, m.name).toBe(true);
    expect(armCountFields({ ...emptyCounts(), runs: 3, fallbacks: 1 })).toEqual({
      runs: 3,
      errors: 0,
      fallbacks: 1,
      reviewed: 0,
      overridden: 0,
    });
  });

  it('keeps the series to the metrics the timeseries and guardrails read', () => {
    expect(SERIES_METRICS.map((m) => m.name)).toEqual(['runs', 'errors', 'fallbacks', 'reviewed', 'overridden', 'latencyHist']);
  });

  it("erasure's facts are those the metrics read, with errored whenever feedback counts", () => {
    expect(factsRead(SERIES_METRICS)).toEqual({ run: ['errored', 'fallback', 'latencyBucket'], feedback: ['overridden'] });
    expect(factsRead(COUNTED_METRICS.filter((m) => m.name === 'reviewed'))).toEqual({ run: ['errored'], feedback: [] });
  });

  it('evaluates a subset of metrics on the facts they read only', () => {
    fc.assert(
      fc.property(runArb, fc.option(feedbackArb, { nil: undefined }), (run, fb) => {
        const facts = factsRead(SERIES_METRICS);
        const partialRun = Object.fromEntries(facts.run.map((k) => [k, run[k]])) as unknown as RunFacts;
        const partialFb = fb && (Object.fromEntries(facts.feedback.map((k) => [k, fb[k]])) as unknown as FeedbackFacts);
        const subset = applyDelta(emptyCounts(), erasureDelta(partialRun, partialFb, 1, SERIES_METRICS));
        const full = applyDelta(emptyCounts(), erasureDelta(run, fb));
        for (const m of SERIES_METRICS) expect(subset[m.name], m.name).toEqual(full[m.name]);
      }),
    );
  });
});

/**
 * The kinds of counted metric, and how each one rolls up (pure). A counted metric is a sum of
 * what runs and feedback contribute, so every kind is a commutative group: a zero, an addition,
 * and an inverse (GDPR erasure subtracts exactly what was added). Four kinds cover the read
 * models today:
 * - `count`: how many runs (or reviews) have a property: runs, errors, reviewed, ...;
 * - `sum`: a total of amounts that can outgrow a 32-bit counter: tokens;
 * - `histogram`: counts per bucket of the stats module's log-spaced latency buckets (dense
 *   LATENCY_BUCKET_COUNT long when summed; sparse, bucket → count, as a delta);
 * - `keyed`: counts per key: reviewed runs per overridden field. Keys whose count is 0 are dropped.
 * The store decides how each kind is stored and added in SQL (src/store/read-models/rollup-columns.ts).
 */
import { LATENCY_BUCKET_COUNT } from '../stats/index.js';

export type MetricKind = 'count' | 'sum' | 'histogram' | 'keyed';

/** A metric's value in `Counts`: summed over runs and feedback. */
export type ValueOf<K extends MetricKind> = K extends 'histogram' ? number[] : K extends 'keyed' ? Record<string, number> : number;

/** A change to that value, kept sparse until it is written. */
export type DeltaOf<K extends MetricKind> = K extends 'histogram' ? Map<number, number> : K extends 'keyed' ? Map<string, number> : number;

/**
 * What one run, or one feedback, contributes: a number (`count`, `sum`), the bucket it falls in
 * (`histogram`: that bucket + 1), or the keys it counts once each (`keyed`).
 */
export type ContributionOf<K extends MetricKind> = K extends 'histogram' ? number : K extends 'keyed' ? readonly string[] : number;

/** The group operations of one kind; `V` its value, `D` its delta, `C` one contribution. */
export interface KindOps<V, D, C> {
  zero(): V;
  zeroDelta(): D;
  /** `into` + sign × `from`; may update `into` in place, returns the sum. */
  add(into: V, from: V, sign: 1 | -1): V;
  /** `into` + times × `c`; may update `into` in place, returns the sum. */
  addContribution(into: D, c: C, times: number): D;
  /** `into` + times × `from`; may update `into` in place, returns the sum. */
  addDelta(into: D, from: D, times: number): D;
  /** `value` + `delta`; may update `value` in place, returns the sum. */
  apply(value: V, delta: D): V;
  isZeroDelta(d: D): boolean;
  /** A summed value as a delta (to subtract a whole rollup row). */
  toDelta(v: V): D;
  /** Never negative, never above `atMost` (a histogram's buckets are only made non-negative). */
  clamp(v: V, atMost: number): V;
}

/** A packed (not holey) array of zeros: sums over it stay on V8's fast path. */
export function zeroHistogram(): number[] {
  const out: number[] = [];
  for (let i = 0; i < LATENCY_BUCKET_COUNT; i++) out.push(0);
  return out;
}

const nonNegative = (x: number) => (x > 0 ? x : 0);

function addToMap<K>(into: Map<K, number>, key: K, n: number): void {
  into.set(key, (into.get(key) ?? 0) + n);
}

const numberOps: KindOps<number, number, number> = {
  zero: () => 0,
  zeroDelta: () => 0,
  add: (into, from, sign) => into + sign * from,
  addContribution: (into, c, times) => into + times * c,
  addDelta: (into, from, times) => into + times * from,
  apply: (value, delta) => value + delta,
  isZeroDelta: (d) => d === 0,
  toDelta: (v) => v,
  clamp: (v, atMost) => Math.min(nonNegative(v), atMost),
};

const histogramOps: KindOps<number[], Map<number, number>, number> = {
  zero: zeroHistogram,
  zeroDelta: () => new Map(),
  add(into, from, sign) {
    for (let i = 0; i < from.length; i++) {
      const n = from[i]!;
      if (n !== 0) into[i] = (into[i] ?? 0) + sign * n;
    }
    return into;
  },
  addContribution(into, bucket, times) {
    addToMap(into, bucket, times);
    return into;
  },
  addDelta(into, from, times) {
    for (const [bucket, n] of from) addToMap(into, bucket, times * n);
    return into;
  },
  apply(value, delta) {
    for (const [bucket, n] of delta) if (n !== 0) value[bucket] = (value[bucket] ?? 0) + n;
    return value;
  },
  isZeroDelta: (d) => [...d.values()].every((n) => n === 0),
  toDelta(v) {
    const d = new Map<number, number>();
    v.forEach((n, bucket) => {
      if (n !== 0) d.set(bucket, n);
    });
    return d;
  },
  clamp: (v) => v.map(nonNegative),
};

/** Sets an own property, even for a key such as "__proto__" (a field name is any string). */
function setOwn(into: Record<string, number>, key: string, n: number): void {
  Object.defineProperty(into, key, { value: n, writable: true, enumerable: true, configurable: true });
}

function addToRecord(into: Record<string, number>, key: string, n: number): void {
  const next = (Object.hasOwn(into, key) ? into[key]! : 0) + n;
  if (next === 0) delete into[key];
  else setOwn(into, key, next);
}

const keyedOps: KindOps<Record<string, number>, Map<string, number>, readonly string[]> = {
  zero: () => ({}),
  zeroDelta: () => new Map(),
  add(into, from, sign) {
    for (const [key, n] of Object.entries(from)) addToRecord(into, key, sign * n);
    return into;
  },
  addContribution(into, keys, times) {
    // A key counts once per run, however often a reviewer named it.
    for (const key of new Set(keys)) addToMap(into, key, times);
    return into;
  },
  addDelta(into, from, times) {
    for (const [key, n] of from) addToMap(into, key, times * n);
    return into;
  },
  apply(value, delta) {
    for (const [key, n] of delta) addToRecord(value, key, n);
    return value;
  },
  isZeroDelta: (d) => [...d.values()].every((n) => n === 0),
  toDelta: (v) => new Map(Object.entries(v).filter(([, n]) => n !== 0)),
  clamp(v, atMost) {
    const out: Record<string, number> = {};
    for (const [key, n] of Object.entries(v)) if (n > 0) setOwn(out, key, Math.min(n, atMost));
    return out;
  },
};

/** Each kind's operations; the one place that knows how a kind adds up. */
export const KIND_OPS: { [K in MetricKind]: KindOps<ValueOf<K>, DeltaOf<K>, ContributionOf<K>> } = {
  count: numberOps,
  sum: numberOps,
  histogram: histogramOps,
  keyed: keyedOps,
};

/** The operations of a kind for code that iterates over metrics of every kind. */
export function opsOf(kind: MetricKind): KindOps<unknown, unknown, unknown> {
  return KIND_OPS[kind];
}

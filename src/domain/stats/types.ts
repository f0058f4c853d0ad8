/**
 * Shapes shared by the statistics module. Kept apart so that callers (the comparison read path,
 * the guardrail policy) can `import type` them without pulling in any numerics.
 */

/** A closed interval [lower, upper]. Bounds may be ±Infinity only where a function says so. */
export type Interval = readonly [number, number];

/** Which side a one-sided bound is on: `lower` bounds the parameter from below. */
export type BoundSide = 'lower' | 'upper';

/** A binomial count: `x` events out of `n` trials. */
export interface BinomialCount {
  readonly x: number;
  readonly n: number;
}

/**
 * Settings of the always-valid (sequential) inference.
 * - `alpha`: error rate that holds over the whole, continuously monitored, sequence.
 * - `tuning`: GrowthBook's "sequential tuning parameter" N*, the total sample size at which the
 *   confidence sequence is tightest (see sequential.ts).
 */
export interface SequentialOptions {
  readonly alpha?: number;
  readonly tuning?: number;
}

/**
 * The comparison of one metric between two arms, in the shape of the contract's
 * `difference.<metric>` object. `estimate` is always first argument minus second argument;
 * callers pass candidate first, so it reads candidate − control.
 */
export interface DifferenceResult {
  readonly estimate: number;
  /** Fixed-horizon interval at the requested confidence (95% by default). */
  readonly ci: Interval;
  /** Fixed-horizon two-sided p-value. */
  readonly pValue: number;
  /** Confidence sequence at `alpha`: valid however often it is looked at. */
  readonly alwaysValidCI: Interval;
  /** Smallest alpha at which the confidence sequence (at the same mixture) excludes 0. */
  readonly alwaysValidPValue: number;
  /** Names the estimator, interval and sequential method with its tuning parameter. */
  readonly method: string;
}

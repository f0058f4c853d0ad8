/**
 * Pure statistics for the comparison endpoint and the guardrails: proportions, intervals,
 * always-valid (sequential) inference, tenant-cluster and stratified analyses, SRM, percentiles.
 * No clock, no randomness, no I/O; every formula cites its source in its file.
 */
export type { BinomialCount, BoundSide, DifferenceResult, Interval, SequentialOptions } from './types.js';
export { erf, erfc, normalCdf, normalPdf, normalQuantile, normalSf, twoSidedCriticalValue } from './normal.js';
export { chiSquareSf, logGamma, regularizedGammaP, regularizedGammaQ } from './gamma.js';
export { newcombeBoundsAtZ, newcombeDifference, twoProportionZTest, wilsonInterval, wilsonScoreBounds } from './proportions.js';
export {
  alwaysValidMultiplier,
  alwaysValidNormal,
  alwaysValidNormalBound,
  alwaysValidPValueAt,
  DEFAULT_SEQUENTIAL_ALPHA,
  DEFAULT_SEQUENTIAL_TUNING,
  mixtureRho,
  sequentialMethodName,
  type NormalEstimate,
} from './sequential.js';
export {
  alwaysValidDifference,
  alwaysValidDifferenceBound,
  alwaysValidProportionBound,
  alwaysValidProportionInterval,
} from './always-valid-proportions.js';
export { compareProportions, proportionMethodName, type CompareOptions } from './compare.js';
export {
  compareRatios,
  DEFAULT_CLUSTER_SEQUENTIAL_TUNING,
  ratioMoments,
  ratioOfSums,
  type CompareRatiosOptions,
  type RatioComparison,
  type RatioEstimate,
  type RatioMoments,
  type RatioUnit,
} from './cluster.js';
export { compareStratified, mantelHaenszelRiskDifference, type StratifiedResult, type Stratum } from './stratified.js';
export { sampleRatioMismatch, SRM_THRESHOLD, type SrmResult, type SrmStage } from './srm.js';
export {
  histogramCountAbove,
  histogramQuantile,
  LATENCY_BUCKET_COUNT,
  LATENCY_BUCKET_UPPER_BOUNDS_MS,
  LATENCY_HISTOGRAM_GAMMA,
  LATENCY_HISTOGRAM_MAX_MS,
  LATENCY_HISTOGRAM_RELATIVE_ERROR,
  latencyBucketIndex,
  latencyBucketValue,
  quantile,
  quantileSorted,
} from './percentiles.js';

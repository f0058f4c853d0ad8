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
export {
  logBeta,
  regularizedBeta,
  studentTSf,
  studentTQuantileUpper,
  binomialLogPmf,
  binomialCdf,
  binomialSf,
  binomialTestTwoSided,
} from './beta.js';
export {
  logMixture,
  logMixtureValue,
  mixtureScale,
  tiltMixture,
  MIXTURE_SHAPE,
  TUNING_SPREAD,
  type TiltMixture,
  type TiltDirection,
} from './bernoulli-mixture.js';
export {
  DEFAULT_DIFFERENCE_TUNING,
  differenceBound,
  differenceInterval,
  differenceLogE,
  differenceLogEUpper,
  differencePValue,
  differenceRejects,
  differenceSequenceName,
  differenceTwoSidedPValue,
  type DifferenceDesign,
} from './difference-sequence.js';
export { rateBound, rateInterval, rateLogE, ratePValue, rateRejects, rateSequenceName, type RateDesign } from './rate-sequence.js';
export {
  stratifiedBound,
  stratifiedInterval,
  stratifiedLowerLogE,
  stratifiedPValue,
  stratifiedRejects,
  stratifiedTwoSidedPValue,
  type SequenceStratum,
  type StratifiedDesign,
} from './stratified-sequence.js';
export {
  DEFAULT_TENANT_TUNING,
  tenantLevelBound,
  tenantLevelEstimate,
  tenantLevelInterval,
  tenantLevelMethodName,
  tenantLevelMultiplier,
  tenantLevelPValue,
  tenantStratumOf,
  type TenantCount,
  type TenantLevelEstimate,
  type TenantLevelOptions,
  type TenantStratum,
} from './tenant-level.js';
export {
  DATA_QUALITY_THRESHOLD,
  reviewRateImbalance,
  sequentialSrm,
  SRM_CONCENTRATION,
  srmLogE,
  tenantReviewRateImbalance,
  type ReviewImbalanceResult,
  type ReviewStratum,
  type SequentialSrmResult,
  type SrmStageKeys,
  type SrmStageResult,
} from './data-quality.js';
export { holm, type HolmResult } from './holm.js';
export { histogramCountAboveInterpolated, histogramCumulative } from './percentiles.js';
export {
  DEFAULT_QUANTILE_TUNING,
  histogramQuantileBound,
  quantileDifference,
  quantileSequenceName,
  type QuantileDifference,
} from './quantile-sequence.js';
export { createRandom, type Random } from './random.js';

/**
 * Where shadow runs are kept (README "Shadow runs"). A shadow run's result and the human's record
 * of its control run arrive in either order, from any replica; the repository stores whichever
 * comes first and scores the pair, with `score`, when the second arrives.
 */
import type { OverrideDiff } from '../overrides/diff-overrides.js';
import type { Expectation } from '../shadow/expectation.js';
import type { PairedCounts } from '../shadow/paired-interval.js';
import type { ShadowAggregates } from '../shadow/shadow-report.js';

/** Where a shadow run belongs: copied from its control run. */
export interface ShadowPlace {
  /** The shadow run's id (the control run's shadowRunId). */
  id: string;
  /** The control run's id. */
  shadowOf: string;
  rolloutId: string;
  chainId: string;
  tenantId: string;
  environment: string;
  stage: number | null;
  /** The control run's creation time. */
  createdAt: Date;
}

/** The candidate's call, finished (with an output, or an error). */
export interface ShadowResult extends ShadowPlace {
  version: string;
  finishedAt: Date;
  output: unknown;
  outputHashes: Record<string, string> | null;
  error: { code: string; message: string; details?: unknown } | null;
  latencyMs: number;
  promptTokens: number | null;
  completionTokens: number | null;
}

/**
 * The human's feedback on the control run, as the pair needs it. `rolloutId` is null for a
 * control run served in stage-free shadow mode (its run has no rollout): the result fills it.
 */
export interface ShadowExpectation extends Omit<ShadowPlace, 'rolloutId'> {
  rolloutId: string | null;
  expected: Expectation;
  feedbackAt: Date;
  controlOverridden: boolean;
  controlFields: string[];
}

export interface ShadowSkipCount {
  rolloutId: string;
  reason: 'budget' | 'concurrency';
  skipped: number;
}

export interface ShadowBatch {
  results: ShadowResult[];
  expectations: ShadowExpectation[];
  skips: ShadowSkipCount[];
}

/** A pair with both halves stored, to be scored. */
export interface ShadowPairToScore {
  id: string;
  output: unknown;
  outputHashes: Record<string, string> | null;
  expected: Expectation;
}

export interface ShadowRepository {
  /**
   * Stores a batch (idempotent per id; later feedback replaces earlier) and scores the pairs it
   * completes; answers the rollouts whose pairs it scored.
   */
  writeBatch(batch: ShadowBatch, score: (pair: ShadowPairToScore) => OverrideDiff): Promise<{ scoredRollouts: string[] }>;
  /** Everything the paired report of one rollout needs. */
  aggregates(rolloutId: string): Promise<ShadowAggregates>;
  /**
   * The 2×2 table of a rollout's scored pairs (the shadow gate): all of them, or with
   * `servedSince` only those whose control run was served in one of its stages from then on.
   */
  pairedCounts(rolloutId: string, opts?: { servedSince?: Date }): Promise<PairedCounts>;
}

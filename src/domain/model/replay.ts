/**
 * Replays: one chain version run over every case of a dataset (times `repeats`), each output
 * scored against the case's `expected` by the feedback rules. Replay results are stored apart
 * from production runs and count in no rollout, metric or guardrail.
 */
import { z } from 'zod';
import { idSchema } from './ids.js';
import type { Interval } from '../stats/types.js';

export const replayRequestSchema = z.strictObject({
  version: idSchema,
  concurrency: z.int().min(1).max(32).default(4).describe('Cases in flight at once.'),
  repeats: z.int().min(1).max(10).default(1).describe('Runs per case: LLMs are not deterministic, and repeats show by how much.'),
});
export type ReplayRequest = z.infer<typeof replayRequestSchema>;

export const REPLAY_STATUSES = ['queued', 'running', 'done', 'cancelled', 'failed'] as const;
export type ReplayStatus = (typeof REPLAY_STATUSES)[number];
export const OPEN_REPLAY_STATUSES: readonly ReplayStatus[] = ['queued', 'running'];

export interface Replay {
  id: string;
  datasetId: string;
  chain: string;
  version: string;
  concurrency: number;
  repeats: number;
  status: ReplayStatus;
  /** Cases × repeats. */
  total: number;
  /** The rollout whose gate started it, if any. */
  rolloutId: string | null;
  error: string | null;
  /** Frozen when it finished. */
  result: ReplayResult | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export type NewReplay = Pick<Replay, 'id' | 'datasetId' | 'chain' | 'version' | 'concurrency' | 'repeats' | 'rolloutId' | 'createdAt'>;

/** One case run once: the unit that is committed as it finishes, once per (replay, case, repeat). */
export interface ReplayCaseResult {
  replayId: string;
  caseId: string;
  seq: number;
  repeat: number;
  /** Absent when the call failed. Stored after the chain's redaction. */
  output?: unknown;
  error?: { code: string; message: string };
  overridden: boolean;
  fields: string[];
  latencyMs: number;
  promptTokens?: number;
  completionTokens?: number;
  at: Date;
}

/** What the summary and the paired comparison read of each result. */
export type ScoredResult = Pick<
  ReplayCaseResult,
  'caseId' | 'repeat' | 'overridden' | 'fields' | 'latencyMs' | 'promptTokens' | 'completionTokens'
> & {
  errored: boolean;
};

export interface ReplayResult {
  /** Results scored: cases × repeats once finished. */
  cases: number;
  errors: number;
  errorRate: number;
  /** Results without an error whose output a human would have changed. */
  overridden: number;
  /** overridden / results without an error; null when every call failed (nothing was scored). */
  overrideRate: number | null;
  /** Wilson, with the case as the unit when a case has repeats (src/domain/replay/case-unit.ts); null with nothing scored. */
  overrideRateCI: Interval | null;
  /** Per field: results that changed the field / results without an error (null with nothing scored). */
  fieldOverrideRates: Record<string, number | null>;
  latencyMs: { p50: number | null; p95: number | null };
  usage?: { promptTokens: number; completionTokens: number; resultsWithUsage: number };
  /** With repeats > 1: cases whose repeats disagree on "would be overridden" (the version's own noise); rate null without such cases. */
  repeatDisagreement?: { cases: number; disagreeing: number; rate: number | null };
}

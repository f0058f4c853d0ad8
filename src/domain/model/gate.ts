/**
 * A rollout's gate: evidence required before any customer traffic moves (README "Datasets,
 * replays and the gate"). A rollout with a gate is created `gated`; the gate passes (stage 0
 * starts: `gate_passed`) or fails (`gate_failed`, final) on the upper or lower one-sided bound of
 * (candidate − control) at the rollout's alpha against `maxIncrease`.
 */
import { z } from 'zod';
import type { PairedCounts } from '../shadow/paired-interval.js';
import { shadowGateSchema, type ShadowGate } from './shadow-spec.js';

export const replayGateSchema = z
  .strictObject({
    dataset: z.uuid('must be a dataset id (UUID)').describe('The dataset both versions are replayed on (one case, one pair).'),
    maxIncrease: z.number().min(0).max(1).describe('Largest acceptable candidate − control would-be override rate (absolute).'),
    minCases: z
      .int()
      .min(1)
      .max(100_000)
      .default(50)
      .describe('The dataset must have at least this many cases, and the gate decides only on at least this many compared cases.'),
  })
  .describe(
    'Replays control and candidate on the dataset; a case whose candidate call fails counts as overridden, one whose control call fails is left out, and a replay that mostly failed never passes.',
  );

export const gateSchema = z
  .strictObject({ replay: replayGateSchema.optional(), shadow: shadowGateSchema.optional() })
  .refine((g) => g.replay !== undefined || g.shadow !== undefined, { message: 'name the gate: replay and/or shadow', path: ['replay'] })
  .describe(
    'Created `gated` (no customer traffic moves) until the gate passes; `advance` with {"override": true, "reason"} skips it (audited).',
  );

export type ReplayGate = z.infer<typeof replayGateSchema>;
export type Gate = z.infer<typeof gateSchema>;

/**
 * Where a gate stands: replaying, waiting for shadow pairs, decided, undecidable on this evidence,
 * or set aside by a person.
 */
export type GateState = 'replaying' | 'waiting' | 'passed' | 'failed' | 'inconclusive' | 'overridden' | 'abandoned';

/**
 * What every gate decides on: the paired 2×2 table of override outcomes, both arms' override
 * rates over the pairs, and the one-sided bounds of (candidate − control) at `alpha` against
 * `maxIncrease`.
 */
interface PairedGateFigures extends PairedCounts {
  pairs: number;
  controlOverrideRate: number;
  candidateOverrideRate: number;
  /** candidate − control. */
  estimate: number;
  /** One-sided bounds at `alpha`. */
  lowerBound: number;
  upperBound: number;
  maxIncrease: number;
  alpha: number;
  mcnemarPValue: number;
  method: string;
}

/**
 * The figures a shadow gate decides on (README "Shadow runs"): the scored shadow pairs, the
 * bounds always valid, however often the gate looks.
 */
export interface ShadowGateFigures extends PairedGateFigures {
  minPairs: number;
}

export type { ShadowGate };

/** The figures a replay gate decided on (events `gate_passed`, `gate_failed`, `gate_inconclusive`). */
export interface GateFigures extends PairedGateFigures {
  /**
   * Cases whose call failed, per replay: the candidate's count as overridden where the control
   * answered; the control's are left out of the pairs (src/domain/replay/paired-comparison.ts).
   */
  errors: { control: number; candidate: number };
  replays: { control: string; candidate: string };
}

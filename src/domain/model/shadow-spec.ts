/**
 * A rollout's shadow settings (README "Shadow runs"): which control-served calls are also run on
 * the candidate, and how much shadow traffic a rollout may cause; and the shadow gate, the
 * evidence a rollout may require from scored pairs before customer traffic moves, and with
 * `everyStage` before each advance.
 */
import { z } from 'zod';
import { idSchema } from './ids.js';

export const shadowSpecSchema = z
  .strictObject({
    percent: z
      .number()
      .gt(0, 'must be above 0 (leave `shadow` out for none)')
      .max(100)
      .multipleOf(0.1, 'at most one decimal place')
      .describe('Share of assignment keys (tenants, or tenant/unit) whose control-served calls are mirrored to the candidate.'),
    environments: z.array(idSchema).min(1).max(50).optional().describe('Omitted: every environment the rollout serves.'),
    tenants: z.array(idSchema).min(1).max(10_000).optional().describe('Omitted: every tenant.'),
    maxPerMinute: z
      .int()
      .min(1)
      .max(1_000_000)
      .optional()
      .describe('Shadow calls started per minute on this replica; more are skipped (counted as `budget`).'),
    maxConcurrent: z
      .int()
      .min(1)
      .max(10_000)
      .optional()
      .describe('Shadow calls in flight on this replica; more are skipped (counted as `concurrency`).'),
  })
  .describe(
    'Calls the rollout serves with the control are also run on the candidate for `percent` of assignment keys (chosen by hash of the key); ' +
      'the caller never waits for, sees or is changed by a shadow call.',
  );

export const shadowGateSchema = z
  .strictObject({
    maxIncrease: z.number().min(0).max(1).describe('Largest acceptable candidate − control override rate on the same calls (absolute).'),
    minPairs: z.int().min(1).max(10_000_000).default(100).describe('Scored shadow pairs needed before the gate decides.'),
    everyStage: z
      .boolean()
      .default(false)
      .describe(
        'Also hold each advance until the shadow pairs scored in the current stage pass the gate (needs shadow calls in the active stages).',
      ),
  })
  .describe(
    'Passes when the always-valid upper bound of (candidate − control) on scored shadow pairs is at most maxIncrease; fails when the lower bound is above it. ' +
      'With everyStage, each stage is gated the same way on the pairs whose control run was served in it: auto-advance waits for its pass, ' +
      'a manual advance is 409 without {"override": true, "reason"}, and a fail rolls the rollout back.',
  );

export type ShadowSpec = z.infer<typeof shadowSpecSchema>;
export type ShadowGate = z.infer<typeof shadowGateSchema>;

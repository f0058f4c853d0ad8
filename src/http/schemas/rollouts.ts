/** Rollouts: response shapes (the request is the domain's rolloutSpecSchema). */
import { z } from 'zod';
import { rolloutStatusSchema, type Rollout, type RolloutEvent } from '../../domain/model/rollout.js';

export const rolloutParams = z.object({ id: z.uuid('must be a rollout id (UUID)') });

export const rolloutSchema = z.object({
  id: z.string(),
  chain: z.string(),
  control: z.string(),
  candidate: z.string(),
  status: rolloutStatusSchema,
  stage: z.number().describe('Index of the latest active stage; stages 0..stage are active.'),
  flag: z.string().describe('The flag in the flag store (Unleash or embedded).'),
  stages: z.array(z.unknown()),
  guardrails: z.array(z.unknown()),
  guardrailAlpha: z.number(),
  alpha: z.number(),
  autoAdvance: z.unknown().optional(),
  fallbackToControl: z.boolean(),
  onUnevaluable: z
    .enum(['warn', 'pause'])
    .describe('What a relative guardrail with no control data does besides its warning, event and webhook.'),
  webhookUrl: z.string().optional(),
  gate: z
    .unknown()
    .optional()
    .describe(
      'The gate as asked for, its state (replaying, waiting, passed, failed, inconclusive, overridden, abandoned) and its figures; ' +
        "with `gate.shadow.everyStage`, `shadowStage` is the current stage's shadow gate: {stage, servedSince, state, figures}.",
    ),
  shadow: z.unknown().optional().describe('The shadow settings (README "Shadow runs").'),
  stageStartedAt: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const actionBody = z
  .strictObject({
    reason: z.string().min(1).max(2000).optional(),
    override: z
      .boolean()
      .optional()
      .describe(
        'advance only: start a gated rollout without its gate, or leave a stage whose shadow gate has not passed (needs a reason; audited).',
      ),
  })
  .refine((b) => b.override !== true || b.reason !== undefined, { path: ['reason'], message: 'an override needs a reason' })
  // Nullish: Fastify validates a request without a body as null.
  .nullish();

export const eventSchema = z.object({
  at: z.string(),
  type: z.string(),
  actor: z.string(),
  reason: z.string().optional(),
  data: z.unknown().optional(),
});

export function toRolloutOut(r: Rollout): z.infer<typeof rolloutSchema> {
  const { spec } = r;
  return {
    id: r.id,
    chain: r.chainId,
    control: r.control,
    candidate: r.candidate,
    status: r.status,
    stage: r.stage,
    flag: r.flag,
    stages: spec.stages,
    guardrails: spec.guardrails,
    guardrailAlpha: spec.guardrailAlpha,
    alpha: spec.alpha,
    ...(spec.autoAdvance ? { autoAdvance: spec.autoAdvance } : {}),
    fallbackToControl: spec.fallbackToControl,
    // Rollouts stored before the field existed warn (its default).
    onUnevaluable: spec.onUnevaluable ?? 'warn',
    ...(spec.webhookUrl ? { webhookUrl: spec.webhookUrl } : {}),
    ...(spec.shadow ? { shadow: spec.shadow } : {}),
    stageStartedAt: r.stageStartedAt.toISOString(),
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

export function toEventOut(e: RolloutEvent): z.infer<typeof eventSchema> {
  return {
    at: e.at.toISOString(),
    type: e.type,
    actor: e.actor,
    ...(e.reason ? { reason: e.reason } : {}),
    ...(e.data !== null && e.data !== undefined ? { data: e.data } : {}),
  };
}

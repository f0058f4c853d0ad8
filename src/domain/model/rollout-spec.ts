/**
 * The rollout a user asks for (POST /v1/rollouts): stages, guardrails, alphas, auto-advance.
 * Validated once by zod; the domain and the HTTP schema share it, and it is stored as the
 * rollout's `spec`.
 */
import { z } from 'zod';
import { GUARDRAIL_METRIC_NAMES, guardrailIssues } from '../guardrails/guardrail-metrics.js';
import { gateSchema } from './gate.js';
import { idSchema } from './ids.js';
import { shadowSpecSchema } from './shadow-spec.js';

export const stageSchema = z
  .strictObject({
    environments: z.array(idSchema).min(1, 'name at least one environment').max(50),
    tenants: z.array(idSchema).min(1).max(10_000).optional().describe('Omitted: every tenant.'),
    excludeTenants: z.array(idSchema).max(10_000).optional(),
    percent: z.number().min(0).max(100).multipleOf(0.1, 'at most one decimal place (Unleash weights are per mille)'),
    splitBy: z.enum(['tenant', 'unit']).default('tenant'),
  })
  .describe('A stage matches calls by environments and tenants, minus excludeTenants; percent of them get the candidate.');

/** Which calls a stage matches, as one comparable string. */
function scopeOf(stage: z.infer<typeof stageSchema>): string {
  const sorted = (xs: readonly string[] | undefined) => (xs === undefined ? '*' : [...xs].sort().join(','));
  return [sorted(stage.environments), sorted(stage.tenants), sorted(stage.excludeTenants ?? []), stage.splitBy].join('|');
}

const metric = z.enum(GUARDRAIL_METRIC_NAMES);

export const guardrailSchema = z
  .strictObject({
    metric,
    maxIncrease: z
      .number()
      .min(0)
      .optional()
      .describe("Over the control: absolute points for rates (at most 1), milliseconds over the control's p95 for latency_p95_ms."),
    max: z.number().min(0).optional().describe('Absolute ceiling: a rate in [0, 1], or milliseconds for latency_p95_ms.'),
    minSamples: z.int().min(1).max(10_000_000).default(100),
  })
  .superRefine((g, ctx) => {
    if (g.maxIncrease === undefined && g.max === undefined)
      ctx.addIssue({ code: 'custom', path: ['max'], message: 'give max and/or maxIncrease' });
    // Which limits each metric takes, and which values: its definition (guardrail-metrics.ts).
    for (const issue of guardrailIssues(g)) ctx.addIssue({ code: 'custom', path: [issue.path], message: issue.message });
  });

export const rolloutSpecSchema = z
  .strictObject({
    chain: idSchema,
    control: idSchema,
    candidate: idSchema,
    stages: z
      .array(stageSchema)
      .max(20)
      .describe('At least one, unless `shadow` is set: `[]` with `shadow` measures the candidate in the shadow only, moving no traffic.'),
    guardrails: z.array(guardrailSchema).max(20).default([]),
    guardrailAlpha: z.number().gt(0).lt(0.5).default(0.05),
    alpha: z.number().gt(0).lt(0.5).default(0.05).describe("Level of the verdict's always-valid interval."),
    autoAdvance: z
      .strictObject({ minSamples: z.int().min(1).default(200), minDurationMinutes: z.number().min(0).default(60) })
      .optional()
      .describe('Needs at least one guardrail: it advances on positive evidence that every guardrail holds.'),
    onUnevaluable: z
      .enum(['warn', 'pause'])
      .default('warn')
      .describe('A relative guardrail with no control data once the candidate has minSamples: warn only, or pause the rollout too.'),
    fallbackToControl: z.boolean().default(false),
    webhookUrl: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).optional(),
    gate: gateSchema.optional(),
    shadow: shadowSpecSchema.optional(),
  })
  .superRefine((spec, ctx) => {
    // Assignment is sticky only while a scope's percent grows: a later stage giving the same
    // calls a lower percent would send units already on the candidate back to the control.
    const scopes = spec.stages.map(scopeOf);
    spec.stages.forEach((stage, j) => {
      const i = scopes.findIndex((scope, k) => k < j && scope === scopes[j] && spec.stages[k]!.percent > stage.percent);
      if (i >= 0)
        ctx.addIssue({
          code: 'custom',
          path: ['stages', j, 'percent'],
          message: `stage ${j} gives the calls of stage ${i} a lower percent (${stage.percent} < ${spec.stages[i]!.percent}): units already on the candidate would go back to the control; to take traffic back, pause or roll back`,
        });
    });
    if (spec.stages.length === 0 && spec.shadow === undefined) {
      ctx.addIssue({ code: 'custom', path: ['stages'], message: 'give at least one stage, or `shadow` for a shadow-only rollout' });
    }
    if (spec.autoAdvance !== undefined && spec.guardrails.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['autoAdvance'],
        message: 'needs at least one guardrail (auto-advance moves on positive evidence that every guardrail holds)',
      });
    }
    if (spec.gate?.shadow !== undefined && spec.shadow === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['gate', 'shadow'],
        message: 'a shadow gate needs `shadow` (which calls to mirror to the candidate)',
      });
    }
  });

export type RolloutSpec = z.infer<typeof rolloutSpecSchema>;
export type RolloutSpecInput = z.input<typeof rolloutSpecSchema>;
export type Stage = z.infer<typeof stageSchema>;
export type Guardrail = z.infer<typeof guardrailSchema>;

/**
 * What a rollout plan is asked (POST /v1/rollouts/plan, `chain-canary plan`): the control's rates,
 * the traffic and its split, the guardrails as a rollout would declare them, and optionally a
 * hypothetical candidate. Validated once by zod; the HTTP schema and the CLI share it.
 */
import { z } from 'zod';
import { guardrailSchema } from './rollout-spec.js';

const rate = z.number().min(0).max(1);

/** Checks one simulated sequence may make: beyond it a single sequence could outrun the time budget. */
export const MAX_PLAN_CHECKS = 50_000;
/** Simulations one plan may ask for (the time budget usually caps them first). */
export const MAX_PLAN_SIMULATIONS = 100_000;
/** Tenants of a tenant split when the plan does not say. */
export const DEFAULT_PLAN_TENANTS = 40;

export const planRequestSchema = z
  .strictObject({
    guardrails: z.array(guardrailSchema).max(20).default([]).describe('As in POST /v1/rollouts.'),
    guardrailAlpha: z.number().gt(0).lt(0.5).default(0.05),
    alpha: z.number().gt(0).lt(0.5).default(0.05).describe("Level of the verdict's always-valid interval, as the rollout's `alpha`."),
    control: z
      .strictObject({
        overrideRate: rate,
        errorRate: rate.default(0),
        reviewRate: rate.default(1).describe('Reviewed / answered runs.'),
      })
      .describe("The control's rates (today's traffic)."),
    candidate: z
      .strictObject({ overrideRate: rate.optional(), errorRate: rate.optional(), reviewRate: rate.optional() })
      .optional()
      .describe("A hypothetical candidate; omitted fields (or the whole object) are the control's: an identical candidate."),
    traffic: z.strictObject({
      runsPerDay: z.number().gt(0).max(1e9).describe('Runs per day through the stage (both arms).'),
      candidateShare: z
        .number()
        .gt(0)
        .max(1)
        .describe("The stage's share of runs (or tenants) sent to the candidate; 1: all, against a baseline of the same volume."),
      days: z.number().gt(0).max(365),
      splitBy: z.enum(['unit', 'tenant']).default('unit'),
      tenants: z.int().min(2).max(10_000).optional().describe(`Tenants in the stage (tenant splits; default ${DEFAULT_PLAN_TENANTS}).`),
      tenantSpread: z.number().min(0).max(0.5).default(0).describe("Standard deviation of tenants' own override rates."),
    }),
    checkEveryMinutes: z.number().min(1).max(43_200).default(10).describe('How often the guardrail job looks.'),
    simulations: z.int().min(1).max(MAX_PLAN_SIMULATIONS).default(1000).describe('Asked for; the time budget may run fewer.'),
    seed: z.int().min(0).max(0xffff_ffff).default(1).describe('Same seed, same answer.'),
  })
  .superRefine((p, ctx) => {
    const checks = (p.traffic.days * 1440) / p.checkEveryMinutes;
    if (checks > MAX_PLAN_CHECKS)
      ctx.addIssue({
        code: 'custom',
        path: ['checkEveryMinutes'],
        message: `days × 1440 / checkEveryMinutes is ${Math.round(checks)} checks; at most ${MAX_PLAN_CHECKS}: check less often or plan fewer days`,
      });
    if (checks < 1)
      ctx.addIssue({
        code: 'custom',
        path: ['checkEveryMinutes'],
        message: `the stage ends (days × 1440 = ${p.traffic.days * 1440} min) before the guardrail job's first look (checkEveryMinutes ${p.checkEveryMinutes}): nothing would be decided`,
      });
    if (p.traffic.candidateShare === 1 && p.traffic.splitBy === 'tenant')
      ctx.addIssue({
        code: 'custom',
        path: ['traffic', 'splitBy'],
        message: 'a 100% stage has no randomized tenants: plan it with splitBy "unit" (its control is a baseline)',
      });
    if (p.traffic.splitBy === 'tenant' && (p.traffic.tenants ?? DEFAULT_PLAN_TENANTS) * p.traffic.candidateShare < 1)
      ctx.addIssue({
        code: 'custom',
        path: ['traffic', 'tenants'],
        message: 'tenants × candidateShare is below one: most simulated rollouts would give no tenant the candidate',
      });
  });

export type PlanRequest = z.infer<typeof planRequestSchema>;
export type PlanRequestInput = z.input<typeof planRequestSchema>;

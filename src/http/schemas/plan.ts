/** The rollout planner's answer (POST /v1/rollouts/plan); the request is the domain's planRequestSchema. */
import { z } from 'zod';
import { GUARDRAIL_LIMITS, GUARDRAIL_METRIC_NAMES } from '../../domain/guardrails/guardrail-metrics.js';

export { planRequestSchema } from '../../domain/model/plan-request.js';

const probability = z.number().min(0).max(1);

export const planAnswerSchema = z.object({
  fireProbability: z
    .object({
      estimate: probability.describe('Share of simulated rollouts rolled back; without `candidate`, the false-rollback rate.'),
      ci: z.tuple([probability, probability]).describe('95% Wilson interval (Monte Carlo error).'),
    })
    .describe('Probability that some guardrail rolls the candidate back within `days`.'),
  byGuardrail: z
    .array(z.object({ metric: z.enum(GUARDRAIL_METRIC_NAMES), limit: z.enum(GUARDRAIL_LIMITS), fireProbability: probability }))
    .describe('Per check (a guardrail with max and maxIncrease makes two), in spec order: the share of rollouts it rolled back.'),
  timeToFire: z
    .object({
      medianDays: z.number(),
      p90Days: z.number(),
      medianCandidateReviewed: z.number(),
      p90CandidateReviewed: z.number(),
    })
    .nullable()
    .describe('Among rolled-back rollouts: when (days since the start, candidate reviewed runs). null: none was.'),
  verdict: z.object({
    probabilityWorse: probability.describe('Share of rollouts whose verdict became candidate_worse within `days`.'),
    probabilityBetter: probability,
    medianDaysToVerdict: z
      .number()
      .nullable()
      .describe('Median days to a better/worse verdict over all simulated rollouts; null when most never reach one.'),
  }),
  simulations: z.int().min(0).describe('How many ran: the request asks, the 30 s compute budget may cap it.'),
  method: z.string(),
});

/** The rollout planner (admin): how a rollout's guardrails and verdict would behave, before it starts. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { errorResponses } from '../schemas/common.js';
import { planAnswerSchema, planRequestSchema } from '../schemas/plan.js';
import type { AppServices } from '../services.js';

export const rolloutPlanRoutes: FastifyPluginAsyncZod<{ services: Pick<AppServices, 'planner'> }> = async (app, { services }) => {
  const { planner } = services;
  app.post(
    '/v1/rollouts/plan',
    {
      schema: {
        tags: ['rollouts'],
        operationId: 'planRollout',
        summary: 'Plan a rollout: false rollbacks, power, time to a verdict',
        description: [
          "Simulates a rollout stage on synthetic data drawn from the control's rates (and a hypothetical candidate's) and decides",
          'every check with the production guardrail and verdict code, seeded: the same request gives the same answer. Without',
          '`candidate`, `fireProbability` is the false-rollback rate of an identical candidate. Answers within 30 s: `simulations`',
          'says how many ran in them (0 when not one simulated rollout fits). Plans run on a thread of their own, so the gateway',
          'keeps serving while they run; plans at once share that thread, each still answering within its 30 s.',
        ].join(' '),
        body: planRequestSchema,
        response: { 200: planAnswerSchema, ...errorResponses },
      },
    },
    async (req) => planner.plan(req.body),
  );
};

/** A rollout's shadow runs compared with its control on the same calls (admin). */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ShadowService } from '../../domain/services/shadow-service.js';
import { errorResponses } from '../schemas/common.js';
import { rolloutParams } from '../schemas/rollouts.js';
import { shadowReportSchema } from '../schemas/shadow.js';

export const shadowRoutes: FastifyPluginAsyncZod<{ services: { shadow: ShadowService } }> = async (app, { services }) => {
  app.get(
    '/v1/rollouts/:id/shadow',
    {
      schema: {
        tags: ['rollouts'],
        operationId: 'getRolloutShadow',
        summary: "Compare a rollout's shadow runs with the control on the same calls",
        description: [
          "The candidate's shadow runs paired with the control runs they mirrored: each reviewed control run whose shadow call",
          "produced an output is scored twice against the human's record (the feedback rules), giving a 2×2 table overall, per",
          "field, per tenant and per stage, both override rates on the same calls, their difference with Newcombe's paired interval",
          "and an always-valid confidence sequence, McNemar's exact p-value and its always-valid version. Shadow calls that failed",
          'count in candidateErrors, calls skipped by the limits in skipped. The human saw the control, not the candidate: the',
          'scores lean against the candidate (warning shadow_anchoring).',
        ].join(' '),
        params: rolloutParams,
        response: { 200: shadowReportSchema, ...errorResponses },
      },
    },
    async (req) => services.shadow.report(req.params.id),
  );
};

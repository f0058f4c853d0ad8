/** Rollouts and their lifecycle (admin). */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorName } from '../../domain/auth/principal.js';
import type { Rollout } from '../../domain/model/rollout.js';
import type { RolloutAction } from '../../domain/services/rollout-service.js';
import { rolloutSpecSchema } from '../../domain/model/rollout-spec.js';
import { errorResponses } from '../schemas/common.js';
import { actionBody, eventSchema, rolloutParams, rolloutSchema, toEventOut, toRolloutOut } from '../schemas/rollouts.js';
import type { AppServices } from '../services.js';

const ACTIONS: { action: RolloutAction; summary: string; description: string }[] = [
  {
    action: 'advance',
    summary: 'Advance a rollout to its next stage',
    description:
      'Moves to the next stage; earlier stages stay active. 409 at the last stage. A gated rollout: 409 unless {"override": true, "reason"}, which starts stage 0 without the gate (audited). ' +
      'With `gate.shadow.everyStage`, 409 `shadow_gate_pending` until the current stage\'s shadow gate has passed, unless {"override": true, "reason"} (audited).',
  },
  { action: 'pause', summary: 'Pause a rollout', description: 'Sends every call to the control (current version); state is kept.' },
  { action: 'resume', summary: 'Resume a paused rollout', description: 'Resumes a paused rollout at its stage.' },
  {
    action: 'promote',
    summary: 'Promote the candidate',
    description: "Makes the candidate the chain's current version and retires the flag.",
  },
  { action: 'rollback', summary: 'Roll a rollout back', description: 'Sends every call to the control for good; body {"reason"}.' },
];

export const rolloutRoutes: FastifyPluginAsyncZod<{ services: AppServices }> = async (app, { services }) => {
  const { rollouts } = services;
  const tags = ['rollouts'];

  app.post(
    '/v1/rollouts',
    {
      schema: {
        tags,
        operationId: 'createRollout',
        summary: 'Start a rollout',
        description:
          "Starts a rollout at stage 0; with a `gate`, it is created `gated` (no traffic moves) and starts stage 0 when the gate passes. `control` must be the chain's current version; one gated, running or paused rollout per chain (409).",
        body: rolloutSpecSchema,
        response: { 201: rolloutSchema, ...errorResponses },
      },
    },
    async (req, reply) => {
      await services.gates.validate(req.body);
      return reply.status(201).send(await withGate(await rollouts.create(req.body, actorName(req.principal))));
    },
  );

  app.get(
    '/v1/rollouts',
    {
      schema: {
        tags,
        operationId: 'listRollouts',
        summary: 'List rollouts',
        response: { 200: z.object({ items: z.array(rolloutSchema) }) },
      },
    },
    async () => ({
      items: (await rollouts.list()).map(toRolloutOut),
    }),
  );

  app.get(
    '/v1/rollouts/:id',
    {
      schema: {
        tags,
        operationId: 'getRollout',
        summary: 'Get a rollout',
        params: rolloutParams,
        response: { 200: rolloutSchema, ...errorResponses },
      },
    },
    async (req) => withGate(await rollouts.get(req.params.id)),
  );

  app.get(
    '/v1/rollouts/:id/events',
    {
      schema: {
        tags,
        operationId: 'listRolloutEvents',
        summary: "A rollout's audit log",
        description: 'The audit log, oldest first.',
        params: rolloutParams,
        response: { 200: z.object({ events: z.array(eventSchema) }), ...errorResponses },
      },
    },
    async (req) => ({ events: (await rollouts.events(req.params.id)).map(toEventOut) }),
  );

  for (const { action, summary, description } of ACTIONS) {
    app.post(
      `/v1/rollouts/:id/${action}`,
      {
        schema: {
          tags,
          operationId: `${action}Rollout`,
          summary,
          description,
          params: rolloutParams,
          body: actionBody,
          response: { 200: rolloutSchema, ...errorResponses },
        },
      },
      async (req) => {
        const override = action === 'advance' && req.body?.override === true ? { override: true } : undefined;
        const { rollout } = await rollouts.act(req.params.id, action, actorName(req.principal), req.body?.reason, override);
        return withGate(rollout);
      },
    );
  }

  /** The rollout with its gate's state and figures, when it has a gate. */
  async function withGate(rollout: Rollout) {
    const gate = rollout.spec.gate ? await services.gates.view(rollout) : undefined;
    return { ...toRolloutOut(rollout), ...(gate ? { gate } : {}) };
  }
};

/** POST /v1/chains/:chain/invoke: the hot path (tenant key for its own tenant, or admin). */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { BadRequestError } from '../../domain/model/errors.js';
import { answerHeaders, idempotencyKeyOf } from '../invoke-reply.js';
import { actingTenant } from '../plugins/auth.js';
import { chainParams } from '../schemas/catalog.js';
import { errorResponses } from '../schemas/common.js';
import { invokeBody, invokeErrorResponse, invokeHeaders, invokeResponse } from '../schemas/runs.js';
import type { AppServices } from '../services.js';

export const invokeRoutes: FastifyPluginAsyncZod<{ services: Pick<AppServices, 'invoke' | 'journal'> }> = async (app, { services }) => {
  app.post(
    '/v1/chains/:chain/invoke',
    {
      config: { access: 'tenant' },
      schema: {
        tags: ['invoke'],
        operationId: 'invokeChain',
        summary: 'Invoke a chain',
        description:
          'Runs the version this tenant and environment are routed to and records the run. An `Idempotency-Key` header makes retries safe for 24 hours. Every answer carries `Server-Timing: gateway;dur=…, upstream;dur=…`.',
        params: chainParams,
        headers: invokeHeaders,
        body: invokeBody,
        response: { 200: invokeResponse, 502: invokeErrorResponse, 504: invokeErrorResponse, ...errorResponses },
      },
    },
    async (req, reply) => {
      const body = req.body;
      const tenant = actingTenant(req.principal, body.tenant);
      if (tenant === undefined) throw new BadRequestError('body.tenant: is required with an admin token', { field: 'body.tenant' });
      const result = await services.invoke.invoke({
        chain: req.params.chain,
        tenant,
        environment: body.environment,
        input: body.input,
        unit: body.unit,
        externalId: body.externalId,
        metadata: body.metadata,
        idempotencyKey: idempotencyKeyOf(req.headers['idempotency-key']),
      });
      const failed = answerHeaders(reply, result, req.principal, services.journal);
      if (failed) return reply.status(failed.status).send(failed.body);
      return reply.send({
        runId: result.runId,
        chain: result.chain,
        version: result.version,
        variant: result.variant,
        output: result.output,
        latencyMs: Math.round(result.latencyMs * 1000) / 1000,
        ...(result.fallback ? { fallback: true } : {}),
      });
    },
  );
};

/** POST /v1/chains/:chain/invoke: the hot path (tenant key for its own tenant, or admin). */
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AppServices } from '../../app.js';
import { BadRequestError } from '../../domain/model/errors.js';
import type { InvokeResult } from '../../domain/services/invoke-service.js';
import { actingTenant } from '../plugins/auth.js';
import { upstreamErrorView } from './upstream-error-view.js';
import { chainParams } from '../schemas/catalog.js';
import { errorResponses } from '../schemas/common.js';
import { invokeBody, invokeErrorResponse, invokeResponse } from '../schemas/runs.js';

export function serverTiming(r: Pick<InvokeResult, 'latencyMs' | 'upstreamMs'>): string {
  const gateway = Math.max(0, r.latencyMs - r.upstreamMs);
  return `gateway;dur=${gateway.toFixed(3)}, upstream;dur=${r.upstreamMs.toFixed(3)}`;
}

/**
 * The run was answered while the spool could not be written (a full or failing disk): it is held
 * in memory until the database has it, and a crash before then would lose it. Said in a header
 * (README "Operations"), since the answer itself is good.
 */
export function warnIfNotJournaled(reply: FastifyReply, services: Pick<AppServices, 'journal'>, runId: string): void {
  if (services.journal.notJournaled(runId)) {
    reply.header('x-chain-canary-warning', 'run_not_journaled; the run is held in memory until the database takes it (the spool cannot be written)');
  }
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export function idempotencyKeyOf(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const key = Array.isArray(header) ? header[0] : header;
  if (key === undefined || !IDEMPOTENCY_KEY.test(key)) {
    throw new BadRequestError('Idempotency-Key must be 1 to 255 visible ASCII characters.', { field: 'headers.idempotency-key' });
  }
  return key;
}

export const invokeRoutes: FastifyPluginAsyncZod<{ services: AppServices }> = async (app, { services }) => {
  app.post(
    '/v1/chains/:chain/invoke',
    {
      config: { access: 'tenant' },
      schema: {
        tags: ['invoke'], operationId: 'invokeChain', summary: 'Invoke a chain',
        description:
          'Runs the version this tenant and environment are routed to and records the run. An `Idempotency-Key` header makes retries safe for 24 hours. Every answer carries `Server-Timing: gateway;dur=…, upstream;dur=…`.',
        params: chainParams,
        body: invokeBody,
        response: { 200: invokeResponse, 502: invokeErrorResponse, 504: invokeErrorResponse, ...errorResponses },
      },
    },
    async (req, reply) => {
      const body = req.body;
      const tenant = actingTenant(req.principal, body.tenant);
      if (tenant === undefined) throw new BadRequestError('body.tenant: is required with an admin token', { field: 'body.tenant' });
      // Spool full: a 503 before the upstream is called, so no call is made whose run cannot be kept.
      services.writer.assertCapacity();
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
      // The gateway's share from Fastify's clock (request received, routed, authenticated, parsed and
      // validated, then the call), not only the service's: the bench found the service's own figure
      // (~0.05 ms) hides most of what a caller waits for. A replay keeps the stored figures.
      reply.header('server-timing', serverTiming(result.replayed ? result : { latencyMs: reply.elapsedTime, upstreamMs: result.upstreamMs }));
      if (result.replayed) reply.header('idempotent-replayed', 'true');
      warnIfNotJournaled(reply, services, result.runId);
      if (result.error) {
        const e = result.error;
        return reply.status(e.statusCode as 502 | 504).send({ runId: result.runId, error: upstreamErrorView(e, req.principal) });
      }
      return reply.send({
        runId: result.runId,
        chain: result.chain,
        version: result.version,
        variant: result.variant,
        output: result.output,
        latencyMs: Math.round(result.latencyMs * 1000) / 1000,
      });
    },
  );
};

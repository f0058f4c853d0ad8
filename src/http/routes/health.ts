/** Liveness, readiness, and the OpenAPI document (no token). */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppServices } from '../services.js';

export const healthRoutes: FastifyPluginAsyncZod<{ services: AppServices }> = async (app, { services }) => {
  const tags = ['health'];
  app.get(
    '/healthz',
    {
      config: { access: 'public' },
      schema: {
        tags,
        operationId: 'getHealth',
        summary: 'Liveness: the process runs',
        response: { 200: z.object({ status: z.literal('ok') }) },
      },
    },
    async () => ({
      status: 'ok' as const,
    }),
  );

  app.get(
    '/readyz',
    {
      config: { access: 'public' },
      schema: {
        tags,
        operationId: 'getReadiness',
        summary: 'Readiness: can the gateway serve',
        description:
          '200 with status ok or degraded (e.g. Unleash unreachable: routing on last known flags; database away: runs spooled). 503 only when the gateway cannot serve: the run spool is full or cannot be written (`spool.writable` false: a full or failing disk).',
      },
    },
    async (_req, reply) => {
      const r = await services.readiness();
      return reply.status(r.status === 'unavailable' ? 503 : 200).send(r);
    },
  );

  app.get('/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () => app.swagger());
};

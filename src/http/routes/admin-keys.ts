/**
 * Named admin keys (admin): every right of the admin token, each revocable on its own and named
 * as the actor in the audit log, so that people and systems need not share ADMIN_TOKEN.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { createdKeySchema, createKeyBody } from '../schemas/catalog.js';
import { errorResponses, uuidSchema } from '../schemas/common.js';
import type { AppServices } from '../services.js';

/** A tenant key's answer without its tenant. */
const createdAdminKeySchema = createdKeySchema.omit({ tenantId: true });

export const adminKeyRoutes: FastifyPluginAsyncZod<{ services: Pick<AppServices, 'catalog'> }> = async (app, { services }) => {
  const { catalog } = services;
  const tags = ['tenants'];

  app.post(
    '/v1/admin-keys',
    {
      schema: {
        tags,
        operationId: 'createAdminKey',
        summary: 'Create a named admin key',
        description: 'A key with every right of the admin token, named in the audit log, revocable on its own.',
        body: createKeyBody,
        response: { 201: createdAdminKeySchema, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await catalog.createAdminKey(req.body?.name)),
  );

  app.delete(
    '/v1/admin-keys/:keyId',
    {
      schema: {
        tags,
        operationId: 'revokeAdminKey',
        summary: 'Revoke a named admin key',
        params: z.object({ keyId: uuidSchema }),
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (req, reply) => {
      await catalog.revokeAdminKey(req.params.keyId);
      return reply.status(204).send(null);
    },
  );
};

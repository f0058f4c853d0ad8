/** Tenants and their API keys (admin). */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { createdKeySchema, createKeyBody, putTenantBody, tenantKeyParams, tenantParams, tenantSchema } from '../schemas/catalog.js';
import { errorResponses } from '../schemas/common.js';
import type { Tenant } from '../../domain/model/catalog.js';
import type { AppServices } from '../services.js';

const toTenant = (t: Tenant) => ({ id: t.id, name: t.name, createdAt: t.createdAt.toISOString(), updatedAt: t.updatedAt.toISOString() });

export const tenantRoutes: FastifyPluginAsyncZod<{ services: AppServices }> = async (app, { services }) => {
  const { catalog } = services;
  const tags = ['tenants'];

  app.put(
    '/v1/tenants/:tenantId',
    {
      schema: {
        tags,
        operationId: 'putTenant',
        summary: 'Create or rename a tenant',
        params: tenantParams,
        body: putTenantBody,
        response: { 200: tenantSchema, 201: tenantSchema, ...errorResponses },
      },
    },
    async (req, reply) => {
      const { row, created } = await catalog.putTenant(req.params.tenantId, req.body?.name);
      return reply.status(created ? 201 : 200).send(toTenant(row));
    },
  );

  app.get(
    '/v1/tenants',
    {
      schema: { tags, operationId: 'listTenants', summary: 'List tenants', response: { 200: z.object({ items: z.array(tenantSchema) }) } },
    },
    async () => ({
      items: catalog.listTenants().map(toTenant),
    }),
  );

  app.post(
    '/v1/tenants/:tenantId/keys',
    {
      schema: {
        tags,
        operationId: 'createTenantKey',
        summary: 'Create an API key for a tenant',
        params: tenantParams,
        body: createKeyBody,
        response: { 201: createdKeySchema, ...errorResponses },
      },
    },
    async (req, reply) => {
      const created = await catalog.createKey(req.params.tenantId, req.body?.name);
      return reply.status(201).send({ ...created, tenantId: req.params.tenantId });
    },
  );

  app.delete(
    '/v1/tenants/:tenantId/keys/:keyId',
    {
      schema: {
        tags,
        operationId: 'revokeTenantKey',
        summary: 'Revoke a tenant key',
        params: tenantKeyParams,
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (req, reply) => {
      await catalog.revokeKey(req.params.tenantId, req.params.keyId);
      return reply.status(204).send(null);
    },
  );

  app.delete(
    '/v1/tenants/:tenantId/runs',
    {
      schema: {
        tags,
        operationId: 'eraseTenantRuns',
        summary: "Erase a tenant's data (GDPR)",
        description: "Erases the tenant's runs and feedback (GDPR). Answers 202 at once; `statusUrl` tells when it is done.",
        params: tenantParams,
        response: {
          202: z.object({ tenantId: z.string(), erasureId: z.string(), status: z.string(), statusUrl: z.string() }),
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      catalog.requireTenant(req.params.tenantId);
      const job = await services.erasure.start(req.params.tenantId);
      return reply
        .status(202)
        .send({ tenantId: req.params.tenantId, erasureId: job.id, status: job.status, statusUrl: `/v1/erasures/${job.id}` });
    },
  );

  app.get(
    '/v1/erasures/:erasureId',
    {
      schema: {
        tags,
        operationId: 'getErasure',
        summary: 'Follow an erasure',
        params: z.object({ erasureId: z.uuid() }),
        response: {
          200: z.object({
            erasureId: z.string(),
            tenantId: z.string(),
            status: z.string(),
            deletedRuns: z.number().optional(),
            deletedDatasetCases: z.number().optional(),
            finishedAt: z.string().optional(),
            error: z.string().optional(),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => services.erasure.status(req.params.erasureId),
  );
};

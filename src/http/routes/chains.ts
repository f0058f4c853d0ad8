/** Chains and their immutable versions (admin). */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { upstreamRefusal } from '../../adapters/adapter-registry.js';
import { providerProblem, type OpenAIProviderSettings } from '../../adapters/openai-provider.js';
import type { UpstreamAllowList } from '../../adapters/upstream-allow.js';
import { chainEnvironments, type Chain, type ChainVersion } from '../../domain/model/catalog.js';
import { BadRequestError } from '../../domain/model/errors.js';
import { chainParams, chainSchema, createVersionBody, putChainBody, versionSchema } from '../schemas/catalog.js';
import { errorResponses } from '../schemas/common.js';
import type { AppServices } from '../services.js';

const toChain = (c: Chain) => ({
  id: c.id,
  description: c.description,
  current: c.currentVersion,
  ...(c.redaction ? { redaction: c.redaction } : {}),
  ...(c.trackedFields ? { trackedFields: c.trackedFields } : {}),
  environments: [...chainEnvironments(c)],
  createdAt: c.createdAt.toISOString(),
  updatedAt: c.updatedAt.toISOString(),
});

const toVersion = (v: ChainVersion) => ({ chain: v.chainId, version: v.version, adapter: v.adapter, createdAt: v.createdAt.toISOString() });

export const chainRoutes: FastifyPluginAsyncZod<{
  services: AppServices;
  upstreamAllow?: UpstreamAllowList;
  providers?: OpenAIProviderSettings;
}> = async (app, { services, upstreamAllow, providers = {} }) => {
  const { catalog } = services;
  const tags = ['chains'];

  app.put(
    '/v1/chains/:chain',
    {
      schema: {
        tags,
        operationId: 'putChain',
        summary: 'Create or change a chain',
        params: chainParams,
        body: putChainBody,
        response: { 200: chainSchema, 201: chainSchema, ...errorResponses },
      },
    },
    async (req, reply) => {
      const { row, created } = await catalog.putChain(req.params.chain, req.body ?? {});
      return reply.status(created ? 201 : 200).send(toChain(row));
    },
  );

  app.get(
    '/v1/chains',
    { schema: { tags, operationId: 'listChains', summary: 'List chains', response: { 200: z.object({ items: z.array(chainSchema) }) } } },
    async () => ({
      items: catalog.listChains().map(toChain),
    }),
  );

  app.get(
    '/v1/chains/:chain',
    {
      schema: {
        tags,
        operationId: 'getChain',
        summary: 'Get a chain with its versions',
        params: chainParams,
        response: { 200: chainSchema.extend({ versions: z.array(versionSchema) }), ...errorResponses },
      },
    },
    async (req) => ({
      ...toChain(catalog.requireChain(req.params.chain)),
      versions: catalog.listVersions(req.params.chain).map(toVersion),
    }),
  );

  app.post(
    '/v1/chains/:chain/versions',
    {
      schema: {
        tags,
        operationId: 'createChainVersion',
        summary: 'Register a chain version',
        description: 'Registers an immutable version. The same id with the same definition is 200; with another, 409.',
        params: chainParams,
        body: createVersionBody,
        response: { 200: versionSchema, 201: versionSchema, ...errorResponses },
      },
    },
    async (req, reply) => {
      const refused = upstreamRefusal(req.body.adapter, upstreamAllow);
      if (refused !== undefined)
        throw new BadRequestError(`body.adapter.url: ${refused}`, { field: 'body.adapter.url' }, 'upstream_not_allowed');
      const { row, created } = await catalog.addVersion(req.params.chain, req.body.version, req.body.adapter);
      const problem = providerProblem(req.body.adapter, providers);
      if (problem === undefined) return reply.status(created ? 201 : 200).send(toVersion(row));
      const warning = `provider_not_configured: ${problem} Calls to this version fail (502) until it is set.`;
      reply.header('x-chain-canary-warning', warning);
      return reply.status(created ? 201 : 200).send({ ...toVersion(row), warnings: [warning] });
    },
  );

  app.get(
    '/v1/chains/:chain/versions',
    {
      schema: {
        tags,
        operationId: 'listChainVersions',
        summary: "List a chain's versions",
        params: chainParams,
        response: { 200: z.object({ items: z.array(versionSchema) }), ...errorResponses },
      },
    },
    async (req) => ({ items: catalog.listVersions(req.params.chain).map(toVersion) }),
  );
};

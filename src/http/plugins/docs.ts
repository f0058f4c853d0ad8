/**
 * OpenAPI 3.1 from the routes' zod schemas (@fastify/swagger with fastify-type-provider-zod) and
 * Swagger UI at /docs. Each operation gets its operationId, summary, tags and error responses in
 * ../openapi/operations.ts; shared schemas are components (../openapi/components.ts); examples and
 * tidying of the whole document are in ../openapi/document.ts.
 * Swagger UI is a page: security-headers.ts gives it the pages' CSP (no inline scripts: its
 * bootstrap is a file, swagger-initializer.js).
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { registerComponentSchemas } from '../openapi/components.js';
import { addExamples, declareTags, eventStreams, tidyComponents } from '../openapi/document.js';
import { describeOperation } from '../openapi/operations.js';
import { VERSION } from '../../version.js';

export const TAGS = [
  { name: 'health', description: 'Liveness, readiness and Prometheus metrics (no token).' },
  { name: 'tenants', description: 'Tenants, their API keys, and erasure of their data (admin).' },
  { name: 'chains', description: 'Chains and their immutable versions (admin).' },
  { name: 'invoke', description: 'Calling a chain through the gateway (tenant key or admin).' },
  { name: 'langserve', description: "LangServe's endpoints, for LangChain's RemoteRunnable." },
  { name: 'runs', description: 'Recorded runs and human feedback on them.' },
  { name: 'rollouts', description: 'Rollouts, their lifecycle, comparison, time series and audit log (admin).' },
];

export const docsPlugin = fp(
  async (app: FastifyInstance) => {
    registerComponentSchemas();
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'chain-canary',
          version: VERSION,
          description:
            'A canary gateway for LLM chains: routes each tenant and environment to a control or candidate chain version through Unleash flags, records every run, measures how often humans override the AI, and rolls a worse candidate back by itself. Errors are `{"error": {"code", "message", "details"?}}`.',
          license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
        },
        // Relative: Swagger UI's "Try it out" calls the gateway that serves this document.
        servers: [{ url: '/', description: 'The gateway serving this document' }],
        tags: TAGS,
        components: {
          securitySchemes: {
            bearer: { type: 'http', scheme: 'bearer', description: 'The admin token, a named admin key, or a tenant key.' },
          },
        },
        security: [{ bearer: [] }],
      },
      transform: (input) => {
        const out = jsonSchemaTransform(input);
        if (!out.schema || (out.schema as { hide?: boolean }).hide) return out;
        return { url: out.url, schema: describeOperation(out.schema, input.route) };
      },
      transformObject: (input) =>
        declareTags(
          eventStreams(addExamples(tidyComponents(jsonSchemaTransformObject(input) as Parameters<typeof tidyComponents>[0]))),
        ) as ReturnType<typeof jsonSchemaTransformObject>,
    });
    // Swagger UI's own routes are public pages; the hook must be in place before they are added.
    app.addHook('onRoute', (route) => {
      if (route.url.startsWith('/docs')) route.config = { ...(route.config ?? {}), access: 'public', page: true };
    });
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      // The page's CSP is security-headers.ts's, as for every page: Swagger UI's own (staticCSP)
      // refused the inline styles its React components set, and allowed an outside image host.
      staticCSP: false,
      // No badge from the online validator: an image from another origin, which the page's CSP refuses.
      uiConfig: { url: '/openapi.json', validatorUrl: null },
      uiHooks: {},
    });
  },
  { name: 'docs' },
);

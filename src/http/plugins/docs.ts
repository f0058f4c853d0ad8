/**
 * OpenAPI 3 from the routes' zod schemas (@fastify/swagger) and Swagger UI at /docs. Swagger UI
 * is a page (security-headers.ts gives it a CSP); its staticCSP option puts its inline bootstrap
 * in files, so that CSP can forbid inline scripts.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';

export const docsPlugin = fp(
  async (app: FastifyInstance) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.0.3',
        info: {
          title: 'chain-canary',
          version: '0.1.0',
          description:
            'A canary gateway for LLM chains: routes each tenant and environment to a control or candidate chain version through Unleash flags, records every run, measures how often humans override the AI, and rolls a worse candidate back by itself. Errors are `{"error": {"code", "message", "details"?}}`.',
        },
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'The admin token, a named admin key, or a tenant key.' } } },
        security: [{ bearer: [] }],
      },
      transform: jsonSchemaTransform,
    });
    // Swagger UI's own routes are public pages; the hook must be in place before they are added.
    app.addHook('onRoute', (route) => {
      if (route.url.startsWith('/docs')) route.config = { ...(route.config ?? {}), access: 'public', page: true };
    });
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      staticCSP: true,
      uiConfig: { url: '/openapi.json' },
      uiHooks: {},
    });
  },
  { name: 'docs' },
);

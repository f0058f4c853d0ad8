/**
 * Bearer-token auth, decided in onRequest: before the body is read or validated, so a tenant key
 * on an admin route is a 403 whatever its body. Routes declare `config: { access }`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { AccessLevel, Principal } from '../../domain/auth/principal.js';
import type { Catalog } from '../../domain/services/catalog.js';
import { ForbiddenError, UnauthorizedError } from '../../domain/model/errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: AccessLevel;
  }
  interface FastifyRequest {
    principal: Principal;
  }
}


export const authPlugin = fp<{ catalog: Catalog }>(
  async (app: FastifyInstance, opts) => {
    // null, not an object: Fastify shares a decorator's reference value across requests.
    app.decorateRequest('principal', null as never);
    app.addHook('onRequest', async (request: FastifyRequest) => {
      const access = request.routeOptions.config?.access ?? 'admin';
      if (access === 'public' || request.is404) return;
      const header = request.headers.authorization;
      const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
      const principal = token ? opts.catalog.authenticate(token) : undefined;
      if (!principal) throw new UnauthorizedError(token ? 'The bearer token is not valid (unknown or revoked).' : 'Send Authorization: Bearer <token>.');
      if (access === 'admin' && principal.kind !== 'admin') throw new ForbiddenError('This route needs an admin token; tenant keys may invoke, send feedback and read their runs.');
      request.principal = principal;
    });
  },
  { name: 'auth' },
);

/** The tenant a call acts for: the body's, checked against a tenant key, or the key's own. */
export function actingTenant(principal: Principal, named: string | undefined): string | undefined {
  if (principal.kind === 'admin') return named;
  if (named !== undefined && named !== principal.tenantId) {
    throw new ForbiddenError(`This key belongs to tenant '${principal.tenantId}' and may not act for '${named}'.`);
  }
  return principal.tenantId;
}

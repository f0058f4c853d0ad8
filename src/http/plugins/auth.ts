/**
 * Bearer-token auth, decided in onRequest: before the body is read or validated, so a tenant key
 * on an admin route is a 403 whatever its body. Routes declare `config: { access }`.
 * Invalid tokens are throttled per client address (auth-failures.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { AccessLevel, Principal } from '../../domain/auth/principal.js';
import type { Catalog } from '../../domain/services/catalog.js';
import { ForbiddenError, RateLimitedError, UnauthorizedError } from '../../domain/model/errors.js';
import { AuthFailureLimiter } from './auth-failures.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: AccessLevel;
  }
  interface FastifyRequest {
    principal: Principal;
  }
}

export interface AuthOptions {
  catalog: Catalog;
  /** Invalid tokens per client address per minute before 429s (AUTH_FAILURES_PER_MINUTE); 0: off. */
  failuresPerMinute?: number;
}

/** The scheme's name is case-insensitive (RFC 9110, section 11.1): `bearer` is accepted too. */
const BEARER = /^bearer /i;

export const authPlugin = fp<AuthOptions>(
  async (app: FastifyInstance, opts) => {
    const failures = new AuthFailureLimiter({ perMinute: opts.failuresPerMinute ?? 0 });
    // null, not an object: Fastify shares a decorator's reference value across requests.
    app.decorateRequest('principal', null as never);
    app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
      const access = request.routeOptions.config?.access ?? 'admin';
      if (access === 'public' || request.is404) return;
      const header = request.headers.authorization;
      const token = header !== undefined && BEARER.test(header) ? header.slice(7).trim() : undefined;
      if (token && failures.enabled) {
        // Checked before the token, so a blocked address learns nothing about what it sends.
        const wait = failures.retryAfter(request.ip);
        if (wait > 0) {
          reply.header('retry-after', String(wait));
          throw new RateLimitedError(`Too many invalid tokens from this address: tokens are refused for ${wait} s.`);
        }
      }
      const principal = token ? opts.catalog.authenticate(token) : undefined;
      if (token && !principal) failures.failed(request.ip);
      if (!principal)
        throw new UnauthorizedError(token ? 'The bearer token is not valid (unknown or revoked).' : 'Send Authorization: Bearer <token>.');
      if (access === 'admin' && principal.kind !== 'admin')
        throw new ForbiddenError('This route needs an admin token; tenant keys may invoke, send feedback and read their runs.');
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

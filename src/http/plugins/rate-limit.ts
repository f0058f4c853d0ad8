/**
 * Rate limiting per key (@fastify/rate-limit): RATE_LIMIT_PER_MINUTE requests per minute for each
 * API key, counted in this process (each replica counts its own). The limiter runs as a
 * route-level onRequest hook, and Fastify runs route-level hooks after the instance's: the auth
 * hook has set the principal by then, and a refused request is answered before its body is read.
 * Public routes are counted per client IP; liveness, readiness and metrics are never limited
 * (probes must not be refused). Register after auth and before the routes it applies to.
 * The 429 carries Retry-After (seconds) and the contract's error JSON (the error handler maps
 * the RateLimitedError thrown here).
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { RateLimitedError } from '../../domain/model/errors.js';

export interface RateLimitOptions {
  /** Requests per minute per key; 0 turns limiting off. */
  perMinute: number;
}

const NEVER_LIMITED = new Set(['/healthz', '/readyz', '/metrics']);

/** The bucket a request counts against: its key, or its client address when it has none. */
export function rateLimitKey(request: FastifyRequest): string {
  const p = request.principal as FastifyRequest['principal'] | null;
  if (p?.kind === 'tenant') return `key:${p.keyId}`;
  if (p?.kind === 'admin') return `admin:${p.keyName}`;
  return `ip:${request.ip}`;
}

export const rateLimitPlugin = fp<RateLimitOptions>(
  async (app: FastifyInstance, opts) => {
    if (!(opts.perMinute > 0)) return;
    await app.register(rateLimit, {
      global: true,
      max: opts.perMinute,
      timeWindow: 60_000,
      hook: 'onRequest',
      keyGenerator: rateLimitKey,
      allowList: (request) => NEVER_LIMITED.has(request.routeOptions.url ?? ''),
      errorResponseBuilder: (_request, ctx) =>
        new RateLimitedError(`Too many requests for this key: at most ${ctx.max} per minute. Retry in ${ctx.after}.`),
    });
  },
  { name: 'rate-limit', dependencies: ['auth'] },
);

/**
 * Requests in flight per key (MAX_CONCURRENT_PER_KEY, README "Limits and timeouts"): a key that
 * holds that many requests open (slow upstream calls, heavy reads) gets a 429 with Retry-After for
 * the next one, so one tenant cannot take every connection, upstream slot or database connection
 * from the others. The rate limit counts requests per minute; this counts requests at once.
 * Counted in this process (each replica counts its own). A request counts from its auth hook until
 * its response is finished or its connection closes, whichever comes first. Requests without a
 * key (public routes) are not counted. Register after auth.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { RateLimitedError } from '../../domain/model/errors.js';
import { rateLimitKey } from './rate-limit.js';

export interface ConcurrencyLimitOptions {
  /** Requests at once per key; 0 turns the limit off. */
  perKey: number;
}

/** What a refused caller is told to wait: requests in flight usually finish within a second. */
const RETRY_AFTER_S = 1;

export const concurrencyLimitPlugin = fp<ConcurrencyLimitOptions>(
  async (app: FastifyInstance, opts) => {
    if (!(opts.perKey > 0)) return;
    const inFlight = new Map<string, number>();
    app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
      if (!request.principal) return;
      const key = rateLimitKey(request);
      const n = inFlight.get(key) ?? 0;
      if (n >= opts.perKey) {
        reply.header('retry-after', String(RETRY_AFTER_S));
        throw new RateLimitedError(
          `Too many requests in flight for this key: at most ${opts.perKey} at once. Retry when one has finished.`,
        );
      }
      inFlight.set(key, n + 1);
      let released = false;
      // 'close' comes after the response is sent and when the client goes away first: once either way.
      reply.raw.once('close', () => {
        if (released) return;
        released = true;
        const left = (inFlight.get(key) ?? 1) - 1;
        if (left > 0) inFlight.set(key, left);
        else inFlight.delete(key);
      });
    });
  },
  { name: 'concurrency-limit', dependencies: ['auth'] },
);

/**
 * Loop detection (README "Security"): every upstream call of an `http` version carries
 * `x-chain-canary-hop: <tag>` (http-adapter.ts), where the tag is derived from the secret the
 * replicas of one deployment share. A request that arrives with this deployment's tag is a call
 * the gateway made to itself (a version URL pointing at the gateway, directly or through its load
 * balancer): it is refused with 508 `loop_detected` before anything else runs, so one call makes
 * one run, not hundreds. The caller's run records the upstream's 508.
 *
 * Other services that call the gateway on their own (a chain that uses another chain) send their
 * own headers, not ours, and pass. A loop through a second, separate gateway deployment is not
 * seen here: each deployment tags only its own calls.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { HOP_HEADER } from '../../adapters/http-adapter.js';
import { LoopDetectedError } from '../../domain/model/errors.js';

export const loopGuardPlugin = fp<{ hopTag: string | undefined }>(
  async (app: FastifyInstance, { hopTag }) => {
    if (hopTag === undefined) return;
    app.addHook('onRequest', async (request: FastifyRequest) => {
      const hop = request.headers[HOP_HEADER];
      if (hop === undefined) return;
      const tags = (Array.isArray(hop) ? hop.join(',') : hop).split(',');
      if (tags.some((t) => t.trim() === hopTag)) {
        throw new LoopDetectedError(
          "This call came from this gateway itself: a chain version points back at the gateway. Change that version's URL; the call was refused so it cannot loop.",
        );
      }
    });
  },
  { name: 'loop-guard' },
);

/** Replays of datasets (admin): start, follow, cancel, read case by case, compare two. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BadRequestError } from '../../domain/model/errors.js';
import { replayRequestSchema } from '../../domain/model/replay.js';
import type { ReplayService } from '../../domain/services/replay-service.js';
import { errorResponses } from '../schemas/common.js';
import {
  compareParams,
  compareResponse,
  datasetParams,
  decodePosition,
  encodePosition,
  replayAccepted,
  replayCaseListResponse,
  replayCasesQuery,
  replayParams,
  replaySchema,
  toCompareOut,
  toReplayCaseOut,
  toReplayOut,
} from '../schemas/datasets.js';

export const replayRoutes: FastifyPluginAsyncZod<{ services: { replays: ReplayService } }> = async (app, { services }) => {
  const { replays } = services;
  const tags = ['replays'];

  app.post(
    '/v1/datasets/:id/replays',
    {
      schema: {
        tags,
        operationId: 'startReplay',
        summary: 'Replay a version over a dataset',
        description:
          "Runs a version of the dataset's chain over every case (× repeats) through the same adapter as live traffic, and scores each output against `expected` by the feedback rules. Survives restarts; never scores a case twice. Replay runs count in no rollout, metric or guardrail.",
        params: datasetParams,
        body: replayRequestSchema,
        response: { 202: replayAccepted, ...errorResponses },
      },
    },
    async (req, reply) => {
      const replay = await replays.start(req.params.id, req.body);
      return reply.status(202).send({ id: replay.id, statusUrl: `/v1/replays/${replay.id}`, status: replay.status });
    },
  );

  app.get(
    '/v1/datasets/:id/replays',
    {
      schema: {
        tags,
        operationId: 'listDatasetReplays',
        summary: "A dataset's replays",
        description: "The dataset's replays, newest first.",
        params: datasetParams,
        response: { 200: z.object({ items: z.array(replaySchema) }), ...errorResponses },
      },
    },
    async (req) => {
      const list = await replays.list({ datasetId: req.params.id });
      return {
        items: await Promise.all(
          list.map(async (r) => {
            const s = await replays.status(r.id);
            return toReplayOut(s.replay, s.done, s.result);
          }),
        ),
      };
    },
  );

  app.get(
    '/v1/replays/:id',
    {
      schema: {
        tags,
        operationId: 'getReplay',
        summary: 'Get a replay',
        params: replayParams,
        response: { 200: replaySchema, ...errorResponses },
      },
    },
    async (req) => {
      const s = await replays.status(req.params.id);
      return toReplayOut(s.replay, s.done, s.result);
    },
  );

  app.post(
    '/v1/replays/:id/cancel',
    {
      schema: {
        tags,
        operationId: 'cancelReplay',
        summary: 'Cancel a replay',
        description: 'Stops the replay; cases finished so far keep their results.',
        params: replayParams,
        response: { 200: replaySchema, ...errorResponses },
      },
    },
    async (req) => {
      await replays.cancel(req.params.id);
      const s = await replays.status(req.params.id);
      return toReplayOut(s.replay, s.done, s.result);
    },
  );

  app.get(
    '/v1/replays/:id/cases',
    {
      schema: {
        tags,
        operationId: 'listReplayCases',
        summary: "A replay's cases",
        description:
          'Per case (and repeat): the output or error, whether a human would have overridden it and which fields, with the input and expected record.',
        params: replayParams,
        querystring: replayCasesQuery,
        response: { 200: replayCaseListResponse, ...errorResponses },
      },
    },
    async (req) => {
      const { cursor, limit, overridden } = req.query;
      let after: { seq: number; repeat: number } | undefined;
      if (cursor !== undefined) {
        const p = decodePosition(cursor);
        if (!p || p.repeat === undefined)
          throw new BadRequestError('query.cursor: is not a cursor this API returned', { field: 'query.cursor' });
        after = { seq: p.seq, repeat: p.repeat };
      }
      const page = await replays.cases(req.params.id, {
        ...(overridden === undefined ? {} : { overridden }),
        ...(after ? { after } : {}),
        limit: limit + 1,
      });
      const items = page.slice(0, limit);
      const last = items[items.length - 1];
      return {
        items: items.map(toReplayCaseOut),
        ...(page.length > limit && last ? { nextCursor: encodePosition(last.seq, last.repeat) } : {}),
      };
    },
  );

  app.get(
    '/v1/replays/:a/compare/:b',
    {
      schema: {
        tags,
        operationId: 'compareReplays',
        summary: 'Compare two replays, pair by pair',
        description:
          "Two replays of one dataset, pair by pair (b − a): the paired table, McNemar's exact test on the discordant pairs, a 95% interval for the difference, and the same per field. Pairs where a call failed are left out and counted in `errors`.",
        params: compareParams,
        response: { 200: compareResponse, ...errorResponses },
      },
    },
    async (req) => toCompareOut(await replays.compare(req.params.a, req.params.b)),
  );
};

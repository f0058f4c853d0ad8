/** Runs and human feedback (tenant keys see their own tenant only; others' runs read as 404). */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Principal } from '../../domain/auth/principal.js';
import { BadRequestError } from '../../domain/model/errors.js';
import type { FeedbackBody } from '../../domain/services/feedback-service.js';
import { actingTenant } from '../plugins/auth.js';
import { errorResponses } from '../schemas/common.js';
import {
  decodeCursor,
  encodeCursor,
  feedbackBody,
  feedbackByExternalIdBody,
  feedbackResponse,
  listRunsQuery,
  runListResponse,
  runParams,
  runSchema,
  toRunOut,
} from '../schemas/runs.js';
import type { AppServices } from '../services.js';
import { upstreamErrorView, type UpstreamErrorView } from './upstream-error-view.js';

/** A run as `principal` may read it: the upstream's own error text is for admins (upstream-error-view.ts). */
function forPrincipal<R extends { error?: unknown }>(run: R, principal: Principal): R {
  if (principal.kind === 'admin' || run.error === undefined) return run;
  return { ...run, error: upstreamErrorView(run.error as UpstreamErrorView, principal) };
}

export const runRoutes: FastifyPluginAsyncZod<{ services: Pick<AppServices, 'runs' | 'feedback'> }> = async (app, { services }) => {
  const { runs, feedback } = services;
  const tags = ['runs'];

  app.post(
    '/v1/runs/:runId/feedback',
    {
      config: { access: 'tenant' },
      schema: {
        tags,
        operationId: 'sendRunFeedback',
        summary: 'Send feedback on a run',
        description:
          "The human's verdict: `final` (the record as the human left it) or `overrides` ([] = reviewed, unchanged). Sending again replaces it.",
        params: runParams,
        body: feedbackBody,
        response: { 200: feedbackResponse, ...errorResponses },
      },
    },
    async (req) => feedback.byRunId(req.params.runId, req.body as FeedbackBody, req.principal),
  );

  app.post(
    '/v1/feedback',
    {
      config: { access: 'tenant' },
      schema: {
        tags,
        operationId: 'sendFeedbackByExternalId',
        summary: 'Send feedback by external id',
        description: 'Feedback for the latest run with this external id (for review tools that do not keep our run id).',
        body: feedbackByExternalIdBody,
        response: { 200: feedbackResponse, ...errorResponses },
      },
    },
    async (req) => {
      const { chain, externalId, tenant, ...rest } = req.body;
      return feedback.byExternalId(chain, externalId, tenant, rest as FeedbackBody, req.principal);
    },
  );

  app.get(
    '/v1/runs/:runId',
    {
      config: { access: 'tenant' },
      schema: { tags, operationId: 'getRun', summary: 'Get a run', params: runParams, response: { 200: runSchema, ...errorResponses } },
    },
    async (req) => {
      const run = await runs.get(req.params.runId, req.principal);
      return forPrincipal(toRunOut(run, run.feedback), req.principal);
    },
  );

  app.get(
    '/v1/runs',
    {
      config: { access: 'tenant' },
      schema: {
        tags,
        operationId: 'listRuns',
        summary: 'List runs',
        description: 'Runs, newest first, paged by `nextCursor`. Time filters: `from` inclusive, `to` exclusive.',
        querystring: listRunsQuery,
        response: { 200: runListResponse, ...errorResponses },
      },
    },
    async (req) => {
      const { limit, cursor: rawCursor, tenant: named, ...filters } = req.query;
      const tenant = actingTenant(req.principal, named);
      const cursor = rawCursor === undefined ? undefined : decodeCursor(rawCursor);
      if (rawCursor !== undefined && !cursor)
        throw new BadRequestError('query.cursor: is not a cursor this API returned', { field: 'query.cursor' });
      // Runs still on their way to the database are not listed yet; they are a few ms behind.
      const rows = await runs.list({ ...filters, tenant }, limit + 1, cursor);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        items: page.map((r) => forPrincipal(toRunOut(r, r.feedback), req.principal)),
        ...(rows.length > limit && last ? { nextCursor: encodeCursor({ createdAt: last.createdAt, id: last.id }) } : {}),
      };
    },
  );
};

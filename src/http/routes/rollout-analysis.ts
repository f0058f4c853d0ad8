/** A rollout's comparison and timeseries (admin), answered from the read model's rollups. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { comparisonQuery, comparisonSchema, timeseriesQuery, timeseriesSchema } from '../schemas/comparison.js';
import { errorResponses } from '../schemas/common.js';
import { rolloutParams } from '../schemas/rollouts.js';
import type { AppServices } from '../services.js';

export const rolloutAnalysisRoutes: FastifyPluginAsyncZod<{ services: Pick<AppServices, 'comparison' | 'shadow'> }> = async (
  app,
  { services },
) => {
  const { comparison } = services;
  const tags = ['rollouts'];

  app.get(
    '/v1/rollouts/:id/comparison',
    {
      schema: {
        tags,
        operationId: 'getRolloutComparison',
        summary: 'Compare control and candidate',
        description: [
          "Control against candidate: rates with 95% Wilson intervals, the difference with Newcombe's interval, a pooled z-test",
          'and an always-valid interval and p-value (a confidence sequence with a finite-sample guarantee, valid however often it is looked at;',
          'by tenant when whole tenants are assigned; `method` names it), per stage (stratified by stage with Mantel–Haenszel weights',
          'at the top level), per tenant and per environment, SRM, guardrails and a verdict.',
          "Runs are selected by rollout, not by time: feedback that arrives later (even after a rollback) counts in its run's arm.",
          'Answered from hourly aggregates: `from`/`to` are widened to whole hours (`window` gives the effective bounds);',
          'without them every run of the rollout counts. Errored runs (fallbacks included) count in errorRate, never as reviewed.',
          'When every selected stage sends all its traffic to the candidate, the control is a baseline (`controlArm: "baseline"`):',
          "the same tenants' default traffic on the control version in the 7 days before they switched, if it has 100 reviewed runs,",
          "else other tenants' default traffic on the control version in the same environments while the rollout runs; observational,",
          'it never yields candidate_better or candidate_worse.',
          'A rollout with `shadow` also carries `shadow`: its shadow runs paired with the control runs they mirrored, over the',
          "rollout's life (the filters do not apply; see GET /v1/rollouts/{id}/shadow), and the warning shadow_anchoring.",
        ].join(' '),
        params: rolloutParams,
        querystring: comparisonQuery,
        response: { 200: comparisonSchema, ...errorResponses },
      },
    },
    async (req) => {
      const [result, shadow] = await Promise.all([
        comparison.compare(req.params.id, req.query),
        services.shadow.reportIfShadowed(req.params.id),
      ]);
      return shadow ? { ...result, warnings: [...result.warnings, ...shadow.warnings], shadow } : result;
    },
  );

  app.get(
    '/v1/rollouts/:id/timeseries',
    {
      schema: {
        tags,
        operationId: 'getRolloutTimeseries',
        summary: "A rollout's time series",
        description: [
          'Per bucket and arm: runs, reviews, overrides, errors and the p95 latency (UTC buckets; a run and its feedback count in',
          "the bucket of the run's creation). Minute buckets default to the last 24 hours with data and span at most 7 days;",
          'hour and day buckets cover the rollout unless from/to narrow them. Buckets without runs are left out.',
        ].join(' '),
        params: rolloutParams,
        querystring: timeseriesQuery,
        response: { 200: timeseriesSchema, ...errorResponses },
      },
    },
    async (req) => comparison.timeseries(req.params.id, req.query),
  );
};

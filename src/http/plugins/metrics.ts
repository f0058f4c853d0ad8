/**
 * GET /metrics: Prometheus text format, no token (README, "The API in short"). Only aggregates by chain, version,
 * variant and rollout; no tenant id, unit, input or key ever becomes a label
 * (src/runtime/metrics/gateway-metrics.ts).
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { GatewayMetrics } from '../../runtime/metrics/gateway-metrics.js';

export const metricsPlugin = fp<{ metrics: GatewayMetrics }>(
  async (app: FastifyInstance, { metrics }) => {
    app.get(
      '/metrics',
      {
        config: { access: 'public' },
        schema: {
          tags: ['health'],
          operationId: 'getMetrics',
          summary: 'Prometheus metrics',
          description:
            'Prometheus metrics (text exposition format 0.0.4): calls, errors, fallbacks, latency and gateway overhead histograms, feedback and overrides per chain, version and variant; rollbacks; guardrail, circuit breaker and rollout state; run backlog; process metrics. Aggregates only: no tenant data.',
        },
      },
      async (_req, reply) => {
        const text = await metrics.metrics();
        return reply.header('content-type', metrics.contentType).header('cache-control', 'no-store').send(text);
      },
    );
  },
  { name: 'metrics' },
);

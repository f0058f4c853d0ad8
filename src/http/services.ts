/**
 * What the routes get: the services they map HTTP onto, built by src/composition.ts. Its own
 * module so that route files and src/app.ts import it, not each other.
 */
import type { Catalog } from '../domain/services/catalog.js';
import type { ComparisonService } from '../domain/services/comparison-service.js';
import type { ErasureService } from '../domain/services/erasure-service.js';
import type { FeedbackService } from '../domain/services/feedback-service.js';
import type { InvokeService } from '../domain/services/invoke-service.js';
import type { RolloutService } from '../domain/services/rollout-service.js';
import type { RunQueries } from '../domain/services/run-queries.js';
import type { GatewayMetrics } from '../runtime/metrics/gateway-metrics.js';

export interface Readiness {
  status: 'ok' | 'degraded' | 'unavailable';
  [part: string]: unknown;
}

export interface AppServices {
  catalog: Catalog;
  invoke: InvokeService;
  feedback: FeedbackService;
  runs: RunQueries;
  erasure: ErasureService;
  rollouts: RolloutService;
  comparison: ComparisonService;
  /** Prometheus metrics served at /metrics. */
  metrics: GatewayMetrics;
  /** Which answered runs are held in memory only (the spool could not be written): a warning header. */
  journal: { notJournaled(runId: string): boolean };
  readiness: () => Promise<Readiness>;
}

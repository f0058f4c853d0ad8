/**
 * What the routes get: the services they map HTTP onto, built by src/composition.ts. Its own
 * module so that route files and src/app.ts import it, not each other.
 */
import type { Catalog } from '../domain/services/catalog.js';
import type { ComparisonService } from '../domain/services/comparison-service.js';
import type { DatasetService } from '../domain/services/dataset-service.js';
import type { ErasureService } from '../domain/services/erasure-service.js';
import type { FeedbackService } from '../domain/services/feedback-service.js';
import type { GateService } from '../domain/services/gate-service.js';
import type { InvokeService } from '../domain/services/invoke-service.js';
import type { PlannerService } from '../domain/services/planner-service.js';
import type { ReplayService } from '../domain/services/replay-service.js';
import type { RolloutService } from '../domain/services/rollout-service.js';
import type { RunQueries } from '../domain/services/run-queries.js';
import type { RunRedactor } from '../redaction/run-redactor.js';
import type { ShadowService } from '../domain/services/shadow-service.js';
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
  /** The rollout planner (README "Planning a rollout"). */
  planner: PlannerService;
  datasets: DatasetService;
  replays: ReplayService;
  gates: GateService;
  /** Shadow runs' paired report (README "Shadow runs"). */
  shadow: ShadowService;
  /** Prometheus metrics served at /metrics. */
  metrics: GatewayMetrics;
  readiness: () => Promise<Readiness>;
  /** How runs store what may be personal (a lookup by external id hashes as the store did). */
  redactor: RunRedactor;
  /** Which answered runs are held in memory only (the spool could not be written): a warning header. */
  journal: { notJournaled(runId: string): boolean };
}

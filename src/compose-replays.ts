/**
 * The datasets-and-replays part of the composition root (composition.ts calls it): their stores,
 * services and the runner, wired to the catalog, the live adapters and the chain's redaction.
 */
import type { Logger } from 'pino';
import type { AdapterRegistry } from './adapters/adapter-registry.js';
import type { ActiveRollouts } from './domain/routing/active-rollouts.js';
import type { Catalog } from './domain/services/catalog.js';
import { DatasetService } from './domain/services/dataset-service.js';
import { GateService, type GateServiceDeps } from './domain/services/gate-service.js';
import { ReplayService } from './domain/services/replay-service.js';
import type { RolloutService } from './domain/services/rollout-service.js';
import type { RunRedactor } from './redaction/run-redactor.js';
import type { EventBus } from './runtime/event-bus.js';
import type { GatewayEvents } from './runtime/events.js';
import { GateJob, hasOpenGate } from './runtime/gate-job.js';
import { ReplayRunner } from './runtime/replay-runner.js';
import { DatasetStore } from './store/dataset-store.js';
import type { Database } from './store/db.js';
import { ReplayStore } from './store/replay-store.js';

export interface ReplayParts {
  datasets: DatasetService;
  replays: ReplayService;
  gates: GateService;
  runner: ReplayRunner;
  gateJob: GateJob;
  /** Resumes open replays and starts checking gates. */
  start(): void;
  /** Stops the gate checks, then the runner (leases handed back). */
  stop(): Promise<void>;
  datasetStore: DatasetStore;
  replayStore: ReplayStore;
}

export function composeReplays(deps: {
  database: Database;
  catalog: Catalog;
  rollouts: RolloutService;
  active: ActiveRollouts;
  bus: EventBus<GatewayEvents>;
  adapters: AdapterRegistry;
  redactor: RunRedactor;
  log: Logger;
  now: () => Date;
  instanceId: string;
  /** How often gated rollouts are checked on every replica (their replays may finish on another). */
  gateIntervalMs: number;
  /** A rollout's scored shadow pairs, all or a stage's, for a shadow gate (README "Shadow runs"). */
  shadowPairs?: GateServiceDeps['shadowPairs'];
}): ReplayParts {
  const { database, catalog, rollouts, active, now } = deps;
  // The runner tells the gate job of finished replays; the job is built last (it needs the services).
  const late: { gateJob?: GateJob } = {};
  const datasetStore = new DatasetStore(database.db);
  const replayStore = new ReplayStore(database.db);
  const runner = new ReplayRunner({
    replays: replayStore,
    datasets: datasetStore,
    versionDefinition: (chain, version) => catalog.version(chain, version)?.adapter,
    adapters: deps.adapters,
    redactOutput: (chain, output) => deps.redactor.redact(chain, undefined, output).output,
    log: deps.log,
    now,
    instanceId: deps.instanceId,
    // PGlite: one process per DATA_DIR, so every open replay was this process's predecessor's.
    takeOverAtStart: database.kind === 'pglite',
    onFinished: (replay) => {
      if (replay.rolloutId) late.gateJob?.poke(replay.rolloutId);
    },
  });
  const datasets = new DatasetService({
    datasets: datasetStore,
    requireChain: (chain) => catalog.requireChain(chain),
    requireEnvironment: (chain, environment, field) => catalog.requireEnvironmentOf(chain, environment, field),
    requireTenants: (tenants, field) => catalog.requireTenants(tenants, field),
    gatedRolloutOf: (id) => active.list().find((r) => r.status === 'gated' && r.spec.gate?.replay?.dataset === id)?.id,
    now,
  });
  const replays = new ReplayService({
    replays: replayStore,
    datasets: datasetStore,
    hasVersion: (chain, version) => catalog.version(chain, version) !== undefined,
    now,
    onQueued: (replay) => runner.kick(replay.id),
    onCancelled: (replay) => runner.cancel(replay.id),
  });
  const gates = new GateService({
    datasets: datasetStore,
    replays: replayStore,
    replayService: replays,
    rollouts,
    shadowPairs: deps.shadowPairs,
  });
  const gateJob = new GateJob({ gates, rollouts, active, log: deps.log, intervalMs: deps.gateIntervalMs });
  late.gateJob = gateJob;
  // A gated rollout created, overridden, advanced or abandoned: its gate is checked at once; and
  // when a batch of shadow runs scored pairs of a rollout (its shadow gate, or its current
  // stage's, may now decide).
  deps.bus.on('RolloutChanged', (event) => gateJob.onRolloutEvent(event));
  deps.bus.on('ShadowPairsScored', (event) => {
    for (const id of event.rolloutIds) if (active.list().some((r) => r.id === id && hasOpenGate(r))) gateJob.poke(id);
  });
  return {
    datasets,
    replays,
    gates,
    runner,
    gateJob,
    datasetStore,
    replayStore,
    start() {
      runner.start();
      gateJob.start();
    },
    async stop() {
      await gateJob.stop();
      await runner.stop();
    },
  };
}

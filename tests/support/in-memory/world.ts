/**
 * The domain's services wired as the composition root wires them, on in-memory ports: catalog,
 * flags (unleash-client's engine), rollouts, runs, upstream chains. The run writer is the real
 * one (not started: a test flushes it when it wants runs stored), so read-your-writes is real too.
 *
 * Seeded with tenants `acme` and `globex` and chain `invoices` with versions v1 (current) and v2.
 */
import { pino } from 'pino';
import { KeyHasher } from '../../../src/domain/auth/key-hasher.js';
import type { FeedbackReceived, RolloutChanged } from '../../../src/domain/model/events.js';
import type { Run } from '../../../src/domain/model/run.js';
import { ActiveRollouts } from '../../../src/domain/routing/active-rollouts.js';
import { RolloutRouter } from '../../../src/domain/routing/rollout-router.js';
import { Catalog } from '../../../src/domain/services/catalog.js';
import { ErasureService } from '../../../src/domain/services/erasure-service.js';
import { FeedbackService } from '../../../src/domain/services/feedback-service.js';
import { InvokeService } from '../../../src/domain/services/invoke-service.js';
import { RolloutService } from '../../../src/domain/services/rollout-service.js';
import { RunQueries } from '../../../src/domain/services/run-queries.js';
import { RunRedactor } from '../../../src/redaction/run-redactor.js';
import { EventBus } from '../../../src/runtime/event-bus.js';
import type { GatewayEvents, RunsCommitted } from '../../../src/runtime/events.js';
import { RunWriter, type Journal } from '../../../src/runtime/run-writer.js';
import { InMemoryCatalogRepository } from './catalog-repository.js';
import { InMemoryChains, testAdapter } from './chain-adapters.js';
import { InMemoryFlagStore } from './flag-store.js';
import { InMemoryRolloutRepository } from './rollout-repository.js';
import { InMemoryRunRepository } from './run-repository.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const CHAIN = 'invoices';

export interface WorldOptions {
  /** A journal in front of the writer's queue (capacity, set-aside records). */
  journal?: Journal;
}

export type World = Awaited<ReturnType<typeof world>>;

export async function world(opts: WorldOptions = {}) {
  const clock = { now: new Date('2026-06-01T12:00:00.000Z') };
  const now = () => new Date(clock.now);
  const log = pino({ level: 'silent' });
  const hasher = new KeyHasher('test-secret');

  const bus = new EventBus<GatewayEvents>((err) => {
    throw err;
  });
  /** What the parts published, in order. */
  const told = {
    finished: [] as Run[],
    feedback: [] as FeedbackReceived[],
    rollout: [] as RolloutChanged[],
    committed: [] as RunsCommitted[],
  };
  bus.on('RunFinished', ({ run }) => told.finished.push(run));
  bus.on('FeedbackReceived', (e) => told.feedback.push(e));
  bus.on('RolloutChanged', (e) => told.rollout.push(e));
  bus.on('RunsCommitted', (e) => told.committed.push(e));

  const catalogRepo = new InMemoryCatalogRepository();
  const rolloutRepo = new InMemoryRolloutRepository();
  const runRepo = new InMemoryRunRepository();
  const flags = new InMemoryFlagStore();
  const chains = new InMemoryChains();

  const active = new ActiveRollouts();
  const catalog = new Catalog({ store: catalogRepo, hasher, adminToken: ADMIN_TOKEN, now, activeRollouts: active });
  const rollouts = new RolloutService({ store: rolloutRepo, flags, catalog, active, events: bus, log, now });
  const writer = new RunWriter({ store: runRepo, log, journal: opts.journal, events: bus });
  const redactor = new RunRedactor((chainId) => catalog.chain(chainId)?.redaction ?? undefined, hasher.derive('redaction'));
  const invoke = new InvokeService({
    catalog,
    router: new RolloutRouter(active, flags),
    adapters: chains,
    writer,
    redactor,
    runs: runRepo,
    events: bus,
    now,
  });
  const runs = new RunQueries({ store: runRepo, writer, redactor });
  const feedback = new FeedbackService({ runs, writer, redactor, events: bus, now });
  const erasure = new ErasureService({ store: runRepo, writer, caches: [invoke], log, now });

  await catalog.putTenant('acme', 'Acme');
  await catalog.putTenant('globex', undefined);
  await catalog.putChain(CHAIN, { description: 'invoice extraction' });
  await catalog.addVersion(CHAIN, 'v1', testAdapter('http://127.0.0.1:9/v1'));
  await catalog.addVersion(CHAIN, 'v2', testAdapter('http://127.0.0.1:9/v2'));
  chains.answer(CHAIN, 'v1', () => ({ total: 100, vendor: 'ACME' })).answer(CHAIN, 'v2', () => ({ total: 200, vendor: 'ACME' }));

  return {
    clock,
    now,
    log,
    hasher,
    bus,
    told,
    active,
    catalogRepo,
    rolloutRepo,
    runRepo,
    flags,
    chains,
    catalog,
    rollouts,
    writer,
    redactor,
    invoke,
    runs,
    feedback,
    erasure,
  };
}

/**
 * The shadow runs' parts, built for the composition root (README "Shadow runs"): their store and
 * batched writer, the dispatcher with its budget and its caller (a worker thread with an adapter
 * registry of its own: separate connection pools and circuit breakers from the ones that serve
 * customers, and another event loop and heap), and the service that reports and takes the human's
 * records. One function so that composition.ts only wires them in.
 */
import type { Logger } from 'pino';
import type { AdapterRegistryOptions } from './adapters/adapter-registry.js';
import type { Config } from './config/config.js';
import type { Rollout } from './domain/model/rollout.js';
import { scoreShadow } from './domain/shadow/score-shadow.js';
import type { Catalog } from './domain/services/catalog.js';
import { ShadowService } from './domain/services/shadow-service.js';
import type { RunRedactor } from './redaction/run-redactor.js';
import type { EventBus } from './runtime/event-bus.js';
import type { GatewayEvents } from './runtime/events.js';
import type { GatewayMetrics } from './runtime/metrics/gateway-metrics.js';
import { ShadowBudget } from './runtime/shadow-budget.js';
import { ShadowDispatcher } from './runtime/shadow-dispatcher.js';
import { ThreadShadowCaller } from './runtime/shadow-thread/thread-shadow-caller.js';
import { ShadowWriter } from './runtime/shadow-writer.js';
import type { ShadowStore } from './store/shadow-store.js';

export interface ShadowParts {
  store: ShadowStore;
  writer: ShadowWriter;
  dispatcher: ShadowDispatcher;
  service: ShadowService;
  /** Lets shadow calls in flight finish (hung ones are cut off after a grace), writes what is queued, stops the shadow thread. */
  close(): Promise<void>;
}

export interface ShadowDeps {
  config: Pick<Config, 'SHADOW_MAX_CONCURRENT' | 'OPENAI_API_KEY' | 'OPENAI_BASE_URL' | 'AZURE_OPENAI_ENDPOINT' | 'AZURE_OPENAI_API_KEY'>;
  store: ShadowStore;
  log: Logger;
  now: () => Date;
  /** The gateway's adapter settings (loop guard, allow-list) for the shadow's own registry. */
  adapterOptions: Pick<AdapterRegistryOptions, 'http' | 'upstreamAllow'>;
  catalog: Pick<Catalog, 'version' | 'chain'>;
  /** The rollouts that route calls on this replica. */
  active: { activeFor(chainId: string): Rollout | undefined };
  rollouts: { get(id: string): Promise<Rollout> };
  redactor: RunRedactor;
  metrics: GatewayMetrics;
  /** FeedbackReceived: the human's record of a mirrored run goes to the shadow store; ShadowPairsScored after a batch scored pairs. */
  bus: EventBus<GatewayEvents>;
}

export function composeShadow(deps: ShadowDeps): ShadowParts {
  const { config, log, redactor } = deps;
  const { store } = deps;
  const writer = new ShadowWriter({
    store,
    score: (pair) => scoreShadow({ output: pair.output, outputHashes: pair.outputHashes }, pair.expected, (v) => redactor.hashField(v)),
    log,
    onScored: (rolloutIds) => deps.bus.publish('ShadowPairsScored', { rolloutIds }),
  });
  writer.start();
  // The thread builds its registry from these: the gateway's adapter settings, as plain data.
  const caller = new ThreadShadowCaller({
    adapters: {
      providers: {
        apiKey: config.OPENAI_API_KEY,
        baseURL: config.OPENAI_BASE_URL,
        azureEndpoint: config.AZURE_OPENAI_ENDPOINT,
        azureApiKey: config.AZURE_OPENAI_API_KEY,
      },
      // No more connections to a candidate than shadow calls may be in flight.
      http: { ...deps.adapterOptions.http, connections: Math.max(1, config.SHADOW_MAX_CONCURRENT) },
      upstreamAllow: deps.adapterOptions.upstreamAllow?.toString(),
    },
    log,
  });
  const redactOutput = (chainId: string, output: unknown) => {
    const r = redactor.redact(chainId, undefined, output);
    return { output: r.output, outputHashes: r.outputHashes };
  };
  const dispatcher = new ShadowDispatcher({
    activeFor: (chainId) => deps.active.activeFor(chainId),
    caller,
    versionDef: (chain, version) => deps.catalog.version(chain, version)?.adapter,
    budget: new ShadowBudget({ maxConcurrent: config.SHADOW_MAX_CONCURRENT }),
    writer,
    redact: redactOutput,
    metrics: deps.metrics,
    log,
    now: deps.now,
  });
  const service = new ShadowService({
    rollouts: deps.rollouts,
    repository: store,
    recorder: writer,
    redact: redactOutput,
    trackedFields: (chainId) => deps.catalog.chain(chainId)?.trackedFields,
    onError: (err, runId) => log.warn({ err, runId }, "the human's record for a shadow pair could not be built; the pair stays unscored"),
  });
  const unsubscribe = deps.bus.on('FeedbackReceived', (e) => service.feedbackReceived(e.run, e.body, e.feedback));
  return {
    store,
    writer,
    dispatcher,
    service,
    async close() {
      unsubscribe();
      // Closing the pools cuts off a hung shadow call after a short grace; it is then recorded as failed.
      await Promise.all([dispatcher.drain(), caller.close()]);
      await writer.close();
    },
  };
}

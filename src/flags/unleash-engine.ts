/**
 * unleash-client's own evaluation engine, fed from memory instead of from a server.
 *
 * The embedded store, the Unleash store's read-your-writes overlay and the client-specification
 * tests all evaluate through this, so they agree with a real Unleash SDK variant for variant: it
 * is the SDK's `UnleashClient` (what its `Unleash` class evaluates with) over the SDK's default
 * strategies, given an in-memory repository, and each call's context completed with the static
 * fields the `Unleash` class adds (`appName`, `environment: 'default'`).
 *
 * The `Unleash` class itself is not used: importing it loads the SDK's HTTP stack
 * (make-fetch-happen and its cache, proxy agents, an event-source client), 1.5 MB of heap in a
 * gateway that never calls it, and the class wraps every evaluation in a context copy and usage
 * counters we disable. The Unleash flag store, which does talk to a server, loads the package
 * whole when `UNLEASH_URL` is set (composition.ts).
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { Context } from 'unleash-client';
import type clientModule from 'unleash-client/lib/client.js';
import type { EnhancedFeatureInterface, FeatureInterface } from 'unleash-client/lib/feature.js';
import { createFallbackFunction } from 'unleash-client/lib/helpers.js';
import type { RepositoryInterface } from 'unleash-client/lib/repository/index.js';
import { defaultStrategies } from 'unleash-client/lib/strategy/index.js';
import type { Segment } from 'unleash-client/lib/strategy/strategy.js';
import type { FlagContext, FlagVariant } from '../domain/ports/flag-store.js';
import { toFlagVariant, toUnleashContext, type UnleashFeature } from './unleash-mapping.js';

// The module is CommonJS with its class as `exports.default`: an ES default import gets the whole
// `exports` object from Node but the class itself from vitest's loader, so it is required (the
// same object under both).
const { default: UnleashClient } = createRequire(import.meta.url)('unleash-client/lib/client.js') as typeof clientModule;

/** Features as /api/client/features serves them; segments only for the client-specification cases. */
export interface EngineState {
  features: ReadonlyArray<UnleashFeature | Record<string, unknown>>;
  segments?: ReadonlyArray<{ id: number; constraints: unknown[] }>;
}

/** The evaluated answer, as the SDK gives it. */
export interface EngineVariant {
  name: string;
  enabled: boolean;
  feature_enabled?: boolean;
  payload?: { type: string; value: string };
}

/** A repository that is a map: replaced or patched synchronously by its owner, never fetched. */
class InMemoryRepository extends EventEmitter implements RepositoryInterface {
  private features = new Map<string, FeatureInterface>();
  private segments = new Map<number, Segment>();

  setState(state: EngineState): void {
    this.features = new Map(state.features.map((f) => [String(f.name), f as unknown as FeatureInterface]));
    this.segments = new Map((state.segments ?? []).map((s) => [s.id, s as unknown as Segment]));
  }

  upsert(feature: UnleashFeature | Record<string, unknown>): void {
    this.features.set(String(feature.name), feature as unknown as FeatureInterface);
  }

  remove(name: string): void {
    this.features.delete(name);
  }

  getToggle(name: string): FeatureInterface | undefined {
    return this.features.get(name);
  }

  getToggles(): FeatureInterface[] {
    return [...this.features.values()];
  }

  getTogglesWithSegmentData(): EnhancedFeatureInterface[] {
    return this.getToggles().map(({ strategies, ...rest }) => ({
      ...rest,
      strategies: strategies?.map(({ segments, ...s }) => ({ ...s, segments: segments?.map((id) => this.segments.get(id)) })),
    }));
  }

  getSegment(id: number): Segment | undefined {
    return this.segments.get(id);
  }

  /** Nothing to fetch: the client reads the maps directly (the interface's lifecycle is for fetching repositories). */
  start(): Promise<void> {
    return Promise.resolve();
  }

  stop(): void {}
}

export class UnleashEngine {
  private readonly repository = new InMemoryRepository();
  private readonly client: InstanceType<typeof UnleashClient>;
  /** What the SDK's `Unleash` class puts under every context: its `appName`, and `environment` unless configured. */
  private readonly staticContext: Context;

  constructor(opts: { appName?: string; state?: EngineState; onError?: (err: Error) => void } = {}) {
    if (opts.state) this.repository.setState(opts.state);
    this.staticContext = { appName: opts.appName ?? 'chain-canary-embedded', environment: 'default' };
    this.client = new UnleashClient(this.repository, defaultStrategies);
    // The client reports a malformed definition as an "error" event, which an EventEmitter without
    // a listener would throw; its warnings (a strategy or dependency missing) are answered by the
    // definition's fallback and need no one's attention here.
    this.client.on('error', (err: Error) => opts.onError?.(err));
    this.client.on('warn', () => {});
  }

  setState(state: EngineState): void {
    this.repository.setState(state);
  }

  upsert(feature: UnleashFeature | Record<string, unknown>): void {
    this.repository.upsert(feature);
  }

  remove(name: string): void {
    this.repository.remove(name);
  }

  get(name: string): FeatureInterface | undefined {
    return this.repository.getToggle(name);
  }

  names(): string[] {
    return this.repository.getToggles().map((f) => f.name);
  }

  isEnabled(name: string, context: Context): boolean {
    const full = { ...this.staticContext, ...context };
    return this.client.isEnabled(name, full, createFallbackFunction(name, full, undefined));
  }

  getVariant(name: string, context: Context): EngineVariant {
    return this.client.getVariant(name, { ...this.staticContext, ...context });
  }

  /** The arm for a call; never throws (a malformed definition is 'disabled'). */
  evaluate(name: string, ctx: FlagContext): FlagVariant {
    try {
      // Completed in place (the context is this call's own), not spread over the static fields
      // as getVariant does: on every call the spread cost as much as this engine saves.
      const context = toUnleashContext(ctx);
      context.appName = this.staticContext.appName;
      context.environment = this.staticContext.environment;
      return toFlagVariant(this.client.getVariant(name, context));
    } catch {
      return 'disabled';
    }
  }

  destroy(): void {
    this.client.removeAllListeners();
  }
}

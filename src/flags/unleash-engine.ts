/**
 * unleash-client's own evaluation engine, fed from memory instead of from a server.
 *
 * The embedded store, the Unleash store's read-your-writes overlay and the client-specification
 * tests all evaluate through this, so they agree with a real Unleash SDK variant for variant:
 * it is the public `Unleash` class with a custom `repository` (an UnleashConfig option), so no
 * fetcher is ever built, and metrics are disabled, so no request is ever made. The `url` the
 * constructor insists on is a reserved `.invalid` name (RFC 2606) that can never resolve.
 */
import { EventEmitter } from 'node:events';
import { Unleash, type Context } from 'unleash-client';
import type { EnhancedFeatureInterface, FeatureInterface } from 'unleash-client/lib/feature.js';
import type { RepositoryInterface } from 'unleash-client/lib/repository/index.js';
import type { Segment } from 'unleash-client/lib/strategy/strategy.js';
import type { FlagContext, FlagVariant } from '../domain/ports/flag-store.js';
import { toFlagVariant, toUnleashContext, type UnleashFeature } from './unleash-mapping.js';

const UNREACHABLE_URL = 'http://unleash-embedded.invalid/api/';

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

  /** Ready at once: the SDK answers nothing but fallbacks until its repository says "ready". */
  start(): Promise<void> {
    this.emit('ready');
    return Promise.resolve();
  }

  stop(): void {}
}

export class UnleashEngine {
  private readonly repository = new InMemoryRepository();
  private readonly unleash: Unleash;

  constructor(opts: { appName?: string; state?: EngineState; onError?: (err: Error) => void } = {}) {
    if (opts.state) this.repository.setState(opts.state);
    this.unleash = new Unleash({
      appName: opts.appName ?? 'chain-canary-embedded',
      url: UNREACHABLE_URL,
      repository: this.repository,
      disableMetrics: true,
      disableAutoStart: true,
      // Tests and the overlay build several engines in one process; that is intended here.
      skipInstanceCountWarning: true,
    });
    // Without a listener of its own the SDK prints every error with console.error.
    this.unleash.on('error', (err: Error) => opts.onError?.(err));
    this.unleash.on('warn', () => {});
    // Synchronous: the repository emits "ready" inside start(), which the Unleash instance
    // listens for, so evaluation works as soon as the constructor returns.
    void this.unleash.start();
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
    return this.unleash.isEnabled(name, context);
  }

  getVariant(name: string, context: Context): EngineVariant {
    return this.unleash.getVariant(name, context);
  }

  /** The arm for a call; never throws (a malformed definition is 'disabled'). */
  evaluate(name: string, ctx: FlagContext): FlagVariant {
    try {
      return toFlagVariant(this.unleash.getVariant(name, toUnleashContext(ctx)));
    } catch {
      return 'disabled';
    }
  }

  destroy(): void {
    this.unleash.destroy();
  }
}

/**
 * A FlagStore whose definitions live in memory and are evaluated by unleash-client's own engine
 * (the embedded store's, src/flags/unleash-engine.ts): the same arms as production, no database.
 */
import type { FlagContext, FlagStore, FlagStoreStatus, FlagVariant, RolloutFlag } from '../../../src/domain/ports/flag-store.js';
import { UnleashEngine } from '../../../src/flags/unleash-engine.js';
import { toUnleashFeature } from '../../../src/flags/unleash-mapping.js';

export class InMemoryFlagStore implements FlagStore {
  readonly kind = 'embedded' as const;
  private readonly engine = new UnleashEngine({ appName: 'chain-canary-test' });
  /** The latest definition put, by name (retired ones removed). */
  readonly flags = new Map<string, RolloutFlag>();
  readonly retired: string[] = [];
  /** While set, put and retire fail with it (a flag store that is away). */
  failure?: Error;
  /** Called as a put begins: a test lets another replica act here. */
  beforePut?: (flag: RolloutFlag) => void;

  async start(): Promise<void> {}

  async put(flag: RolloutFlag): Promise<void> {
    this.beforePut?.(flag);
    if (this.failure) throw this.failure;
    this.flags.set(flag.name, structuredClone(flag));
    this.engine.upsert(toUnleashFeature(flag));
  }

  async retire(name: string): Promise<void> {
    if (this.failure) throw this.failure;
    this.flags.delete(name);
    this.retired.push(name);
    this.engine.remove(name);
  }

  evaluate(name: string, ctx: FlagContext): FlagVariant {
    return this.engine.evaluate(name, ctx);
  }

  status(): FlagStoreStatus {
    return { ready: true, degraded: false };
  }

  async close(): Promise<void> {
    this.engine.destroy();
  }
}

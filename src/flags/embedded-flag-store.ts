/**
 * The embedded flag store (no Unleash server): definitions are Unleash feature JSON in the
 * `flags` table, evaluated by unleash-client's own engine (unleash-engine.ts), so a tenant gets
 * the same arm here as from an Unleash server holding the same definition.
 *
 * Replicas sharing one PostgreSQL converge through a reload loop; a replica's own writes apply
 * to its routing before put()/retire() resolve.
 */
import { eq } from 'drizzle-orm';
import type { Db } from '../store/db.js';
import { flags } from '../store/schema.js';
import type { FlagContext, FlagStore, FlagStoreStatus, FlagVariant, RolloutFlag } from '../domain/ports/flag-store.js';
import { UnleashEngine } from './unleash-engine.js';
import { toUnleashFeature, type UnleashFeature } from './unleash-mapping.js';

export interface EmbeddedFlagStoreOptions {
  db: Db;
  /** How often definitions are reloaded from the database (other replicas' writes). Default 10 s. */
  refreshIntervalMs?: number;
  /** Share of the interval added or removed at random, so replicas do not reload in lockstep. Default 0.1. */
  jitter?: number;
  random?: () => number;
  now?: () => Date;
  onError?: (err: unknown) => void;
}

export class EmbeddedFlagStore implements FlagStore {
  readonly kind = 'embedded' as const;
  private readonly engine = new UnleashEngine({ appName: 'chain-canary-embedded' });
  private readonly refreshIntervalMs: number;
  private readonly jitter: number;
  private readonly random: () => number;
  private readonly now: () => Date;
  private timer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> | undefined;
  private closed = false;
  private loaded = false;
  private lastError: string | undefined;
  /** Bumped by every local write, so a reload that read the table before the write does not undo it. */
  private generation = 0;

  constructor(private readonly opts: EmbeddedFlagStoreOptions) {
    this.refreshIntervalMs = opts.refreshIntervalMs ?? 10_000;
    this.jitter = opts.jitter ?? 0.1;
    this.random = opts.random ?? Math.random;
    this.now = opts.now ?? (() => new Date());
  }

  async start(): Promise<void> {
    await this.reload();
    if (this.lastError !== undefined) throw new Error(`embedded flag store could not load flags: ${this.lastError}`);
    this.schedule();
  }

  async put(flag: RolloutFlag): Promise<void> {
    const feature = toUnleashFeature(flag);
    const updatedAt = this.now();
    await this.opts.db
      .insert(flags)
      .values({ name: feature.name, definition: feature, updatedAt })
      .onConflictDoUpdate({ target: flags.name, set: { definition: feature, updatedAt } });
    this.generation++;
    this.engine.upsert(feature);
  }

  /** Deletes the row: the name evaluates to 'disabled' (unknown) here and, after a reload, everywhere. */
  async retire(name: string): Promise<void> {
    await this.opts.db.delete(flags).where(eq(flags.name, name));
    this.generation++;
    this.engine.remove(name);
  }

  evaluate(name: string, ctx: FlagContext): FlagVariant {
    return this.engine.evaluate(name, ctx);
  }

  status(): FlagStoreStatus {
    if (!this.loaded) return { ready: false, degraded: false, detail: this.lastError ?? 'flags not loaded yet' };
    if (this.lastError !== undefined) {
      return { ready: true, degraded: true, detail: `routing on the last loaded flags: ${this.lastError}` };
    }
    return { ready: true, degraded: false };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.reloading?.catch(() => {});
    this.engine.destroy();
  }

  /** Reloads every definition; on failure keeps routing on the last ones (status degraded). */
  reload(): Promise<void> {
    this.reloading ??= this.doReload().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  private async doReload(): Promise<void> {
    // A local write between the read and the apply would be undone by the older read: read again.
    for (let attempt = 0; attempt < 3; attempt++) {
      const generation = this.generation;
      let rows: Array<{ name: string; definition: unknown }>;
      try {
        rows = await this.opts.db.select({ name: flags.name, definition: flags.definition }).from(flags);
      } catch (err) {
        this.lastError = err instanceof Error ? err.message : String(err);
        this.opts.onError?.(err);
        return;
      }
      if (generation !== this.generation) continue;
      this.engine.setState({ features: rows.map((r) => r.definition).filter(isFeature) });
      this.loaded = true;
      this.lastError = undefined;
      return;
    }
  }

  private schedule(): void {
    if (this.closed) return;
    const spread = this.refreshIntervalMs * this.jitter * (2 * this.random() - 1);
    this.timer = setTimeout(
      () => {
        void this.reload().finally(() => this.schedule());
      },
      Math.max(0, this.refreshIntervalMs + spread),
    );
    // A pending reload must never keep the process alive.
    this.timer.unref();
  }
}

function isFeature(value: unknown): value is UnleashFeature {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { name?: unknown }).name === 'string' &&
    Array.isArray((value as { strategies?: unknown }).strategies)
  );
}

/**
 * The Unleash flag store: unleash-client evaluates locally on what it last fetched (or loaded
 * from its backup file in backupDir when Unleash is down at start), and writes go through the
 * Admin API.
 *
 * Read your writes: the SDK only sees a write at its next fetch (refresh interval, plus about a
 * second for Unleash to bump its revision). So every definition this replica writes is kept in an
 * overlay, evaluated locally by the same engine, and wins over the fetched one until the SDK has
 * either fetched that very definition (same fingerprint) or completed a fetch that started at
 * least `settleMs` after the write, i.e. one whose answer is at least as new as the write and so
 * reflects a later writer (another replica) if it differs. Time alone never drops an overlay:
 * while Unleash is unreachable a rollback keeps holding here.
 */
import { mkdirSync } from 'node:fs';
import { Unleash } from 'unleash-client';
import type { FlagContext, FlagStore, FlagStoreStatus, FlagVariant, RolloutFlag } from '../domain/ports/flag-store.js';
import { UnleashAdminClient } from './unleash-admin-client.js';
import { UnleashEngine } from './unleash-engine.js';
import { featureFingerprint, toFlagVariant, toUnleashContext, toUnleashFeature, type UnleashFeature } from './unleash-mapping.js';

export interface UnleashFlagStoreOptions {
  /** The API root, e.g. http://unleash:4242/api */
  url: string;
  /** A backend token for `project:environment`. */
  clientToken: string;
  adminToken: string;
  project: string;
  /** The Unleash environment the client token reads and the admin writes target. */
  environment: string;
  appName: string;
  instanceId?: string;
  /** SDK polling interval. Default 5 s. */
  refreshIntervalMs?: number;
  /** Where the SDK keeps its backup of the last fetched flags (DATA_DIR). */
  backupDir: string;
  /** Per-request timeout of the SDK. Default 10 s. */
  timeoutMs?: number;
  /** How long after a write a fetch must start to count as at least as new (revision lag). Default 3 s. */
  settleMs?: number;
  /** How long start() waits for the first fetch (or backup) before resolving anyway. Default 10 s. */
  startTimeoutMs?: number;
  /** For tests: an admin client with short backoffs. */
  admin?: UnleashAdminClient;
  onError?: (err: unknown) => void;
  now?: () => number;
}

interface OverlayEntry {
  fingerprint: string;
  /** When the write reached Unleash (or failed); Infinity while it is still in flight. */
  writtenAt: number;
}

// Warnings the SDK emits for a failed fetch it will retry (polling-fetcher.ts); errors cover the rest.
const FETCH_FAILURE_WARNING = /responded|Backing off|Socket keep alive/;

export class UnleashFlagStore implements FlagStore {
  readonly kind = 'unleash' as const;
  readonly admin: UnleashAdminClient;
  private unleash: Unleash | undefined;
  private readonly overlayEngine = new UnleashEngine({ appName: 'chain-canary-overlay' });
  private readonly overlay = new Map<string, OverlayEntry>();
  private readonly refreshIntervalMs: number;
  private readonly timeoutMs: number;
  private readonly settleMs: number;
  private readonly now: () => number;
  private ready = false;
  private fetchedOnce = false;
  private lastFetchOkAt: number | undefined;
  private lastFailure: string | undefined;
  private currentFetchStartedAt = 0;
  private firstOutcome: (() => void) | undefined;

  constructor(private readonly opts: UnleashFlagStoreOptions) {
    this.refreshIntervalMs = opts.refreshIntervalMs ?? 5_000;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.settleMs = opts.settleMs ?? 3_000;
    this.now = opts.now ?? Date.now;
    this.admin =
      opts.admin ??
      new UnleashAdminClient({ url: opts.url, adminToken: opts.adminToken, project: opts.project, timeoutMs: this.timeoutMs });
  }

  async start(): Promise<void> {
    if (this.unleash) return;
    // The SDK writes its backup after every fetch; a missing directory would fail each save.
    mkdirSync(this.opts.backupDir, { recursive: true });
    const first = new Promise<void>((resolve) => {
      this.firstOutcome = resolve;
    });
    const unleash = new Unleash({
      url: this.opts.url,
      appName: this.opts.appName,
      instanceId: this.opts.instanceId,
      refreshInterval: this.refreshIntervalMs,
      timeout: this.timeoutMs,
      backupPath: this.opts.backupDir,
      // Called as each fetch starts (polling-fetcher.ts fetch), which is what tells how new a fetched answer is.
      customHeadersFunction: async () => {
        this.currentFetchStartedAt = this.now();
        return { Authorization: this.opts.clientToken };
      },
      // Arms are counted in our own runs; and no metrics timer means nothing else to guard on shutdown.
      disableMetrics: true,
      skipInstanceCountWarning: true,
    });
    this.unleash = unleash;
    unleash.on('ready', () => {
      this.ready = true;
    });
    unleash.on('changed', () => this.fetched());
    unleash.on('unchanged', () => this.fetched());
    unleash.on('error', (err: Error) => {
      this.failed(err.message);
      this.opts.onError?.(err);
    });
    unleash.on('warn', (msg: unknown) => {
      if (typeof msg === 'string' && FETCH_FAILURE_WARNING.test(msg)) this.failed(msg);
    });
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, this.opts.startTimeoutMs ?? 10_000).unref());
    // Wait for the first fetch to answer or fail, so a backup is not routed on when Unleash is
    // up; when it is down the backup (if any) is in place by then.
    await Promise.race([first, timeout]);
    // The SDK announces "ready" on process.nextTick after storing what it loaded; let that run
    // so evaluation after start() resolves uses it.
    await new Promise((resolve) => setImmediate(resolve));
  }

  async put(flag: RolloutFlag): Promise<void> {
    const feature = toUnleashFeature(flag);
    // A switch-off (pause, rollback) applies here before the network write: sending calls to
    // the control early is always safe, and it must not wait on a slow or failing Unleash.
    if (!feature.enabled) this.setOverlay(feature.name, feature, Infinity);
    try {
      await this.admin.applyFlag(flag, this.opts.environment);
    } catch (err) {
      // Keep a local switch-off until Unleash's own answer replaces it; the caller retries.
      if (!feature.enabled) this.setOverlay(feature.name, feature, this.now());
      throw err;
    }
    this.setOverlay(feature.name, feature, this.now());
  }

  async retire(name: string): Promise<void> {
    this.setOverlay(name, undefined, Infinity);
    try {
      await this.admin.archive(name);
    } finally {
      this.setOverlay(name, undefined, this.now());
    }
  }

  evaluate(name: string, ctx: FlagContext): FlagVariant {
    try {
      if (this.overlay.has(name)) return this.overlayEngine.evaluate(name, ctx);
      if (!this.unleash || !this.ready) return 'disabled';
      return toFlagVariant(this.unleash.getVariant(name, toUnleashContext(ctx)));
    } catch {
      return 'disabled';
    }
  }

  status(): FlagStoreStatus {
    if (!this.ready) {
      return { ready: false, degraded: false, detail: this.lastFailure ?? 'no flags fetched yet and no backup' };
    }
    if (this.lastFailure !== undefined) {
      return { ready: true, degraded: true, detail: `routing on last known flags: ${this.lastFailure}` };
    }
    // The SDK backs off after failures without always saying so; silence is failure too.
    const staleAfter = 3 * this.refreshIntervalMs + this.timeoutMs;
    if (this.lastFetchOkAt === undefined || this.now() - this.lastFetchOkAt > staleAfter) {
      return { ready: true, degraded: true, detail: this.fetchedOnce ? 'no successful fetch recently' : 'routing on the backup file' };
    }
    return { ready: true, degraded: false };
  }

  async close(): Promise<void> {
    const unleash = this.unleash;
    this.unleash = undefined;
    this.firstOutcome?.();
    if (unleash) {
      // destroy() removes the repository's listeners, but a fetch already in flight still emits
      // its failure through the repository; an "error" event without a listener throws and
      // crashes the process (unhandled rejection from the fetch timer). Keep one listener.
      const repository = (unleash as unknown as { repository?: { on?: (e: string, f: () => void) => void } }).repository;
      unleash.destroy();
      repository?.on?.('error', () => {});
      unleash.on('error', () => {});
    }
    this.overlayEngine.destroy();
  }

  /**
   * What this replica routes a flag on right now (diagnostics and tests): its own recent write
   * (`overlay`, `feature` undefined for a retired flag) or what the SDK fetched (`unleash`).
   */
  definition(name: string): { source: 'overlay' | 'unleash'; feature: unknown } {
    if (this.overlay.has(name)) return { source: 'overlay', feature: this.overlayEngine.get(name) };
    return { source: 'unleash', feature: this.ready ? this.unleash?.getFeatureToggleDefinition(name) : undefined };
  }

  private setOverlay(name: string, feature: UnleashFeature | undefined, writtenAt: number): void {
    if (feature) this.overlayEngine.upsert(feature);
    else this.overlayEngine.remove(name);
    this.overlay.set(name, { fingerprint: featureFingerprint(feature), writtenAt });
  }

  private fetched(): void {
    this.ready = true;
    this.fetchedOnce = true;
    this.lastFetchOkAt = this.now();
    this.lastFailure = undefined;
    this.firstOutcome?.();
    const startedAt = this.currentFetchStartedAt;
    for (const [name, entry] of this.overlay) {
      const fetched = this.unleash?.getFeatureToggleDefinition(name);
      if (featureFingerprint(fetched) === entry.fingerprint || startedAt >= entry.writtenAt + this.settleMs) {
        this.overlay.delete(name);
        this.overlayEngine.remove(name);
      }
    }
  }

  private failed(message: string): void {
    this.lastFailure = message;
    this.firstOutcome?.();
  }
}

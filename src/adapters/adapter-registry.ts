/**
 * Builds one adapter per (chain, version), each behind its own circuit breaker, and keeps it: a
 * version is immutable (README, "Chain versions"), so its definition never changes under a cached
 * adapter, and the adapter's connection pool or SDK client is reused by every call to that version.
 */
import { UpstreamError } from '../domain/model/errors.js';
import type { AdapterDefinition } from './adapter-definition.js';
import type { ChainAdapter, ChainResult } from '../domain/ports/chain-adapter.js';
import { CircuitBreaker, type CircuitBreakerOptions, type CircuitState } from './circuit-breaker.js';
import { HttpChainAdapter, type HttpAdapterOptions } from './http-adapter.js';
import type { OpenAIAdapterOptions, OpenAIProviderSettings } from './openai-provider.js';
import { countsAgainstUpstream } from './upstream-errors.js';
import type { UpstreamAllowList } from './upstream-allow.js';

export interface AdapterRegistryOptions {
  /** OPENAI_API_KEY, OPENAI_BASE_URL, AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_API_KEY from the config. */
  providers: OpenAIProviderSettings;
  /** Breaker thresholds; the clock (`now`) defaults to Date.now. */
  breaker?: Partial<CircuitBreakerOptions>;
  /** For `{"env": NAME}` headers; default process.env at call time. */
  readEnv?: HttpAdapterOptions['readEnv'];
  http?: Omit<HttpAdapterOptions, 'readEnv'>;
  openai?: OpenAIAdapterOptions;
  /** Builds the bare adapter of a definition; tests swap in fakes. */
  createAdapter?: (def: AdapterDefinition) => ChainAdapter;
  /** UPSTREAM_ALLOW: the hosts `http` versions may call; unset, any. */
  upstreamAllow?: UpstreamAllowList;
}

/** Why an `http` definition may not be called under `allow`, or undefined when it may. */
export function upstreamRefusal(def: AdapterDefinition, allow: UpstreamAllowList | undefined): string | undefined {
  if (allow === undefined || def.type !== 'http') return undefined;
  const url = new URL(def.url);
  return allow.permits(url) ? undefined : `the host ${url.host} is not in UPSTREAM_ALLOW (${allow.toString()})`;
}

/** A version's adapter as the invoke path uses it: the bare adapter behind its breaker. */
export class GuardedAdapter implements ChainAdapter {
  constructor(
    readonly inner: ChainAdapter,
    readonly breaker: CircuitBreaker,
  ) {}

  async invoke(input: unknown, signal?: AbortSignal): Promise<ChainResult> {
    this.breaker.acquire();
    let result: ChainResult;
    try {
      result = await this.inner.invoke(input, signal);
    } catch (err) {
      if (countsAgainstUpstream(err)) this.breaker.failure();
      else this.breaker.release();
      throw err;
    }
    this.breaker.success();
    return result;
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }
}

export class AdapterRegistry {
  readonly #options: AdapterRegistryOptions;
  // Nested maps rather than a joined key: no string is built per call on the hot path.
  readonly #byChain = new Map<string, Map<string, GuardedAdapter>>();

  constructor(options: AdapterRegistryOptions) {
    this.#options = options;
  }

  /**
   * The adapter of (chain, version), built on first use from `def`. Never throws: a definition
   * that cannot be set up yields an adapter whose calls fail (and is not cached, so a fix to the
   * gateway's configuration takes effect without evicting anything).
   */
  get(chain: string, version: string, def: AdapterDefinition): GuardedAdapter {
    let versions = this.#byChain.get(chain);
    const cached = versions?.get(version);
    if (cached !== undefined) return cached;
    let inner: ChainAdapter;
    // Checked when the adapter is built, i.e. at the first call on this replica, also for a
    // version registered before UPSTREAM_ALLOW was set (not cached: a restart with a wider list applies).
    const refused = upstreamRefusal(def, this.#options.upstreamAllow);
    if (refused !== undefined) {
      return new GuardedAdapter(
        failingAdapter(`Chain version '${chain}/${version}' may not be called: ${refused}.`, { reason: 'upstream_not_allowed' }),
        new CircuitBreaker(this.#options.breaker),
      );
    }
    try {
      inner = this.#create(def);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      return new GuardedAdapter(
        failingAdapter(`Chain version '${chain}/${version}' could not be set up: ${reason}`),
        new CircuitBreaker(this.#options.breaker),
      );
    }
    const adapter = new GuardedAdapter(inner, new CircuitBreaker(this.#options.breaker));
    if (versions === undefined) {
      versions = new Map();
      this.#byChain.set(chain, versions);
    }
    versions.set(version, adapter);
    return adapter;
  }

  /** The breaker state of a version that has been called, for metrics and readiness. */
  breakerState(chain: string, version: string): CircuitState | undefined {
    return this.#byChain.get(chain)?.get(version)?.breaker.state;
  }

  /** Every built adapter's breaker state, e.g. for a gauge in /metrics. */
  *breakerStates(): Generator<{ chain: string; version: string; state: CircuitState }> {
    for (const [chain, versions] of this.#byChain) {
      for (const [version, adapter] of versions) yield { chain, version, state: adapter.breaker.state };
    }
  }

  /** Drops and closes one version's adapter (e.g. a test that re-creates a chain under the same id). */
  async evict(chain: string, version: string): Promise<void> {
    const versions = this.#byChain.get(chain);
    const adapter = versions?.get(version);
    if (adapter === undefined) return;
    versions!.delete(version);
    if (versions!.size === 0) this.#byChain.delete(chain);
    await adapter.close();
  }

  /** Closes every adapter (connection pools); for graceful shutdown. The registry stays usable. */
  async closeAll(): Promise<void> {
    const adapters = [...this.#byChain.values()].flatMap((versions) => [...versions.values()]);
    this.#byChain.clear();
    await Promise.allSettled(adapters.map((adapter) => adapter.close()));
  }

  #create(def: AdapterDefinition): ChainAdapter {
    const o = this.#options;
    if (o.createAdapter !== undefined) return o.createAdapter(def);
    if (def.type === 'http') return new HttpChainAdapter(def, { ...o.http, ...(o.readEnv === undefined ? {} : { readEnv: o.readEnv }) });
    return new LoadedOnFirstCall(async () => {
      const { OpenAIChainAdapter } = await import('./openai-adapter.js');
      return new OpenAIChainAdapter(def, o.providers, o.openai);
    });
  }
}

/**
 * An adapter whose module is loaded by its first call: the `openai` SDK (about 2 MB of the
 * gateway's heap, bench/README.md) is not loaded by a gateway whose versions are all `http`.
 * A load that fails fails that call, and the next call tries again.
 */
export class LoadedOnFirstCall implements ChainAdapter {
  #loading: Promise<ChainAdapter> | undefined;
  #loaded: ChainAdapter | undefined;

  constructor(private readonly build: () => Promise<ChainAdapter>) {}

  /** The adapter, once a call has loaded it. */
  get loaded(): ChainAdapter | undefined {
    return this.#loaded;
  }

  async invoke(input: unknown, signal?: AbortSignal): Promise<ChainResult> {
    const adapter = this.#loaded ?? (await this.#load());
    return adapter.invoke(input, signal);
  }

  async close(): Promise<void> {
    await this.#loaded?.close?.();
  }

  async #load(): Promise<ChainAdapter> {
    this.#loading ??= this.build().then(
      (adapter) => (this.#loaded = adapter),
      (err: unknown) => {
        this.#loading = undefined;
        throw new UpstreamError('failed', `The adapter could not be set up: ${err instanceof Error ? err.message : String(err)}`);
      },
    );
    return this.#loading;
  }
}

function failingAdapter(message: string, details?: unknown): ChainAdapter {
  return {
    invoke: () => Promise.reject(new UpstreamError('failed', message, details)),
  };
}

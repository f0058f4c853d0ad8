/**
 * The LangServe-style adapter: POST `{"input": <input>}` to the version's URL and read `output`
 * from the JSON reply (LangServe's `/invoke` shape).
 *
 * This is the gateway's hot path and is benchmarked against a bare proxy, so everything that does
 * not depend on the call is computed once here: the undici Pool (keep-alive connections to the
 * one origin), the request path, the header list.
 *
 * `timeoutMs` is a deadline for the whole call (queue, connect, reply headers and body), kept by
 * one native timer per call (upstream-post.ts). undici's own headersTimeout/bodyTimeout run on
 * its coarse "fast timers" (±500 ms, undici lib/util/timers.js), so a 300 ms timeout would fire
 * after about a second; they stay as a backstop just beyond the deadline.
 */
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { UpstreamError } from '../domain/model/errors.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../domain/overrides/json-value.js';
import type { ChainAdapter, ChainResult } from '../domain/ports/chain-adapter.js';
import type { HttpAdapterDefinition } from './adapter-definition.js';
import { post } from './upstream-post.js';
import { abortedByCaller, classifyTransportError, excerpt, readProcessEnv, upstreamTimeout } from './upstream-errors.js';

export interface HttpAdapterOptions {
  /** Reads an environment variable at call time (`{"env": NAME}` headers). Default: process.env. */
  readEnv?: (name: string) => string | undefined;
  /** Most connections open to the upstream at once; more calls queue. Default 256. */
  connections?: number;
  /** Largest reply body accepted, bytes. Default 64 MiB: a bound, not a policy. */
  maxResponseBytes?: number;
  /** How long close() lets in-flight calls finish before cutting them off. Default 2 s. */
  closeGraceMs?: number;
  /** This gateway's tag, sent as HOP_HEADER so that a call that comes back is refused (loop-guard.ts). */
  hopTag?: string;
}

/** Set on every upstream call; a gateway that receives its own tag in it refuses the call (508). */
export const HOP_HEADER = 'x-chain-canary-hop';

/** The abort reason of a passed deadline: one shared instance, recognised by identity. */
const DEADLINE = new Error('chain version deadline passed');

interface EnvHeader {
  name: string;
  env: string;
}

export class HttpChainAdapter implements ChainAdapter {
  readonly #pool: Pool;
  readonly #path: string;
  readonly #timeoutMs: number;
  /** Flat [name, value, ...] list: undici takes it without copying into an object. */
  readonly #headers: string[];
  readonly #envHeaders: readonly EnvHeader[];
  readonly #readEnv: (name: string) => string | undefined;
  readonly #closeGraceMs: number;

  constructor(def: HttpAdapterDefinition, options: HttpAdapterOptions = {}) {
    const url = new URL(def.url);
    this.#path = url.pathname + url.search;
    this.#timeoutMs = def.timeoutMs;
    this.#readEnv = options.readEnv ?? readProcessEnv;
    this.#closeGraceMs = options.closeGraceMs ?? 2_000;
    this.#headers = ['content-type', 'application/json', 'accept', 'application/json'];
    if (options.hopTag !== undefined) this.#headers.push(HOP_HEADER, options.hopTag);
    const envHeaders: EnvHeader[] = [];
    for (const [name, value] of Object.entries(def.headers ?? {})) {
      if (typeof value === 'string') this.#headers.push(name, value);
      // Only the reference is kept: the value is read per call and never stored on the adapter.
      else envHeaders.push({ name, env: value.env });
    }
    this.#envHeaders = envHeaders;
    this.#pool = new Pool(url.origin, {
      connections: options.connections ?? 256,
      headersTimeout: def.timeoutMs + 1_000,
      bodyTimeout: def.timeoutMs + 1_000,
      connect: { timeout: Math.min(def.timeoutMs, 10_000) },
      maxResponseSize: options.maxResponseBytes ?? 64 * 1024 * 1024,
    });
  }

  async invoke(input: unknown, signal?: AbortSignal): Promise<ChainResult> {
    const headers = this.#envHeaders.length === 0 ? this.#headers : this.#withEnvHeaders();
    // Concatenation rather than JSON.stringify({input}): one object fewer per call.
    const body = '{"input":' + (JSON.stringify(input) ?? 'null') + '}';
    if (signal?.aborted) throw abortedByCaller(signal);
    const started = performance.now();
    let status: number;
    let text: string;
    try {
      ({ status, text } = await post(this.#pool, {
        path: this.#path,
        headers,
        body,
        timeoutMs: this.#timeoutMs,
        deadlineError: DEADLINE,
        signal,
      }));
    } catch (err) {
      throw err === DEADLINE ? upstreamTimeout(this.#timeoutMs) : classifyTransportError(err, signal, this.#timeoutMs);
    }
    const upstreamMs = performance.now() - started;
    if (status < 200 || status > 299) {
      throw new UpstreamError('failed', `The upstream answered HTTP ${status}.`, { status, body: excerpt(text) });
    }
    // JSON.parse takes any depth, but a run nested deeper than we can serialise cannot be kept.
    if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
      throw new UpstreamError('failed', `The upstream reply nests deeper than ${MAX_JSON_DEPTH} levels; it cannot be stored.`, { status });
    }
    let reply: unknown;
    try {
      reply = JSON.parse(text);
    } catch {
      throw new UpstreamError('failed', 'The upstream reply is not JSON.', { status, body: excerpt(text) });
    }
    if (reply === null || typeof reply !== 'object' || !Object.hasOwn(reply, 'output')) {
      throw new UpstreamError('failed', 'The upstream reply has no "output" field.', { status, body: excerpt(text) });
    }
    return { output: (reply as { output: unknown }).output, upstreamMs };
  }

  async close(): Promise<void> {
    if (this.#pool.closed) return;
    // close() lets in-flight calls finish; a hung upstream would then hold up shutdown for its
    // whole timeout, so after a grace period the pool is destroyed (those calls fail).
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#closeGraceMs);
    });
    try {
      if ((await Promise.race([this.#pool.close().then(() => 'closed'), grace])) !== 'closed') await this.#pool.destroy();
    } finally {
      clearTimeout(timer);
    }
  }

  #withEnvHeaders(): string[] {
    const headers = this.#headers.slice();
    for (const { name, env } of this.#envHeaders) {
      const value = this.#readEnv(env);
      if (value === undefined || value === '') {
        throw new UpstreamError('failed', `Header '${name}' reads the environment variable ${env}, which is not set on the gateway.`, {
          header: name,
          env,
        });
      }
      headers.push(name, value);
    }
    return headers;
  }
}

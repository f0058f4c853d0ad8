/**
 * The gateway's side of the shadow calls' thread (shadow-thread-worker.ts): each call is one
 * message out and one small result back, so this thread's event loop and heap carry none of the
 * upstream call's work or garbage (README "Shadow runs"; the 100% shadowing figures in
 * "Performance" show the tail they added when they did).
 *
 * The thread starts with the first call (a gateway that shadows nothing has none) and is
 * referenced only while calls are pending, so an idle one never keeps the process alive. If it
 * dies, every call it held rejects with an error that says so (the dispatcher records it as the
 * shadow run's error) and the next call starts a new thread.
 */
import { SHARE_ENV, type Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { AdapterDefinition } from '../../adapters/adapter-definition.js';
import type { ChainResult } from '../../domain/ports/chain-adapter.js';
import type { ShadowCaller } from '../shadow-caller.js';
import { BackgroundThread, workerEntry } from '../worker-boot.js';
import { ThreadRequests } from '../thread-requests.js';
import { fromWireError, type CallRequest, type ShadowThreadData, type ShadowThreadReply } from './protocol.js';

const entry = workerEntry(import.meta.url, 'shadow-thread-worker');

export interface ThreadShadowCallerOptions {
  /** The shadow registry's adapter settings, for the thread's own registry. */
  adapters: ShadowThreadData;
  log?: Logger;
  /**
   * How long close() waits for the thread to finish its calls before terminating it; a bound over
   * the adapters' own close grace (2 s, http-adapter.ts), for calls that grace does not cut off.
   */
  closeTimeoutMs?: number;
}

export class ThreadShadowCaller implements ShadowCaller {
  readonly #options: ThreadShadowCallerOptions;
  readonly #requests = new ThreadRequests<ChainResult>();
  readonly #thread: BackgroundThread<ShadowThreadReply>;

  constructor(options: ThreadShadowCallerOptions) {
    this.#options = options;
    this.#thread = new BackgroundThread<ShadowThreadReply>(
      entry,
      { workerData: options.adapters, env: SHARE_ENV },
      { message: (w, m) => m.op === 'result' && this.#settle(w, m), lost: (how, err, closing) => this.#lost(how, err, closing) },
      options.closeTimeoutMs ?? 5000,
    );
  }

  /** Calls waiting for their result. */
  get pending(): number {
    return this.#requests.size;
  }

  call(chain: string, version: string, def: AdapterDefinition, input: unknown, timeoutMs: number): Promise<ChainResult> {
    if (this.#thread.closing) return Promise.reject(new Error("the shadow calls' thread is closed"));
    return this.#requests.send(
      this.#thread.get(),
      (id) => ({ op: 'call', id, chain, version, def, input, timeoutMs }) satisfies CallRequest,
    );
  }

  /** Lets the calls in flight finish (the adapters' close grace cuts off hung ones), then stops the thread. */
  close(): Promise<void> {
    return this.#thread.close();
  }

  /** Stops the thread as a crash would (tests): its calls reject, the next call starts a new one. */
  terminateThread(): Promise<void> {
    return this.#thread.terminate();
  }

  #settle(worker: Worker, m: Extract<ShadowThreadReply, { op: 'result' }>): void {
    if (!m.ok) return this.#requests.settle(worker, this.#thread.current, m.id, { error: fromWireError(m.error) });
    const value: ChainResult =
      m.usage === undefined
        ? { output: m.output, upstreamMs: m.upstreamMs }
        : { output: m.output, usage: m.usage, upstreamMs: m.upstreamMs };
    this.#requests.settle(worker, this.#thread.current, m.id, { value });
  }

  /** The thread is gone: what it held will never answer. */
  #lost(how: string, err: Error | undefined, closing: boolean): void {
    if (!closing)
      this.#options.log?.error(
        { err, calls: this.#requests.size },
        `the shadow calls' thread ${how}; the next shadow call starts a new one`,
      );
    this.#requests.rejectAll(new Error(`the shadow calls' thread ${how} before the candidate answered`));
  }
}

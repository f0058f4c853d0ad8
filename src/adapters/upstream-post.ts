/**
 * One POST through an undici dispatcher, its reply read whole, with a deadline: the HTTP
 * adapter's call on the hot path.
 *
 * It speaks undici's dispatch-handler interface rather than `request()`, whose per-call
 * machinery the gateway does not need: an AsyncResource, a Readable for the body, an
 * AbortController whose signal is listened to, and the promise chain of `body.text()` (about a
 * tenth of the gateway's undici time and 3 KB allocated per call in the bench's profile,
 * bench/README.md). The reply's chunks are kept as they come and decoded once at the end.
 *
 * The deadline is one native timer per call; undici's own headers/body timeouts run on coarse
 * timers (see http-adapter.ts) and stay as a backstop.
 */
import type { Dispatcher } from 'undici';

export interface PostReply {
  status: number;
  text: string;
}

export interface PostOptions {
  path: string;
  headers: string[];
  body: string;
  /** Whole-call deadline, ms: the call fails with `deadlineError` when it passes. */
  timeoutMs: number;
  deadlineError: Error;
  /** The caller's cancellation; its reason is the error the call fails with. */
  signal?: AbortSignal;
}

/** Sends the POST; resolves with the status and the body text, or rejects with undici's error, the deadline's or the signal's reason. */
export function post(dispatcher: Dispatcher, o: PostOptions): Promise<PostReply> {
  return new Promise<PostReply>((resolve, reject) => {
    const call = new PostCall(resolve, reject, o);
    try {
      dispatcher.dispatch({ path: o.path, method: 'POST', headers: o.headers, body: o.body }, call);
    } catch (err) {
      call.fail(err as Error);
    }
  });
}

function onDeadline(call: PostCall): void {
  call.cancel(call.deadlineError);
}

class PostCall implements Dispatcher.DispatchHandler {
  readonly deadlineError: Error;
  #controller: Dispatcher.DispatchController | undefined;
  /** Set when the call was cancelled before undici connected it: aborted on connect. */
  #cancelled: Error | undefined;
  #status = 0;
  readonly #chunks: Buffer[] = [];
  #settled = false;
  readonly #timer: NodeJS.Timeout;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort: (() => void) | undefined;

  constructor(
    private readonly resolve: (reply: PostReply) => void,
    private readonly reject: (err: Error) => void,
    o: PostOptions,
  ) {
    this.deadlineError = o.deadlineError;
    this.#timer = setTimeout(onDeadline, o.timeoutMs, this);
    this.#signal = o.signal;
    if (o.signal !== undefined) {
      this.#onAbort = () => this.cancel(o.signal!.reason as Error);
      o.signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  /** Aborts the call (deadline or caller): now if undici has started it, else when it does. */
  cancel(reason: Error): void {
    if (this.#settled) return;
    if (this.#controller) this.#controller.abort(reason);
    else this.#cancelled = reason;
    // undici reports the abort through onResponseError; settle now in case it is still queued.
    this.fail(reason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#cancelled) controller.abort(this.#cancelled);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number): void {
    this.#status = statusCode;
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (this.#settle()) {
      const chunks = this.#chunks;
      const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
      this.resolve({ status: this.#status, text });
    }
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.fail(err);
  }

  fail(err: Error): void {
    if (this.#settle()) this.reject(err);
  }

  /** True the first time: stops the timer and the signal's listener. */
  #settle(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    clearTimeout(this.#timer);
    if (this.#onAbort !== undefined) this.#signal!.removeEventListener('abort', this.#onAbort);
    return true;
  }
}

/**
 * Requests to a background thread (worker-boot.ts BackgroundThread), each answered by one reply
 * carrying its id: the shadow calls' thread and the planner's. Keeps what is pending, and keeps
 * the worker referenced only while something is, so an idle thread never holds the process alive.
 */
import type { Worker } from 'node:worker_threads';

interface Pending<T> {
  resolve: (value: T) => void;
  reject: (err: Error) => void;
}

export class ThreadRequests<T> {
  readonly #pending = new Map<number, Pending<T>>();
  #nextId = 1;

  /** Requests waiting for their reply. */
  get size(): number {
    return this.#pending.size;
  }

  /** Posts the message `make(id)` builds, and resolves with the reply settled under that id. */
  send(worker: Worker, make: (id: number) => unknown): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      try {
        worker.postMessage(make(id));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      if (this.#pending.size === 0) worker.ref();
      this.#pending.set(id, { resolve, reject });
    });
  }

  /** The reply to request `id` from `worker` (`current`: the thread now running, which alone is unref'd). */
  settle(worker: Worker, current: Worker | undefined, id: number, outcome: { value: T } | { error: Error }): void {
    const p = this.#pending.get(id);
    if (p === undefined) return;
    this.#pending.delete(id);
    if (this.#pending.size === 0 && worker === current) worker.unref();
    if ('error' in outcome) p.reject(outcome.error);
    else p.resolve(outcome.value);
  }

  /** The thread is gone: every request it held fails with `reason`. */
  rejectAll(reason: Error): void {
    for (const p of this.#pending.values()) p.reject(reason);
    this.#pending.clear();
  }
}

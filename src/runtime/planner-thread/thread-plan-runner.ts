/**
 * The gateway's side of the planner's thread (planner-thread-worker.ts): a plan is one message
 * out and its answer back, so the gateway's event loop carries none of the simulation (README
 * "Planning a rollout"). One thread for every plan: plans at once share it rather than taking a
 * core each.
 *
 * The thread starts with the first plan and is referenced only while plans are pending, so an
 * idle one never keeps the process alive. If it dies, every plan it held rejects with an error that
 * says so and the next plan starts a new thread.
 */
import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { PlanRequest } from '../../domain/model/plan-request.js';
import type { PlanAnswer } from '../../domain/planner/plan.js';
import type { PlanRunner } from '../../domain/ports/plan-runner.js';
import { BACKGROUND_THREAD_YOUNG_GENERATION_MB, BackgroundThread, workerEntry } from '../worker-boot.js';
import { ThreadRequests } from '../thread-requests.js';
import type { PlanMessage, PlanReply, PlannerThreadReply } from './protocol.js';

const entry = workerEntry(import.meta.url, 'planner-thread-worker');

/** The thread answers `closed` at once (plans hold nothing to flush): a bound for a thread mid-look. */
const CLOSE_TIMEOUT_MS = 2000;

export class ThreadPlanRunner implements PlanRunner {
  readonly #requests = new ThreadRequests<PlanAnswer>();
  readonly #thread: BackgroundThread<PlannerThreadReply>;
  readonly #log: Logger | undefined;

  constructor(options: { log?: Logger } = {}) {
    this.#log = options.log;
    this.#thread = new BackgroundThread<PlannerThreadReply>(
      entry,
      // A background thread's young generation: a plan's garbage is looks in passing, and its pauses hold no reply.
      { resourceLimits: { maxYoungGenerationSizeMb: BACKGROUND_THREAD_YOUNG_GENERATION_MB } },
      { message: (w, m) => m.op === 'answer' && this.#settle(w, m), lost: (how, err, closing) => this.#lost(how, err, closing) },
      CLOSE_TIMEOUT_MS,
    );
  }

  /** Plans waiting for their answer. */
  get pending(): number {
    return this.#requests.size;
  }

  run(request: PlanRequest, budgetMs: number): Promise<PlanAnswer> {
    if (this.#thread.closing) return Promise.reject(new Error("the planner's thread is closed"));
    return this.#requests.send(this.#thread.get(), (id) => ({ op: 'plan', id, request, budgetMs }) satisfies PlanMessage);
  }

  /** Stops the thread; plans still pending reject (the server has answered its requests by then). */
  close(): Promise<void> {
    return this.#thread.close();
  }

  /** Stops the thread as a crash would (tests): its plans reject, the next plan starts a new one. */
  terminateThread(): Promise<void> {
    return this.#thread.terminate();
  }

  #settle(worker: Worker, m: PlanReply): void {
    this.#requests.settle(worker, this.#thread.current, m.id, m.ok ? { value: m.answer } : { error: new Error(m.message) });
  }

  /** The thread is gone: what it held will never answer. */
  #lost(how: string, err: Error | undefined, closing: boolean): void {
    if (!closing) this.#log?.error({ err, plans: this.#requests.size }, `the planner's thread ${how}; the next plan starts a new one`);
    this.#requests.rejectAll(new Error(`the planner's thread ${how} before the plan was answered`));
  }
}

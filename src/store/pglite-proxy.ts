/**
 * The gateway's side of the embedded database: a client with PGlite's `query` and `transaction`
 * (what drizzle's PGlite driver calls) whose work runs in a worker thread (pglite-worker.ts).
 * PGlite executes PostgreSQL inside WebAssembly on whatever thread calls it; on the event loop,
 * a 2,000-run batch insert held every reply behind it (README: Performance).
 *
 * Each call is one message; results and errors come back structured-cloned (rows, dates as
 * PostgreSQL text like drizzle asks, SQLSTATE codes for db-errors.ts). The worker is referenced
 * only while a call is pending, so an idle embedded database never keeps a process alive.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Worker } from 'node:worker_threads';
import type { QueryOptions, Results } from '@electric-sql/pglite';
import { BACKGROUND_THREAD_YOUNG_GENERATION_MB, processArgs, startWorker, workerEntry } from '../runtime/worker-boot.js';
import { fromWireError, type WireQueryOptions, type WorkerHello, type WorkerReply, type WorkerRequest } from './pglite-protocol.js';
import type { PgliteWorkerData } from './pglite-worker.js';

type Query = (sql: string, params?: unknown[], options?: QueryOptions) => Promise<Results>;

/** What drizzle's PGlite session calls on its client, inside and outside a transaction. */
export interface PgliteLikeClient {
  query: Query;
  transaction<T>(callback: (tx: { query: Query }) => Promise<T>): Promise<T>;
}

type Request = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id'> : never) : never;

/** drizzle passes the same options object for every run of a prepared query: translate it once. */
const wired = new WeakMap<QueryOptions, WireQueryOptions>();

function wireOptions(options: QueryOptions | undefined): WireQueryOptions {
  if (!options) return toWire(undefined);
  let w = wired.get(options);
  if (!w) wired.set(options, (w = toWire(options)));
  return w;
}

/** drizzle passes parsers that leave some types as text; only such identity parsers can cross threads. */
function toWire(options: QueryOptions | undefined): WireQueryOptions {
  const rawTypes: number[] = [];
  const parsers: Record<number, (value: string) => unknown> = options?.parsers ?? {};
  for (const [oid, parse] of Object.entries(parsers)) {
    if (parse('0') !== '0') throw new Error(`the embedded database's thread only takes identity parsers (type ${oid})`);
    rawTypes.push(Number(oid));
  }
  if (options?.serializers || options?.blob || options?.onNotice || options?.paramTypes) {
    throw new Error("the embedded database's thread takes rowMode and identity parsers only");
  }
  return { rowMode: options?.rowMode, rawTypes };
}

/** The worker's entry: the compiled .js next to this file, or the TypeScript source through tsx. */
const entry = workerEntry(import.meta.url, 'pglite-worker');

/** A new database folder is made by a process of its own (see `initdb` in pglite-worker.ts). */
async function initdbIfNew(dir: string): Promise<void> {
  if (existsSync(join(dir, 'PG_VERSION'))) return;
  try {
    await promisify(execFile)(process.execPath, processArgs(entry, dir), { timeout: 300_000 });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new Error(`could not create the embedded database in ${dir}: ${stderr || (err as Error).message}`, { cause: err });
  }
}

export class PgliteProxy implements PgliteLikeClient {
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private stopped: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: WorkerReply) => this.settle(m));
    worker.on('error', (err) => this.stop(new Error(`the embedded database's thread failed: ${err.message}`)));
    worker.on('exit', (code) => this.stop(new Error(`the embedded database's thread exited (code ${code})`)));
  }

  /** Starts the worker and waits until PGlite has opened `dir` (or says why it could not). */
  static async open(data: PgliteWorkerData): Promise<PgliteProxy> {
    await initdbIfNew(data.dir);
    const worker = startWorker(entry, {
      workerData: data,
      resourceLimits: { maxYoungGenerationSizeMb: BACKGROUND_THREAD_YOUNG_GENERATION_MB },
    });
    let onMessage!: (hello: WorkerHello) => void;
    let onError!: (err: Error) => void;
    let onExit!: (code: number) => void;
    const hello = await new Promise<WorkerHello>((resolve, reject) => {
      onMessage = resolve;
      onError = reject;
      onExit = (code) => reject(new Error(`the embedded database's thread exited at start (code ${code})`));
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    }).finally(() => {
      // Only these: removeAllListeners would also drop the Worker's own, and no message would arrive.
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
    });
    if (!hello.ready) {
      await worker.terminate();
      throw fromWireError(hello.error);
    }
    worker.unref();
    return new PgliteProxy(worker);
  }

  // async: options that cannot cross the thread reject, as a failed query would.
  query: Query = async (sql, params = [], options) =>
    this.call({ op: 'query', sql, params, options: wireOptions(options) }) as Promise<Results>;

  async transaction<T>(callback: (tx: { query: Query }) => Promise<T>): Promise<T> {
    const tx = (await this.call({ op: 'begin' })) as number;
    const query: Query = async (sql, params = [], options) =>
      this.call({ op: 'query', sql, params, options: wireOptions(options), tx }) as Promise<Results>;
    let result: T;
    try {
      result = await callback({ query });
    } catch (err) {
      await this.call({ op: 'end', tx, commit: false }).catch(() => {});
      throw err;
    }
    await this.call({ op: 'end', tx, commit: true });
    return result;
  }

  async close(): Promise<void> {
    if (this.stopped) return;
    await this.call({ op: 'close' }).catch(() => {});
    this.stop(new Error("the embedded database's thread is closed"));
    await this.worker.terminate();
  }

  private call(request: Request): Promise<unknown> {
    if (this.stopped) return Promise.reject(this.stopped);
    const id = this.nextId++;
    if (this.pending.size === 0) this.worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id });
    });
  }

  private settle(m: WorkerReply): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (this.pending.size === 0) this.worker.unref();
    if (m.ok) p.resolve(m.value);
    else p.reject(fromWireError(m.error));
  }

  private stop(reason: Error): void {
    if (this.stopped) return;
    this.stopped = reason;
    for (const p of this.pending.values()) p.reject(reason);
    this.pending.clear();
  }
}

/**
 * The embedded database's thread: PGlite (PostgreSQL compiled to WebAssembly) runs here, so that
 * a batch insert or a comparison query never holds the gateway's event loop (README:
 * Performance). pglite-proxy.ts is the other end.
 *
 * A transaction stays open across messages: `begin` starts PGlite's transaction and parks it
 * until `end` says commit or roll back; PGlite's own lock keeps other statements waiting
 * meanwhile, as a single PostgreSQL connection would.
 */
import { setFlagsFromString } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { BACKGROUND_THREAD_NICENESS, yieldCoresFromThisThread } from '../runtime/thread-priority.js';
import { toWireError, type WireQueryOptions, type WorkerHello, type WorkerReply, type WorkerRequest } from './pglite-protocol.js';

export interface PgliteWorkerData {
  dir: string;
  /** postgresql.conf lines (memory settings; see db.ts). */
  postgresqlconf: string[];
}

interface OpenTx {
  tx: Transaction;
  end: (commit: boolean) => void;
  done: Promise<unknown>;
}

const port = parentPort;
const data = workerData as PgliteWorkerData;

const identity = (value: string) => value;

function queryOptions(o: WireQueryOptions) {
  const parsers: Record<number, (value: string) => unknown> = {};
  for (const oid of o.rawTypes ?? []) parsers[oid] = identity;
  return { rowMode: o.rowMode, parsers };
}

/** Thrown into a parked transaction to roll it back. */
class RollbackRequested extends Error {}

/**
 * `--no-liftoff` (WebAssembly compiled by V8's optimizing compiler alone, no baseline code), only
 * where it saves memory: on V8 before 12 (Node 20) the embedded mode idled about 30 MB lower with
 * it, on 12 and later (Node 22, 24) 13-19 MB higher (README "Production setup", Process). V8 reads
 * the flag when a module is compiled, and PGlite's is compiled on this thread, next.
 */
function compileWithoutBaseline(): void {
  if (Number(process.versions.v8.split('.')[0]) < 12) setFlagsFromString('--no-liftoff');
}

async function main(): Promise<void> {
  // The thread that answers calls gets the cores first: an invoke's reply waits for the spool,
  // not for this thread; reads that do wait still get their share (thread-priority.ts).
  yieldCoresFromThisThread(BACKGROUND_THREAD_NICENESS);
  compileWithoutBaseline();
  let db: PGlite;
  try {
    db = await PGlite.create(data.dir, { postgresqlconf: data.postgresqlconf });
  } catch (err) {
    port!.postMessage({ ready: false, error: toWireError(err) } satisfies WorkerHello);
    return;
  }
  const open = new Map<number, OpenTx>();
  let nextTx = 1;

  const begin = (): Promise<number> =>
    new Promise((started, failed) => {
      const id = nextTx++;
      let end!: (commit: boolean) => void;
      const decided = new Promise<boolean>((resolve) => (end = resolve));
      let parked = false;
      const done = db.transaction(async (tx) => {
        parked = true;
        open.set(id, { tx, end, done });
        started(id);
        if (!(await decided)) throw new RollbackRequested();
      });
      // Before the callback ran (BEGIN itself failed) the caller learns it here; after, `finish`
      // awaits `done`, and a rollback's rejection is the expected outcome.
      done.catch((err: unknown) => {
        if (!parked) failed(err instanceof Error ? err : new Error(String(err)));
      });
    });

  const finish = async (txId: number, commit: boolean): Promise<void> => {
    const t = open.get(txId);
    if (!t) throw new Error(`no open transaction ${txId}`);
    open.delete(txId);
    t.end(commit);
    try {
      await t.done;
    } catch (err) {
      if (!(err instanceof RollbackRequested)) throw err;
    }
  };

  const handle = async (m: WorkerRequest): Promise<unknown> => {
    switch (m.op) {
      case 'query': {
        const target = m.tx === undefined ? db : open.get(m.tx)?.tx;
        if (!target) throw new Error(`no open transaction ${m.tx}`);
        return target.query(m.sql, m.params, queryOptions(m.options));
      }
      case 'begin':
        return begin();
      case 'end':
        return finish(m.tx, m.commit);
      case 'close':
        await db.close();
        // Nothing more will come: let the thread end once the reply is out.
        setImmediate(() => port!.close());
        return undefined;
    }
  };

  port!.on('message', (m: WorkerRequest) => {
    handle(m).then(
      (value) => port!.postMessage({ id: m.id, ok: true, value } satisfies WorkerReply),
      (err: unknown) => port!.postMessage({ id: m.id, ok: false, error: toWireError(err) } satisfies WorkerReply),
    );
  });
  port!.postMessage({ ready: true } satisfies WorkerHello);
}

/**
 * Run as a process (`node pglite-worker.js <dir>`): create the database folder and exit. initdb
 * grows PGlite's WebAssembly memory to about 900 MB, which a process never gives back; done in a
 * process of its own, the gateway's thread opens an existing folder at a third of that.
 */
async function initdb(dir: string): Promise<void> {
  const db = await PGlite.create(dir);
  await db.close();
}

if (port) void main();
else
  initdb(process.argv[2] ?? '').catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });

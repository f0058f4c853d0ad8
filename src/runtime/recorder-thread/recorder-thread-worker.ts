/**
 * The recorder thread (README "Performance"; PostgreSQL mode with RECORDER_THREAD): the spool,
 * the RunWriter, the RunStore's batch inserts and the read models run here, on their own pg pool,
 * so the group commit's write(), the batch inserts' parameter strings and result parsing, and
 * their garbage, live on this thread's event loop and heap, not on the one that answers
 * customers. The gateway's thread (thread-run-recorder.ts) makes each record's JSON once and
 * posts it; this thread appends it to the spool, acknowledges the group commit, and reports what
 * the database committed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import { openDatabase } from '../../store/db.js';
import { RolloutReadModel } from '../../store/read-models/rollout-read-model.js';
import { RunStore } from '../../store/run-store.js';
import { reviveRun } from '../spool/spool-record.js';
import { openSpool, type Spool } from '../spool/spool.js';
import { RunWriter } from '../run-writer.js';
import type { Feedback, Run } from '../../domain/model/run.js';
import {
  toWireError,
  type RecorderReply,
  type RecorderRequest,
  type RecorderState,
  type RecorderThreadData,
  type WireError,
} from './protocol.js';

const port = parentPort!;
const data = workerData as RecorderThreadData;
const post = (reply: RecorderReply): void => port.postMessage(reply);

// The thread's log lines are written by the gateway's logger (its redaction, its destination).
const log = pino({ level: data.logLevel }, { write: (line: string) => post({ op: 'log', line }) });

/** The gateway's number of each record the writer holds, until it is committed. */
const numbers = new WeakMap<object, number>();

interface Parts {
  spool: Spool;
  writer: RunWriter;
  close(): Promise<void>;
}

function state(parts: Parts): RecorderState {
  return { spool: parts.spool.status(), rejected: parts.writer.rejected };
}

async function open(): Promise<Parts> {
  const database = await openDatabase({
    databaseUrl: data.databaseUrl,
    dataDir: '',
    poolSize: data.poolSize,
    connectTimeoutMs: data.connectTimeoutMs,
  });
  const store = new RunStore(database.db, new RolloutReadModel());
  let spool: Spool;
  try {
    // Replays what a previous process (or a previous recorder thread) left, before taking records.
    spool = await openSpool({ dir: data.spoolDir, maxBytes: data.spoolMaxBytes, log, store });
  } catch (err) {
    await database.close().catch(() => {});
    throw err;
  }
  const writer = new RunWriter({
    store,
    log,
    journal: spool,
    batchSize: data.batchSize,
    maxInFlight: data.maxInFlight,
    flushIntervalMs: data.flushIntervalMs,
    events: {
      publish: (_name, { runs, feedback }) => {
        const ms: number[] = [];
        for (const r of runs) ms.push(numbers.get(r)!);
        for (const f of feedback) ms.push(numbers.get(f)!);
        post({ op: 'committed', ms, state: state(parts) });
      },
    },
  });
  const parts: Parts = {
    spool,
    writer,
    async close() {
      // Bounded like the gateway's own shutdown steps: what is not committed stays in the spool.
      await Promise.race([writer.close(), new Promise((resolve) => setTimeout(resolve, 12_000).unref())]).catch((err: unknown) =>
        log.error({ err, backlog: writer.backlog }, 'queued runs not all written at shutdown; they stay in the spool'),
      );
      await spool.close();
      await database.close();
    },
  };
  writer.start();
  return parts;
}

/** The records of one message: appended in order, acknowledged once the group commit wrote them. */
async function records(parts: Parts, m: Extract<RecorderRequest, { op: 'records' }>): Promise<void> {
  let failed: { m: number; error: WireError }[] | undefined;
  const runs: { m: number; id: string }[] = [];
  for (const r of m.records) {
    try {
      if (r.k === 'r') {
        const run = reviveRun(JSON.parse(r.j) as Run);
        numbers.set(run, r.m);
        // Not awaited here: every run of the message shares the one write below.
        void parts.writer.recordRun(run, r.j);
        runs.push({ m: r.m, id: run.id });
      } else {
        const fb = JSON.parse(r.j) as Feedback;
        fb.at = new Date(fb.at);
        numbers.set(fb, r.m);
        parts.writer.recordFeedback(fb, r.j);
      }
    } catch (err) {
      (failed ??= []).push({ m: r.m, error: toWireError(err, false) });
    }
  }
  await parts.spool.written();
  let notJournaled: number[] | undefined;
  for (const r of runs) if (parts.spool.notJournaled(r.id)) (notJournaled ??= []).push(r.m);
  const upTo = m.records[m.records.length - 1]!.m;
  post({ op: 'written', upTo, ...(failed ? { failed } : {}), ...(notJournaled ? { notJournaled } : {}), state: state(parts) });
}

async function flush(parts: Parts, id: number): Promise<void> {
  try {
    await parts.writer.flush();
    post({ op: 'flushed', id });
  } catch (err) {
    post({ op: 'flushed', id, error: toWireError(err, false) });
  }
}

const opened = open();
// Messages are handled one after the other, in order, once the spool is open.
let queue: Promise<unknown> = opened.then(
  (parts) => {
    post({ op: 'ready', state: state(parts) });
    // While the disk refuses writes, status() probes it (at most once a second): the gateway's
    // thread learns it recovered without a call having to come through.
    setInterval(() => {
      if (!parts.spool.status().writable || parts.spool.full) post({ op: 'state', state: state(parts) });
    }, 1000).unref();
  },
  (err: unknown) => {
    post({ op: 'failed', error: toWireError(err, false) });
    log.error({ err }, 'the recorder thread could not open the spool');
  },
);

port.on('message', (m: RecorderRequest) => {
  queue = queue
    .then(async () => {
      const parts = await opened;
      if (m.op === 'records') await records(parts, m);
      else if (m.op === 'flush') void flush(parts, m.id);
      else {
        await parts.close();
        post({ op: 'closed' });
      }
    })
    .catch((err: unknown) => log.error({ err }, 'recorder thread message failed'));
});

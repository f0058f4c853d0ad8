/**
 * Bench task: ingestion through the real write path, in process and off any request path. The
 * gateway is composed as `npm start` composes it (src/composition.ts: RunWriter + RunStore, with
 * whatever read-model hooks and journal the composition wires at the time), the catalog and a
 * running rollout are created through its admin API (inject), and INGEST_RUNS runs with that
 * rollout id are queued on the writer as fast as it drains them (backlog capped), plus feedback
 * on 40% of earlier answered runs. Reports runs and feedback written per second, batch timings,
 * and checks that every run reached the database.
 *
 * INGEST_MODE=bare measures the same batches through a RunStore without hooks, for reference;
 * INGEST_MODE=copy measures the composed path with the COPY runs insert of lib/copy-batch.ts.
 * Bounded by INGEST_RUNS and INGEST_MAX_SECONDS (producing stops at the first; the queue is then
 * flushed and timed too).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldLoop, setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { compose } from '../src/composition.js';
import { loadConfig } from '../src/config/config.js';
import { RunWriter } from '../src/runtime/run-writer.js';
import { RunStore } from '../src/store/run-store.js';
import type { Run } from '../src/domain/model/run.js';
import type { RunRepository } from '../src/domain/ports/run-repository.js';
import { completeTask } from './lib/children.js';
import { patchRunStoreCopy } from './lib/copy-batch.js';
import { ADMIN_TOKEN, CHAIN, ENVIRONMENT } from './lib/setup.js';
import { makeFeedback, makeRun, type SyntheticContext } from './lib/synthetic.js';

const TOTAL = Number(process.env.INGEST_RUNS ?? 200_000);
const MODES = ['composed', 'bare', 'copy'] as const;
const MODE = MODES.find((m) => m === process.env.INGEST_MODE) ?? 'composed';
const MAX_MS = Number(process.env.INGEST_MAX_SECONDS ?? 60) * 1000;
if (MODE === 'copy') patchRunStoreCopy();
const BACKLOG_CAP = 20_000;
const FEEDBACK_LAG = 10_000;
const TENANTS = Array.from({ length: 20 }, (_, i) => `t${String(i).padStart(2, '0')}`);

await completeTask(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cc-bench-ingest-'));
  const log = pino({ level: 'warn' });
  const config = loadConfig({ ...process.env, DATA_DIR: dataDir, ADMIN_TOKEN, PORT: '0', LOG_LEVEL: 'warn' });
  const gw = await compose(config, { log });
  await gw.app.ready();
  const inject = async (method: string, url: string, body?: unknown) => {
    const res = await gw.app.inject({
      method: method as 'GET',
      url,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      payload: body as object,
    });
    if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
    return res.json();
  };
  for (const t of TENANTS) await inject('PUT', `/v1/tenants/${t}`, {});
  await inject('PUT', `/v1/chains/${CHAIN}`, {});
  for (const version of ['v1', 'v2'])
    await inject('POST', `/v1/chains/${CHAIN}/versions`, { version, adapter: { type: 'http', url: 'http://127.0.0.1:9/invoke' } });
  const rollout = (await inject('POST', '/v1/rollouts', {
    chain: CHAIN,
    control: 'v1',
    candidate: 'v2',
    stages: [{ environments: [ENVIRONMENT], percent: 50, splitBy: 'unit' }],
  })) as { id: string };

  const composedStore = gw.services.runStore;
  const store = MODE !== 'bare' ? composedStore : new RunStore(gw.database.db);
  const hooks = (composedStore as unknown as { hooks?: object }).hooks;
  const writer = MODE !== 'bare' ? gw.services.writer : new RunWriter({ store, log });
  if (MODE === 'bare') writer.start();

  // Time the read-model hooks inside each batch (wrapped on the instance the store holds).
  let hookRunsMs = 0;
  let hookFeedbackMs = 0;
  const h = hooks as
    { onRunsInserted?: (...a: unknown[]) => Promise<void>; onFeedbackChanged?: (...a: unknown[]) => Promise<void> } | undefined;
  if (h?.onRunsInserted && h.onFeedbackChanged && MODE !== 'bare') {
    const onRuns = h.onRunsInserted.bind(h);
    const onFeedback = h.onFeedbackChanged.bind(h);
    h.onRunsInserted = async (...a) => {
      const t = performance.now();
      await onRuns(...a);
      hookRunsMs += performance.now() - t;
    };
    h.onFeedbackChanged = async (...a) => {
      const t = performance.now();
      await onFeedback(...a);
      hookFeedbackMs += performance.now() - t;
    };
  }
  // Time every batch the writer commits (the store is the writer's, so wrapping it is enough).
  const batches: { ms: number; runs: number; feedback: number }[] = [];
  const writeBatch = store.writeBatch.bind(store);
  store.writeBatch = async (...args: Parameters<RunRepository['writeBatch']>) => {
    const t = performance.now();
    const batch = args[0];
    await writeBatch(...args);
    batches.push({ ms: performance.now() - t, runs: batch.runs.length, feedback: batch.feedback.length });
  };

  const ctx: SyntheticContext = {
    chainId: CHAIN,
    rolloutId: rollout.id,
    tenants: TENANTS,
    environment: ENVIRONMENT,
    startMs: Date.now(),
    stepMs: 1,
  };
  const runs: Run[] = [];
  let feedbackSent = 0;
  const started = performance.now();
  let produced = 0;
  while (produced < TOTAL && performance.now() - started < MAX_MS) {
    if (writer.backlog >= BACKLOG_CAP) {
      await sleep(1);
      continue;
    }
    for (let k = 0; k < 1000 && produced < TOTAL; k++, produced++) {
      const run = makeRun(produced, ctx);
      runs[produced] = run;
      // The bench does not wait for the spool: it measures the writer's throughput.
      void writer.recordRun(run);
      const j = produced - FEEDBACK_LAG;
      if (j >= 0) {
        const fb = makeFeedback(j, runs[j]!, new Date());
        if (fb) {
          writer.recordFeedback(fb);
          feedbackSent++;
        }
      }
    }
    await yieldLoop();
  }
  const queuedMs = performance.now() - started;
  await writer.flush();
  const elapsedS = (performance.now() - started) / 1000;

  const count = async (q: string) =>
    Number(((await gw.database.db.execute(sql.raw(q))) as unknown as { rows: { n: string }[] }).rows[0]!.n);
  const storedRuns = await count(`select count(*) as n from runs where rollout_id = '${rollout.id}'`);
  const total = produced;
  const storedFeedback = await count('select count(*) as n from feedback');
  const tables = (
    (await gw.database.db.execute(sql.raw(`select tablename from pg_tables where schemaname = 'public' order by 1`))) as unknown as {
      rows: { tablename: string }[];
    }
  ).rows.map((r) => r.tablename);

  if (MODE === 'bare') await writer.close();
  await gw.app.close();
  await gw.close();
  rmSync(dataDir, { recursive: true, force: true });

  const batchMs = batches.map((b) => b.ms).sort((a, b) => a - b);
  return {
    mode: MODE,
    readModelHooks: MODE !== 'bare' && hooks ? (hooks.constructor?.name ?? 'wired') : null,
    tables,
    runs: total,
    feedback: feedbackSent,
    boundedBy: total < TOTAL ? 'time' : 'count',
    seconds: elapsedS,
    queueSeconds: queuedMs / 1000,
    runsPerSecond: total / elapsedS,
    feedbackPerSecond: feedbackSent / elapsedS,
    rowsPerSecond: (total + feedbackSent) / elapsedS,
    batches: batches.length,
    batchSeconds: batches.reduce((a, b) => a + b.ms, 0) / 1000,
    hookRunsSeconds: hookRunsMs / 1000,
    hookFeedbackSeconds: hookFeedbackMs / 1000,
    batchRunsAvg: batches.reduce((s, b) => s + b.runs, 0) / Math.max(1, batches.length),
    batchMsP50: batchMs[Math.floor(batchMs.length / 2)] ?? NaN,
    batchMsMax: batchMs[batchMs.length - 1] ?? NaN,
    storedRuns,
    storedFeedback,
    complete: storedRuns === total && storedFeedback === feedbackSent,
  };
});

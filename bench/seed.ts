/**
 * Seeding generator: writes runs [SEED_FROM, SEED_TO) of a rollout, their feedback, and the
 * read-model rollups straight into PostgreSQL, as fast as it can:
 * - runs and feedback: COPY ... FROM STDIN per chunk (SEED_CHUNK rows, default 20,000; lib/pg-copy.ts),
 *   with synchronous_commit off;
 * - rollups: the read-model hooks the composition wires into RunStore (whatever they are at the
 *   time), called in the same transaction with the same chunk, so the aggregates are exactly the
 *   ones the gateway would have kept. Without hooks, only runs and feedback are written.
 * The next chunk is generated while the database writes the previous one.
 *
 * Standalone: DATABASE_URL=... SEED_ROLLOUT_ID=... SEED_TO=1000000 npx tsx bench/seed.ts
 * (bench/run.ts creates the rollout through the gateway and runs this as a child).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { getTableColumns, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { pino } from 'pino';
import { compose } from '../src/composition.js';
import { loadConfig } from '../src/config/config.js';
import type { FeedbackChange, FeedbackInsert, ReadModelHooks } from '../src/store/run-store.js';
import * as schema from '../src/store/schema.js';
import type { RunInsert } from '../src/store/schema.js';
import { copyRows } from './lib/pg-copy.js';
import { completeTask } from './lib/children.js';
import { ADMIN_TOKEN, CHAIN, ENVIRONMENT } from './lib/setup.js';
import { makeFeedback, makeRun, type SyntheticContext } from './lib/synthetic.js';

const env = process.env;
const FROM = Number(env.SEED_FROM ?? 0);
const TO = Number(env.SEED_TO ?? 100_000);
const CHUNK = Number(env.SEED_CHUNK ?? 20_000);
const ROLLOUT = env.SEED_ROLLOUT_ID;
const TENANTS = (env.SEED_TENANTS ?? Array.from({ length: 20 }, (_, i) => `t${String(i).padStart(2, '0')}`).join(',')).split(',');
const STEP_MS = Number(env.SEED_STEP_MS ?? 250);
const START_MS = Number(env.SEED_START_MS ?? Date.now() - TO * STEP_MS - 3_600_000);
/** Feedback arrives this long after its run (a human reviewing). */
const REVIEW_DELAY_MS = 20 * 60_000;

const RUN_COLUMNS = Object.entries(getTableColumns(schema.runs)).map(([key, c]) => ({ key: key as keyof RunInsert, name: c.name }));
const FEEDBACK_COLUMNS = Object.entries(getTableColumns(schema.feedback)).map(([key, c]) => ({
  key: key as keyof FeedbackInsert,
  name: c.name,
}));

interface Chunk {
  runs: RunInsert[];
  feedback: FeedbackInsert[];
}

function generate(from: number, to: number, ctx: SyntheticContext): Chunk {
  const runs: RunInsert[] = [];
  const feedback: FeedbackInsert[] = [];
  for (let i = from; i < to; i++) {
    const run = makeRun(i, ctx);
    runs.push(run);
    const fb = makeFeedback(i, run, new Date(run.createdAt.getTime() + REVIEW_DELAY_MS));
    if (fb) feedback.push(fb);
  }
  return { runs, feedback };
}

await completeTask(async () => {
  if (!env.DATABASE_URL || !ROLLOUT) throw new Error('DATABASE_URL and SEED_ROLLOUT_ID are required');
  const dataDir = mkdtempSync(join(tmpdir(), 'cc-bench-seed-'));
  // The composition, for the read-model hooks it wires into RunStore (and nothing else).
  const config = loadConfig({ ...env, DATA_DIR: dataDir, ADMIN_TOKEN, PORT: '0', LOG_LEVEL: 'warn' });
  const gw = await compose(config, { log: pino({ level: 'warn' }) });
  const hooks = (gw.services.runStore as unknown as { hooks?: ReadModelHooks }).hooks;
  // One connection of our own: COPY and the hooks' statements run in the same transaction on it.
  const client = new pg.Client({ connectionString: env.DATABASE_URL });
  await client.connect();
  const db = drizzle(client, { schema });

  const ctx: SyntheticContext = {
    chainId: CHAIN,
    rolloutId: ROLLOUT,
    tenants: TENANTS,
    environment: ENVIRONMENT,
    startMs: START_MS,
    stepMs: STEP_MS,
  };
  const started = performance.now();
  let hookMs = 0;
  let runsMs = 0;
  let feedbackMs = 0;
  let generateMs = 0;
  let feedbackRows = 0;
  let next: Chunk | undefined = FROM < TO ? generate(FROM, Math.min(TO, FROM + CHUNK), ctx) : undefined;
  let at = Math.min(TO, FROM + CHUNK);
  while (next) {
    const chunk = next;
    const write = db.transaction(async (tx) => {
      await tx.execute(sql`SET LOCAL synchronous_commit = off`);
      let t = performance.now();
      await copyRows(
        client,
        'runs',
        RUN_COLUMNS.map((c) => c.name),
        chunk.runs.map((r) => RUN_COLUMNS.map((c) => r[c.key])),
      );
      runsMs += performance.now() - t;
      t = performance.now();
      if (chunk.feedback.length)
        await copyRows(
          client,
          'feedback',
          FEEDBACK_COLUMNS.map((c) => c.name),
          chunk.feedback.map((f) => FEEDBACK_COLUMNS.map((c) => f[c.key])),
        );
      feedbackMs += performance.now() - t;
      if (hooks) {
        const t = performance.now();
        const byId = new Map(chunk.runs.map((r) => [r.id, r]));
        const changes: FeedbackChange[] = chunk.feedback.map((f) => {
          const r = byId.get(f.runId)!;
          return {
            run: {
              id: r.id,
              rolloutId: r.rolloutId!,
              stage: r.stage!,
              variant: r.variant,
              tenantId: r.tenantId,
              environment: r.environment,
              createdAt: r.createdAt,
              chainId: r.chainId,
              version: r.version,
              errored: r.error != null,
            },
            after: { overridden: f.overridden, fields: f.fields },
          };
        });
        await hooks.onBatchWritten(tx, chunk.runs, changes);
        hookMs += performance.now() - t;
      }
    });
    // Generate the next chunk while this one is written.
    const g = performance.now();
    next = at < TO ? generate(at, Math.min(TO, at + CHUNK), ctx) : undefined;
    generateMs += performance.now() - g;
    at = Math.min(TO, at + CHUNK);
    await write;
    feedbackRows += chunk.feedback.length;
    process.send?.({ type: 'progress', done: FROM + (at - FROM) - (next ? next.runs.length : 0), to: TO });
  }
  const seconds = (performance.now() - started) / 1000;
  const t = performance.now();
  await db.execute(sql.raw('VACUUM ANALYZE'));
  const vacuumSeconds = (performance.now() - t) / 1000;

  await client.end();
  await gw.app.close();
  await gw.close();
  rmSync(dataDir, { recursive: true, force: true });
  const n = TO - FROM;
  return {
    runs: n,
    feedback: feedbackRows,
    seconds,
    runsPerSecond: n / seconds,
    rollups: hooks ? (hooks.constructor?.name ?? 'hooks') : null,
    hookSeconds: hookMs / 1000,
    runsInsertSeconds: runsMs / 1000,
    feedbackInsertSeconds: feedbackMs / 1000,
    generateSeconds: generateMs / 1000,
    vacuumAnalyzeSeconds: vacuumSeconds,
  };
});

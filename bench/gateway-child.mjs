/**
 * Bench child: the real gateway as `npm start` runs it, compiled (dist/, built by the bench
 * before it starts) and without a TypeScript loader: dist/server.js startServer, the composition
 * root from the environment, on DATABASE_URL or, without it, embedded PGlite in DATA_DIR. Stops
 * on the bench's request, flushing queued runs first, and reports what was left unwritten (must
 * be 0) and the runs and feedback stored. On `stats` it reports the writer's backlog and the
 * event-loop delay since the last `stats` (perf_hooks histogram, 1 ms resolution; the histogram
 * is the only thing the bench adds to the process).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import { loadConfig } from '../dist/config/config.js';
import { startServer } from '../dist/server.js';
import { serveChild } from './lib/serve-child.mjs';

// BENCH_ALLOC_PROFILE=<file>: every allocation sampled, collected ones too (what the GC has to
// chase, not only what stays), written as a .heapprofile when the bench stops the gateway.
const allocProfile = process.env.BENCH_ALLOC_PROFILE ? await startAllocationProfile() : undefined;

// BENCH_STALL_LOG=<file>: every event-loop stall over 3 ms and every GC pause, in one timebase,
// written when the bench stops the gateway: which stalls a GC pause explains (bench/README.md).
const stallLog = process.env.BENCH_STALL_LOG ? startStallLog() : undefined;

const config = loadConfig(process.env);
const server = await startServer(config, { handleSignals: false });
const eld = monitorEventLoopDelay({ resolution: 1 });
eld.enable();
const ms = (ns) => Math.round(ns / 1e4) / 100;
serveChild(
  { url: server.url, storage: server.gateway.database.kind },
  async () => {
    // What reached the database, counted through the gateway's own handle (the only way into an
    // embedded PGlite) after its writer flushed: the bench checks it against what was answered.
    await server.gateway.services.writer.flush();
    const counted = await server.gateway.database.db.execute(
      sql`select (select count(*) from runs)::int as runs, (select count(*) from feedback)::int as feedback`,
    );
    const stored = (counted.rows ?? counted)[0];
    await server.close();
    if (allocProfile) writeFileSync(process.env.BENCH_ALLOC_PROFILE, JSON.stringify(await allocProfile()));
    if (stallLog) writeFileSync(process.env.BENCH_STALL_LOG, JSON.stringify(stallLog.dump()));
    return { backlog: server.gateway.services.writer.backlog, stored };
  },
  () => {
    stallLog?.mark();
    const out = {
      backlog: server.gateway.services.writer.backlog,
      eventLoopDelayMs: { p50: ms(eld.percentile(50)), p99: ms(eld.percentile(99)), max: ms(eld.max) },
      rssMB: Math.round(process.memoryUsage().rss / 1048576),
    };
    eld.reset();
    return out;
  },
);

async function startAllocationProfile() {
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.enable');
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 8192,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: process.env.BENCH_ALLOC_PROFILE_MINOR !== '0',
  });
  return async () => (await session.post('HeapProfiler.stopSampling')).profile;
}

function startStallLog() {
  const gc = [];
  const stalls = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gc.push({ start: e.startTime, ms: e.duration, kind: e.detail?.kind });
  });
  observer.observe({ entryTypes: ['gc'] });
  // The main thread's scheduler statistics (Linux: on-CPU and run-queue wait, ns): a stall the
  // thread spent waiting for a core is the machine's, one it spent running is the gateway's.
  const schedstat = readSchedstat() ? readSchedstat : () => undefined;
  let last = performance.now();
  let lastSched = schedstat();
  const timer = setInterval(() => {
    const now = performance.now();
    const sched = schedstat();
    if (now - last > 4) {
      const stall = { end: now, ms: now - last - 1 };
      if (sched && lastSched) {
        stall.runMs = (sched[0] - lastSched[0]) / 1e6;
        stall.waitMs = (sched[1] - lastSched[1]) / 1e6;
      }
      stalls.push(stall);
    }
    last = now;
    lastSched = sched;
  }, 1);
  timer.unref();
  const marks = [];
  return {
    /** When the bench asked for stats (between its phases), to tell the phases apart. */
    mark: () => marks.push(performance.now()),
    dump: () => {
      clearInterval(timer);
      observer.disconnect();
      return { gc, stalls, marks };
    },
  };
}

function readSchedstat() {
  try {
    return readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ').slice(0, 2).map(Number);
  } catch {
    return undefined;
  }
}

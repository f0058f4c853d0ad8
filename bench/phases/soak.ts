/**
 * Memory soak: the gateway on PostgreSQL, or on its embedded default (PGlite in a worker thread
 * of the gateway process, so its memory counts in the same RSS), at a steady paced rate for several minutes, with feedback
 * on a share of the answered runs sent right after the answer (through the pending-run path) and
 * the rest written later by the batch writer. RSS of the gateway process is read from /proc every
 * second (nothing runs inside the gateway for it); heap figures come over IPC every 10 s. Reports
 * start, max, end and the least-squares slope (after a warm-up minute and over the whole soak),
 * errors, and that every answered run and feedback reached the database.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { rssOf, startChild, type Child } from '../lib/children.js';
import { paced, poolFor } from '../lib/paced.js';
import { CHAIN, createDatabase, invokeBody, setupGateway, type BenchDatabase } from '../lib/setup.js';
import { slope } from '../lib/stats.js';
import { startGateway } from './overhead.js';

export interface SoakOptions {
  storage: 'postgres' | 'pglite';
  seconds: number;
  rate: number;
  feedbackShare: number;
  /** Variables the gateway gets on top of startGateway's (BENCH_SOAK_ENV, e.g. RECORDER_THREAD=false). */
  gatewayEnv?: Record<string, string>;
  log: (line: string) => void;
}

const MB = 1024 * 1024;

export async function runSoak(o: SoakOptions): Promise<Record<string, unknown>> {
  const children: Child[] = [];
  let db: BenchDatabase | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'cc-bench-soak-'));
  try {
    const upstream = await startChild('upstream-soak', 'upstream.ts', {});
    children.push(upstream);
    if (o.storage === 'postgres') db = await createDatabase('soak');
    const gateway = await startGateway(`gateway-soak-${o.storage}`, db?.url, dataDir, [], undefined, o.gatewayEnv);
    children.push(gateway);
    const fixture = await setupGateway(gateway.url, upstream.url);
    const headers = ['content-type', 'application/json', 'authorization', `Bearer ${fixture.tenantKey}`];
    const target = { name: 'gateway', origin: gateway.url, path: `/v1/chains/${CHAIN}/invoke`, headers };
    const pool = poolFor(gateway.url);

    const samples: { t: number; rssMB: number }[] = [];
    const heap: { t: number; heapUsedMB: number; externalMB: number }[] = [];
    const stats: { t: number; backlog: number; eventLoopDelayMs: { p50: number; p99: number; max: number } }[] = [];
    const t0 = performance.now();
    const sampleRss = () => samples.push({ t: (performance.now() - t0) / 1000, rssMB: rssOf(gateway.pid) / MB });
    sampleRss();
    const rssTimer = setInterval(sampleRss, 1000);
    const heapTimer = setInterval(() => {
      gateway
        .ask<{ heapUsed: number; external: number }>({ type: 'memory' }, 'memory', 5000)
        .then((m) => heap.push({ t: (performance.now() - t0) / 1000, heapUsedMB: m.heapUsed / MB, externalMB: m.external / MB }))
        .catch(() => {});
    }, 10_000);
    const statsTimer = setInterval(() => {
      gateway
        .ask<{ backlog: number; eventLoopDelayMs: { p50: number; p99: number; max: number } }>({ type: 'stats' }, 'stats', 5000)
        .then((m) =>
          stats.push({ t: Math.round((performance.now() - t0) / 1000), backlog: m.backlog, eventLoopDelayMs: m.eventLoopDelayMs }),
        )
        .catch(() => {});
    }, 5_000);

    let feedbackSent = 0;
    let feedbackOk = 0;
    const feedbackErrors: Record<string, number> = {};
    const inflight = new Set<Promise<void>>();
    const onReply = (i: number, text: string) => {
      // A deterministic share of runs gets feedback; half of those change a field.
      if ((i * 2654435761) % 1000 >= o.feedbackShare * 1000) return;
      let runId: string;
      try {
        runId = (JSON.parse(text) as { runId: string }).runId;
      } catch {
        return;
      }
      feedbackSent++;
      const body = i % 2 ? '{"overrides":[{"field":"total","value":1500}],"reviewer":"soak"}' : '{"overrides":[],"reviewer":"soak"}';
      const p = pool
        .request({ path: `/v1/runs/${runId}/feedback`, method: 'POST', headers, body })
        .then(async (res) => {
          await res.body.text();
          if (res.statusCode === 200) feedbackOk++;
          else feedbackErrors[`http_${res.statusCode}`] = (feedbackErrors[`http_${res.statusCode}`] ?? 0) + 1;
        })
        .catch((err: Error) => {
          feedbackErrors[err.name] = (feedbackErrors[err.name] ?? 0) + 1;
        })
        .finally(() => inflight.delete(p));
      inflight.add(p);
    };

    o.log(
      `  soak: ${o.seconds} s at ${o.rate} invokes/s, feedback on ${(o.feedbackShare * 100).toFixed(0)}% of runs; gateway pid ${gateway.pid}`,
    );
    const progress = setInterval(
      () => {
        const last = samples[samples.length - 1];
        const st = stats[stats.length - 1];
        if (last)
          o.log(
            `    t=${last.t.toFixed(0)} s RSS ${last.rssMB.toFixed(1)} MB; writer backlog ${st?.backlog ?? '?'}; event-loop delay p99 ${st?.eventLoopDelayMs.p99 ?? '?'} ms, max ${st?.eventLoopDelayMs.max ?? '?'} ms`,
          );
      },
      o.seconds >= 90 ? 30_000 : 10_000,
    );
    let counter = 0;
    const result = await paced(target, { rate: o.rate, durationMs: o.seconds * 1000, body: () => invokeBody(counter++), onReply });
    await Promise.all([...inflight]);
    clearInterval(progress);
    clearInterval(rssTimer);
    clearInterval(heapTimer);
    clearInterval(statsTimer);
    sampleRss();

    // The gateway counts what it stored (through its own database handle) before it closes.
    const stopped = (await gateway.stop()) as { backlog?: number; stored?: { runs: number; feedback: number } } | undefined;
    const stored = stopped?.stored ?? { runs: NaN, feedback: NaN };

    const rss = samples.map((s) => s.rssMB);
    const after = samples.filter((s) => s.t >= Math.min(60, o.seconds / 3));
    const { raw: _raw, ...load } = result;
    return {
      storage: o.storage,
      gatewayEnv: o.gatewayEnv ?? {},
      seconds: o.seconds,
      rate: o.rate,
      invokes: load,
      feedback: { sent: feedbackSent, ok: feedbackOk, errors: feedbackErrors },
      rssMB: {
        start: rss[0],
        max: Math.max(...rss),
        end: rss[rss.length - 1],
        slopeMBPerMinute:
          slope(
            samples.map((s) => s.t),
            rss,
          ) * 60,
        slopeAfterWarmupMBPerMinute:
          slope(
            after.map((s) => s.t),
            after.map((s) => s.rssMB),
          ) * 60,
        samples: samples.map((s) => [Math.round(s.t), Math.round(s.rssMB * 10) / 10]),
      },
      heap,
      gatewayStats: stats,
      recording: {
        answered: result.ok,
        storedRuns: stored.runs,
        feedbackOk,
        storedFeedback: stored.feedback,
        backlogAtExit: stopped?.backlog,
        complete: stored.runs === result.ok && stored.feedback === feedbackOk,
      },
    };
  } finally {
    for (const c of children.reverse()) await c.stop().catch(() => {});
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

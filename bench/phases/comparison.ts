/**
 * Comparison and timeseries latency as recorded runs grow (100k, 1M, 10M...): one database,
 * seeded tier by tier by bench/seed.ts (runs, feedback and the read-model rollups); at each tier
 * a freshly started gateway answers GET /v1/rollouts/:id/comparison and /timeseries (timed from
 * the bench over loopback, sequentially, after a warm-up), next to naive SQL on the same data: the
 * comparison's counts and latency percentiles, and the hourly series, computed by scanning
 * runs ⋈ feedback.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import { runTask, type Child } from '../lib/children.js';
import { ADMIN_TOKEN, createDatabase, setupGateway, withClient } from '../lib/setup.js';
import { startGateway } from './overhead.js';
import { median, summarize } from '../lib/stats.js';

export interface ComparisonOptions {
  sizes: number[];
  calls: number;
  naiveRepeats: number;
  log: (line: string) => void;
}

const TENANTS = Array.from({ length: 20 }, (_, i) => `t${String(i).padStart(2, '0')}`);
const STEP_MS = 250;

const NAIVE_COMPARISON = `
SELECT r.stage, r.variant, r.tenant_id, r.environment,
       count(*) AS runs,
       count(*) FILTER (WHERE r.error IS NOT NULL) AS errors,
       count(*) FILTER (WHERE r.fallback) AS fallbacks,
       count(f.run_id) FILTER (WHERE r.error IS NULL) AS reviewed,
       count(*) FILTER (WHERE f.overridden AND r.error IS NULL) AS overridden,
       percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY r.latency_ms) AS latency
FROM runs r LEFT JOIN feedback f ON f.run_id = r.id
WHERE r.rollout_id = $1
GROUP BY 1, 2, 3, 4`;
const NAIVE_SRM = `SELECT stage, variant, count(DISTINCT assignment_key) AS keys FROM runs WHERE rollout_id = $1 GROUP BY 1, 2`;
const NAIVE_SERIES = `
SELECT date_trunc('hour', r.created_at) AS t, r.variant,
       count(*) AS runs, count(f.run_id) AS reviewed, count(*) FILTER (WHERE f.overridden) AS overridden,
       count(*) FILTER (WHERE r.error IS NOT NULL) AS errors,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY r.latency_ms) AS p95
FROM runs r LEFT JOIN feedback f ON f.run_id = r.id
WHERE r.rollout_id = $1
GROUP BY 1, 2 ORDER BY 1, 2`;

async function timeGet(url: string, calls: number): Promise<Record<string, unknown>> {
  const once = async () => {
    const t = performance.now();
    const res = await request(url, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const text = await res.body.text();
    return { ms: performance.now() - t, status: res.statusCode, bytes: text.length, text };
  };
  const first = await once();
  if (first.status !== 200) return { available: false, status: first.status, body: first.text.slice(0, 300) };
  await once();
  const times: number[] = [];
  for (let i = 0; i < calls; i++) times.push((await once()).ms);
  const s = summarize(times);
  let summary: unknown;
  try {
    const j = JSON.parse(first.text) as {
      verdict?: string;
      arms?: Record<string, { runs?: number; reviewed?: number }>;
      points?: unknown[];
    };
    summary = j.points
      ? { points: j.points.length }
      : { verdict: j.verdict, controlRuns: j.arms?.control?.runs, candidateRuns: j.arms?.candidate?.runs };
  } catch {
    summary = undefined;
  }
  return { available: true, firstMs: first.ms, p50Ms: s.p50, p90Ms: s.p90, maxMs: s.max, calls, bytes: first.bytes, answer: summary };
}

export async function runComparison(o: ComparisonOptions): Promise<Record<string, unknown>> {
  const db = await createDatabase('cmp');
  const dataDir = mkdtempSync(join(tmpdir(), 'cc-bench-cmp-'));
  const tiers: Record<string, unknown>[] = [];
  let gateway: Child | undefined;
  try {
    gateway = await startGateway('gateway-cmp-setup', db.url, dataDir);
    const fixture = await setupGateway(gateway.url, 'http://127.0.0.1:9/invoke', { tenants: TENANTS });
    await gateway.stop();
    const maxSize = Math.max(...o.sizes);
    const startMs = Date.now() - maxSize * STEP_MS - 3_600_000;
    // The rollout "started" before its first seeded run.
    await withClient(db.url, async (c) => {
      await c.query('UPDATE rollouts SET created_at = $1, stage_started_at = $1, updated_at = $1 WHERE id = $2', [
        new Date(startMs - 60_000),
        fixture.rolloutId,
      ]);
      await c.query('UPDATE rollout_events SET at = $1 WHERE rollout_id = $2', [new Date(startMs - 60_000), fixture.rolloutId]);
    });

    let seeded = 0;
    for (const size of [...o.sizes].sort((a, b) => a - b)) {
      o.log(`  seeding runs ${seeded.toLocaleString('en')} .. ${size.toLocaleString('en')}`);
      let lastLog = performance.now();
      const seed = await runTask<Record<string, unknown>>(`seed-${size}`, 'seed.ts', {
        env: {
          DATABASE_URL: db.url,
          SEED_ROLLOUT_ID: fixture.rolloutId,
          SEED_FROM: String(seeded),
          SEED_TO: String(size),
          SEED_TENANTS: TENANTS.join(','),
          SEED_STEP_MS: String(STEP_MS),
          SEED_START_MS: String(startMs),
        },
        timeoutMs: 60 * 60_000,
        onProgress: (m) => {
          if (performance.now() - lastLog > 15_000) {
            lastLog = performance.now();
            o.log(`    ${Number(m.done).toLocaleString('en')} / ${Number(m.to).toLocaleString('en')}`);
          }
        },
      });
      delete seed.type;
      seeded = size;
      o.log(
        `    ${Number(seed.runsPerSecond).toFixed(0)} runs/s (rollups: ${seed.rollups ?? 'none'}, ${Number(seed.hookSeconds).toFixed(1)} s in hooks), VACUUM ANALYZE ${Number(seed.vacuumAnalyzeSeconds).toFixed(1)} s`,
      );

      gateway = await startGateway(`gateway-cmp-${size}`, db.url, dataDir);
      const base = `${gateway.url}/v1/rollouts/${fixture.rolloutId}`;
      const lastWeekFrom = new Date(startMs + size * STEP_MS - 7 * 86_400_000).toISOString();
      const comparison = await timeGet(`${base}/comparison`, o.calls);
      const comparisonWindow = await timeGet(
        `${base}/comparison?from=${encodeURIComponent(lastWeekFrom)}&to=${encodeURIComponent(new Date().toISOString())}`,
        o.calls,
      );
      const timeseriesHour = await timeGet(`${base}/timeseries?bucket=hour`, o.calls);
      const timeseriesDay = await timeGet(`${base}/timeseries?bucket=day`, o.calls);
      await gateway.stop();

      const naive = await withClient(db.url, async (c) => {
        await c.query("SET statement_timeout = '600s'");
        const timeQuery = async (q: string) => {
          const times: number[] = [];
          for (let i = 0; i < o.naiveRepeats + 1; i++) {
            const t = performance.now();
            await c.query(q, [fixture.rolloutId]);
            if (i > 0 || o.naiveRepeats === 0) times.push(performance.now() - t);
          }
          return median(times);
        };
        const comparisonMs = (await timeQuery(NAIVE_COMPARISON)) + (await timeQuery(NAIVE_SRM));
        const seriesMs = await timeQuery(NAIVE_SERIES);
        const sizes = (
          await c.query<{ rel: string; mb: string }>(
            `SELECT c.relname AS rel, round(pg_total_relation_size(c.oid) / 1048576.0, 1) AS mb FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY pg_total_relation_size(c.oid) DESC LIMIT 10`,
          )
        ).rows;
        const counts = (
          await c.query<{ runs: string; feedback: string }>(
            'SELECT (SELECT count(*) FROM runs) AS runs, (SELECT count(*) FROM feedback) AS feedback',
          )
        ).rows[0]!;
        return {
          comparisonMs,
          seriesMs,
          tableMB: Object.fromEntries(sizes.map((r) => [r.rel, Number(r.mb)])),
          runs: Number(counts.runs),
          feedback: Number(counts.feedback),
        };
      });
      const tier = { runs: size, seed, comparison, comparisonLastWeek: comparisonWindow, timeseriesHour, timeseriesDay, naive };
      tiers.push(tier);
      const f = (x: Record<string, unknown>) => (x.available ? `${Number(x.p50Ms).toFixed(1)} ms` : `n/a (HTTP ${x.status})`);
      o.log(
        `  ${size.toLocaleString('en')} runs: comparison ${f(comparison)} (last week ${f(comparisonWindow)}), timeseries hour ${f(timeseriesHour)} / day ${f(timeseriesDay)}; naive SQL comparison ${naive.comparisonMs.toFixed(0)} ms, series ${naive.seriesMs.toFixed(0)} ms`,
      );
    }
    return { rolloutId: fixture.rolloutId, tenants: TENANTS.length, runIntervalMs: STEP_MS, tiers };
  } finally {
    await gateway?.stop().catch(() => {});
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

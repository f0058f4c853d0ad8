/**
 * Gateway overhead, one scenario (storage × upstream delay): the upstream called directly, through
 * the bare proxy, through the floor proxy (floor-proxy.ts: the least a gateway in this stack does
 * per call; it stores every run in the gateway's PostgreSQL database, or in an embedded one of its
 * own) and through the gateway, interleaved round by round (the order rotates), each target
 * measured the same way:
 * - latency at a fixed, evenly paced rate, from the scheduled send time (lib/paced.ts); the added
 *   p50/p99 of a round are its target's percentile minus the direct one's in the same round, and
 *   the reported figure is the median over rounds;
 * - saturation with autocannon (32 connections): requests/s answered 2xx; the gateway's share of
 *   the bare proxy's is the median over rounds of the per-round ratio (the floor's likewise).
 * Every run the gateway answers is recorded; at the end the stored runs are counted against the
 * answers (PostgreSQL), and the floor's against its own.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { cpuMsOf, startChild, type Child } from '../lib/children.js';
import { paced, type PacedResult, type Target } from '../lib/paced.js';
import { ADMIN_TOKEN, CHAIN, createDatabase, invokeBody, setupGateway, withClient, type BenchDatabase } from '../lib/setup.js';
import { START_ENV, START_FLAGS } from '../lib/start-command.js';
import { median, summarize } from '../lib/stats.js';

export interface OverheadOptions {
  label: string;
  storage: 'postgres' | 'pglite';
  upstreamDelayMs: number;
  /** The gateway's node flags instead of gatewayNodeFlags() (the V8 defaults: []). */
  nodeFlags?: string[];
  /** Variables the gateway gets on top of gatewayEnv()'s (a setting the scenario measures). */
  gatewayEnv?: Record<string, string>;
  /** Mirror every call to the candidate in the shadow. */
  shadow?: boolean;
  rate: number;
  rounds: number;
  roundMs: number;
  saturationRounds: number;
  saturationSeconds: number;
  connections: number;
  log: (line: string) => void;
}

type TargetName = 'direct' | 'bare' | 'floor' | 'gateway';
const NAMES: TargetName[] = ['direct', 'bare', 'floor', 'gateway'];
const CANNON_REQUESTS = Array.from({ length: 256 }, (_, i) => ({ body: invokeBody(1_000_000 + i * 7919) }));

export interface LatencyRound {
  round: number;
  order: TargetName[];
  results: Record<TargetName, Omit<PacedResult, 'raw'>>;
  /** CPU of the serving process per answered call, µs (10 ms tick resolution over the round). */
  cpuMicrosPerCall: Partial<Record<TargetName, number>>;
  /** The gateway's writer backlog and event-loop delay over its run of the round. */
  gatewayStats: Record<string, unknown>;
}

export interface SaturationRound {
  round: number;
  results: Record<
    TargetName,
    {
      rps: number;
      p50Ms: number;
      p99Ms: number;
      non2xx: number;
      errors: number;
      cpuMicrosPerCall: number;
      mainThreadCpuMicrosPerCall: number;
      mainThreadBusy: number;
    }
  >;
  gatewayShareOfBare: number;
  floorShareOfBare: number;
}

/** The gateway's node flags: those of `npm start`, or BENCH_GATEWAY_NODE_ARGS when set (other GC settings to try). */
export const gatewayNodeFlags = (): string[] =>
  process.env.BENCH_GATEWAY_NODE_ARGS !== undefined ? process.env.BENCH_GATEWAY_NODE_ARGS.split(' ').filter(Boolean) : START_FLAGS;

/**
 * The gateway child: the compiled gateway with gatewayNodeFlags() (then any the phase adds) and
 * gatewayEnv(), on PostgreSQL at `databaseUrl` or, without one, PGlite in `dataDir`.
 */
export function startGateway(
  name: string,
  databaseUrl: string | undefined,
  dataDir: string,
  nodeArgs: string[] = [],
  flags = gatewayNodeFlags(),
  env: Record<string, string> = {},
): Promise<Child> {
  return startChild(name, 'gateway-child.mjs', {
    env: { ...gatewayEnv(databaseUrl, dataDir), ...env },
    timeoutMs: 120_000,
    nodeArgs: [...flags, ...nodeArgs],
  });
}

/** Gateway env: `npm start`'s variables, the composition as it builds it, quiet logs, rate limit set out of reach. */
function gatewayEnv(databaseUrl: string | undefined, dataDir: string): Record<string, string | undefined> {
  return {
    ...START_ENV,
    DATABASE_URL: databaseUrl ?? '',
    DATA_DIR: dataDir,
    ADMIN_TOKEN,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    // The limiter still runs on every call; its limit (default 60,000/min per key) is set beyond
    // what a benchmark sends, so that saturation measures the gateway, not the limit.
    RATE_LIMIT_PER_MINUTE: '10000000',
    // Likewise the per-key limit of requests in flight (default 64): paced rounds keep up to 128 open.
    MAX_CONCURRENT_PER_KEY: '100000',
  };
}

const pct = (share: number): string => `${(share * 100).toFixed(0)}%`;

export function rotate<T>(xs: T[], by: number): T[] {
  const k = by % xs.length;
  return [...xs.slice(k), ...xs.slice(0, k)];
}

const pick = (r: PacedResult): Omit<PacedResult, 'raw'> => {
  const { raw: _raw, ...rest } = r;
  return rest;
};

export async function runOverhead(o: OverheadOptions): Promise<Record<string, unknown>> {
  const children: Child[] = [];
  let db: BenchDatabase | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), `cc-bench-${o.label}-`));
  try {
    const upstream = await startChild(`upstream-${o.label}`, 'upstream.ts', { env: { UPSTREAM_DELAY_MS: String(o.upstreamDelayMs) } });
    children.push(upstream);
    const bare = await startChild(`bare-proxy-${o.label}`, 'bare-proxy.ts', { env: { UPSTREAM_URL: upstream.url } });
    children.push(bare);
    if (o.storage === 'postgres') db = await createDatabase(o.label.replace(/[^a-z0-9]/g, ''));
    const gateway = await startGateway(`gateway-${o.label}`, db?.url, dataDir, [], o.nodeFlags, o.gatewayEnv);
    children.push(gateway);
    const fixture = await setupGateway(gateway.url, upstream.url, { shadow: o.shadow });
    o.log(`  ${o.label}: gateway pid ${gateway.pid} (${gateway.ready.storage}), rollout ${fixture.rolloutId}`);
    // The floor stores its runs as the gateway does: in the gateway's PostgreSQL database, or in
    // an embedded database of its own.
    const floor = await startChild(`floor-proxy-${o.label}`, 'floor-proxy.ts', {
      env: {
        UPSTREAM_URL: upstream.url,
        FLOOR_TOKEN: fixture.tenantKey,
        FLOOR_DATABASE_URL: db?.url,
        FLOOR_DATA_DIR: join(dataDir, 'floor'),
      },
      timeoutMs: 120_000,
    });
    children.push(floor);

    const headers = ['content-type', 'application/json', 'authorization', `Bearer ${fixture.tenantKey}`];
    const path = `/v1/chains/${CHAIN}/invoke`;
    const targets: Record<TargetName, Target> = {
      direct: { name: 'direct', origin: new URL(upstream.url).origin, path: new URL(upstream.url).pathname, headers },
      bare: { name: 'bare', origin: bare.url, path, headers },
      floor: { name: 'floor', origin: floor.url, path, headers },
      gateway: { name: 'gateway', origin: gateway.url, path, headers },
    };
    // The process that serves each target: CPU used per answered call is a figure that holds on a
    // busy machine (it does not depend on how much of a core the process got).
    const servingPid: Record<TargetName, number> = { direct: upstream.pid, bare: bare.pid, floor: floor.pid, gateway: gateway.pid };
    let counter = 0;
    const body = () => invokeBody(counter++);
    let gatewayAnswers = 0;

    // PostgreSQL backends serving the gateway's database: their CPU per recorded run, at saturation.
    const backendPids = async () =>
      db
        ? await withClient(db.url, async (c) =>
            (
              await c.query<{ pid: number }>(
                'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
              )
            ).rows.map((r) => r.pid),
          )
        : [];
    const backendsCpu = (pids: number[]) => pids.reduce((s, pid) => s + (cpuMsOf(pid) || 0), 0);
    const pgCpu: number[] = [];
    const floorPgCpu: number[] = [];

    const cannon = async (t: TargetName, seconds: number, connections = o.connections) => {
      const pids = t === 'gateway' || t === 'floor' ? await backendPids() : [];
      const pg0 = backendsCpu(pids);
      const cpu0 = cpuMsOf(servingPid[t]);
      const main0 = cpuMsOf(servingPid[t], true);
      const r = await autocannon({
        url: targets[t].origin + targets[t].path,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${fixture.tenantKey}` },
        // Pre-built bodies with distinct units, cycled per connection (autocannon 8's idReplacement
        // sends nothing, and setupRequest halves its own throughput).
        requests: CANNON_REQUESTS,
        connections,
        duration: seconds,
        timeout: 10,
      });
      const cpu = cpuMsOf(servingPid[t]) - cpu0;
      const mainCpu = cpuMsOf(servingPid[t], true) - main0;
      if (t === 'gateway') gatewayAnswers += r['2xx'];
      if (t === 'gateway' || t === 'floor') {
        // The writers flush every 50 ms: let them finish this run's batches before reading.
        await sleep(300);
        if (pids.length) (t === 'gateway' ? pgCpu : floorPgCpu).push(((backendsCpu(pids) - pg0) * 1000) / Math.max(1, r['2xx']));
      }
      return {
        rps: r['2xx'] / r.duration,
        p50Ms: r.latency.p50,
        p99Ms: r.latency.p99,
        non2xx: r.non2xx,
        errors: r.errors + r.timeouts,
        cpuMicrosPerCall: (cpu * 1000) / Math.max(1, r['2xx']),
        // The main thread's share (the one that answers; worker threads excluded).
        mainThreadCpuMicrosPerCall: (mainCpu * 1000) / Math.max(1, r['2xx']),
        // How much of the run that thread was on a core: near 1, its CPU per call sets the
        // saturation, whatever the other threads and processes on the machine spend.
        mainThreadBusy: mainCpu / (r.duration * 1000),
      };
    };

    // Warm-up: JIT, connection pools, the database's caches. Not measured.
    for (const t of NAMES) {
      await cannon(t, 2, 8);
      const w = await paced(targets[t], { rate: o.rate, durationMs: 1500, body });
      if (t === 'gateway') gatewayAnswers += w.ok;
    }

    o.log(`  ${o.label}: latency, ${o.rounds} rounds x ${NAMES.length} targets x ${o.roundMs / 1000} s at ${o.rate}/s`);
    const latencyRounds: LatencyRound[] = [];
    const gatewayDurs: number[] = [];
    const pooled: Record<TargetName, number[]> = { direct: [], bare: [], floor: [], gateway: [] };
    for (let r = 0; r < o.rounds; r++) {
      const order = rotate(NAMES, r);
      const results = {} as Record<TargetName, Omit<PacedResult, 'raw'>>;
      const cpu: Partial<Record<TargetName, number>> = {};
      const stats: Record<string, unknown> = {};
      for (const t of order) {
        await sleep(300);
        if (t === 'gateway') await gateway.ask({ type: 'stats' }, 'stats').catch(() => {});
        const cpu0 = cpuMsOf(servingPid[t]);
        const res = await paced(targets[t], { rate: o.rate, durationMs: o.roundMs, body });
        cpu[t] = ((cpuMsOf(servingPid[t]) - cpu0) * 1000) / Math.max(1, res.ok);
        if (t === 'gateway') Object.assign(stats, await gateway.ask<Record<string, unknown>>({ type: 'stats' }, 'stats').catch(() => ({})));
        if (t === 'gateway') {
          gatewayAnswers += res.ok;
          gatewayDurs.push(...res.raw.gatewayMs);
        }
        for (const v of res.raw.latencyMs) pooled[t].push(v);
        results[t] = pick(res);
      }
      latencyRounds.push({ round: r, order, results, cpuMicrosPerCall: cpu, gatewayStats: stats });
      const d = results.direct.latencyMs;
      const g = results.gateway.latencyMs;
      o.log(
        `    round ${r + 1}: p50 direct ${d.p50.toFixed(3)} bare ${results.bare.latencyMs.p50.toFixed(3)} floor ${results.floor.latencyMs.p50.toFixed(3)} gateway ${g.p50.toFixed(3)} ms; p99 direct ${d.p99.toFixed(3)} bare ${results.bare.latencyMs.p99.toFixed(3)} floor ${results.floor.latencyMs.p99.toFixed(3)} gateway ${g.p99.toFixed(3)} ms; errors ${results.gateway.errors}; CPU/call bare ${cpu.bare?.toFixed(0)} floor ${cpu.floor?.toFixed(0)} gateway ${cpu.gateway?.toFixed(0)} µs; ${JSON.stringify(stats)}`,
      );
    }

    const added = (t: TargetName, q: 'p50' | 'p99') =>
      median(latencyRounds.map((x) => x.results[t].latencyMs[q] - x.results.direct.latencyMs[q]));
    const perTarget = Object.fromEntries(
      NAMES.map((t) => [
        t,
        {
          p50MedianMs: median(latencyRounds.map((x) => x.results[t].latencyMs.p50)),
          p99MedianMs: median(latencyRounds.map((x) => x.results[t].latencyMs.p99)),
          pooledMs: summarize(pooled[t]),
          sendLagP50Ms: median(latencyRounds.map((x) => x.results[t].sendLagMs.p50)),
          sendLagP99Ms: median(latencyRounds.map((x) => x.results[t].sendLagMs.p99)),
          errors: latencyRounds.reduce((s, x) => s + x.results[t].errors, 0),
          cpuMicrosPerCall: median(latencyRounds.map((x) => x.cpuMicrosPerCall[t] ?? NaN)),
        },
      ]),
    );

    o.log(
      `  ${o.label}: saturation, ${o.saturationRounds} rounds x ${NAMES.length} targets x ${o.saturationSeconds} s, ${o.connections} connections`,
    );
    const saturationRounds: SaturationRound[] = [];
    for (let r = 0; r < o.saturationRounds; r++) {
      const results = {} as SaturationRound['results'];
      for (const t of rotate(NAMES, r)) {
        await sleep(500);
        results[t] = await cannon(t, o.saturationSeconds);
      }
      const share = results.gateway.rps / results.bare.rps;
      saturationRounds.push({ round: r, results, gatewayShareOfBare: share, floorShareOfBare: results.floor.rps / results.bare.rps });
      o.log(
        `    round ${r + 1}: direct ${results.direct.rps.toFixed(0)}/s, bare ${results.bare.rps.toFixed(0)}/s, floor ${results.floor.rps.toFixed(0)}/s (CPU/call ${results.floor.cpuMicrosPerCall.toFixed(0)} µs), gateway ${results.gateway.rps.toFixed(0)}/s (${(share * 100).toFixed(1)}% of bare; non-2xx ${results.gateway.non2xx}, errors ${results.gateway.errors}); CPU/call: bare ${results.bare.cpuMicrosPerCall.toFixed(0)} µs, gateway ${results.gateway.cpuMicrosPerCall.toFixed(0)} µs (main thread ${results.gateway.mainThreadCpuMicrosPerCall.toFixed(0)} µs); main thread busy: bare ${pct(results.bare.mainThreadBusy)}, floor ${pct(results.floor.mainThreadBusy)}, gateway ${pct(results.gateway.mainThreadBusy)}`,
      );
    }
    const medianRps = (t: TargetName) => median(saturationRounds.map((x) => x.results[t].rps));

    // Stop the gateway (it flushes its queue) and count what reached the database.
    const stopped = await gateway.stop();
    const floorStopped = (await floor.stop()) as { served?: number; stored?: number } | undefined;
    const stalls = process.env.BENCH_STALL_LOG ? summarizeStalls(process.env.BENCH_STALL_LOG) : undefined;
    let storedRuns: number | undefined;
    if (db)
      storedRuns = await withClient(db.url, async (c) =>
        Number((await c.query<{ n: string }>(`select count(*) as n from runs where chain_id <> 'floor'`)).rows[0]!.n),
      );

    return {
      storage: o.storage,
      upstreamDelayMs: o.upstreamDelayMs,
      latency: {
        rate: o.rate,
        roundSeconds: o.roundMs / 1000,
        rounds: o.rounds,
        addedMs: {
          gateway: { p50: added('gateway', 'p50'), p99: added('gateway', 'p99') },
          bare: { p50: added('bare', 'p50'), p99: added('bare', 'p99') },
          floor: { p50: added('floor', 'p50'), p99: added('floor', 'p99') },
        },
        perTarget,
        gatewayEventLoopDelayP99Ms: median(
          latencyRounds.map((x) => Number((x.gatewayStats.eventLoopDelayMs as { p99?: number } | undefined)?.p99 ?? NaN)),
        ),
        gatewayEventLoopDelayMaxMs: median(
          latencyRounds.map((x) => Number((x.gatewayStats.eventLoopDelayMs as { max?: number } | undefined)?.max ?? NaN)),
        ),
        roundsDetail: latencyRounds,
      },
      serverTimingGatewayMs: summarize(gatewayDurs),
      saturation: {
        connections: o.connections,
        seconds: o.saturationSeconds,
        rounds: o.saturationRounds,
        rps: { direct: medianRps('direct'), bare: medianRps('bare'), floor: medianRps('floor'), gateway: medianRps('gateway') },
        gatewayShareOfBare: median(saturationRounds.map((x) => x.gatewayShareOfBare)),
        floorShareOfBare: median(saturationRounds.map((x) => x.floorShareOfBare)),
        cpuMicrosPerCall: Object.fromEntries(NAMES.map((t) => [t, median(saturationRounds.map((x) => x.results[t].cpuMicrosPerCall))])),
        gatewayCpuOverBare: median(saturationRounds.map((x) => x.results.gateway.cpuMicrosPerCall / x.results.bare.cpuMicrosPerCall)),
        mainThreadCpuMicrosPerCall: Object.fromEntries(
          NAMES.map((t) => [t, median(saturationRounds.map((x) => x.results[t].mainThreadCpuMicrosPerCall))]),
        ),
        mainThreadBusy: Object.fromEntries(NAMES.map((t) => [t, median(saturationRounds.map((x) => x.results[t].mainThreadBusy))])),
        gatewayMainThreadCpuOverBare: median(
          saturationRounds.map((x) => x.results.gateway.mainThreadCpuMicrosPerCall / x.results.bare.cpuMicrosPerCall),
        ),
        // Warm-up runs included; backends (re)connected during a run are missed, so this is a floor.
        postgresCpuMicrosPerRun: pgCpu.length ? median(pgCpu) : undefined,
        floorPostgresCpuMicrosPerRun: floorPgCpu.length ? median(floorPgCpu) : undefined,
        roundsDetail: saturationRounds,
      },
      recording: {
        gatewayAnswers,
        storedRuns,
        backlogAtExit: stopped?.backlog,
        // autocannon stops counting at its deadline while a few calls are still answered and recorded: stored >= answered.
        complete: storedRuns === undefined ? undefined : storedRuns >= gatewayAnswers,
        // The floor's runs (chain `floor`): answered, and stored by its own count (PostgreSQL or embedded).
        floor: { answered: floorStopped?.served, stored: floorStopped?.stored },
      },
      ...(stalls ? { stalls } : {}),
    };
  } finally {
    for (const c of children.reverse()) await c.stop().catch(() => {});
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

interface StallLog {
  gc: { start: number; ms: number; kind: number }[];
  stalls: { end: number; ms: number; runMs?: number; waitMs?: number }[];
  marks: number[];
}

/** perf_hooks' gc entry kinds (NODE_PERFORMANCE_GC_*). */
const GC_KIND: Record<number, string> = { 1: 'minor', 4: 'major', 8: 'incremental', 16: 'weakcb' };

/**
 * The gateway's BENCH_STALL_LOG (gateway-child.mjs), over its paced rounds only (between the marks
 * the bench's stats requests leave before and after each): event-loop stalls over 4 ms per
 * second, how many of them a GC pause overlaps, how many the main thread spent mostly waiting
 * for a core (its run-queue wait in /proc schedstat), and the GC pauses per kind.
 */
function summarizeStalls(file: string): Record<string, unknown> {
  const log = JSON.parse(readFileSync(file, 'utf8')) as StallLog;
  const windows: [number, number][] = [];
  for (let i = 0; i + 1 < log.marks.length; i += 2) windows.push([log.marks[i]!, log.marks[i + 1]!]);
  const within = (t: number) => windows.some(([a, b]) => t >= a && t <= b);
  const seconds = windows.reduce((s, [a, b]) => s + (b - a), 0) / 1000;
  const gc = log.gc.filter((g) => within(g.start));
  const stalls = log.stalls.filter((s) => within(s.end));
  const byGc = stalls.filter((s) => gc.some((g) => g.start < s.end && g.start + g.ms > s.end - s.ms - 1));
  // Waiting for a core (the main thread runnable, not running) for at least half the stall.
  const waiting = stalls.filter((s) => s.waitMs !== undefined && s.waitMs >= s.ms / 2);
  const round = (x: number) => Math.round(x * 100) / 100;
  const pauses = Object.fromEntries(
    Object.entries(GC_KIND).map(([kind, name]) => {
      const ms = gc.filter((g) => g.kind === Number(kind)).map((g) => g.ms);
      return [
        name,
        { perSecond: round(ms.length / seconds), ...summarize(ms), msPerSecond: round(ms.reduce((a, b) => a + b, 0) / seconds) },
      ];
    }),
  );
  return {
    pacedSeconds: round(seconds),
    over4msPerSecond: round(stalls.length / seconds),
    overlappingGc: byGc.length,
    waitingForCore: stalls.some((s) => s.waitMs !== undefined) ? waiting.length : undefined,
    waitingForCoreNotGc: waiting.filter((s) => !byGc.includes(s)).length,
    /** The main thread's run-queue wait over the paced rounds' stalls, ms (Linux schedstat). */
    stallWaitMs: round(stalls.reduce((a, s) => a + (s.waitMs ?? 0), 0)),
    stallRunMs: round(stalls.reduce((a, s) => a + (s.runMs ?? 0), 0)),
    count: stalls.length,
    stallMs: summarize(stalls.map((s) => s.ms)),
    gcPauses: pauses,
  };
}

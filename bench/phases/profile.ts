/**
 * Profile: the gateway child on PostgreSQL under `node --cpu-prof`, driven first at the paced
 * rate and then at saturation (autocannon), stopped cleanly so V8 writes the profile; self time is
 * summed per function and per area (lib/cpuprofile.ts). CPU per answered call = busy time / calls.
 * With `gcTrace` the gateway also runs with `--trace-gc-nvp`, and the collections of the load
 * (those its log stamps after the start mark) are summed per call (lib/gc-trace.ts).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { BENCH_DIR, LOG_DIR, startChild, type Child } from '../lib/children.js';
import { analyzeProfile } from '../lib/cpuprofile.js';
import { summarizeGcTrace } from '../lib/gc-trace.js';
import { paced } from '../lib/paced.js';
import { CHAIN, createDatabase, invokeBody, setupGateway, type BenchDatabase } from '../lib/setup.js';
import { gatewayNodeFlags, startGateway } from './overhead.js';

export interface ProfileOptions {
  pacedSeconds: number;
  rate: number;
  saturationSeconds: number;
  connections: number;
  /** BENCH_GC_TRACE=1: the gateway's collections per call from V8's trace (lib/gc-trace.ts). */
  gcTrace?: boolean;
  /** Variables the gateway gets on top of startGateway's (BENCH_PROFILE_ENV, e.g. RECORDER_THREAD=true). */
  gatewayEnv?: Record<string, string>;
  log: (line: string) => void;
}

/** The areas of one profile as µs of CPU per answered call. */
function perCall(analysis: ReturnType<typeof analyzeProfile>, calls: number) {
  return {
    calls,
    cpuMicrosPerCall: (analysis.busyMs * 1000) / calls,
    attributedMicrosPerCall: Object.fromEntries(analysis.attributed.map((a) => [a.area, (a.ms * 1000) / calls])),
  };
}

/** The main thread's profile in `dir`: the largest file (the loader worker's only covers start-up). */
function mainProfile(dir: string): string {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) throw new Error(`no CPU profile written in ${dir}`);
  return join(dir, files.sort((a, b) => statSync(join(dir, b)).size - statSync(join(dir, a)).size)[0]!);
}

/** The same load on one target: paced, then saturated. */
async function drive(o: ProfileOptions, url: string, headers: string[]) {
  let counter = 0;
  const p = await paced(
    { name: 'profiled', origin: url, path: `/v1/chains/${CHAIN}/invoke`, headers },
    { rate: o.rate, durationMs: o.pacedSeconds * 1000, body: () => invokeBody(counter++) },
  );
  const sat =
    o.saturationSeconds <= 0
      ? { '2xx': 0, duration: 1 }
      : await autocannon({
          url: `${url}/v1/chains/${CHAIN}/invoke`,
          method: 'POST',
          headers: Object.fromEntries(Array.from({ length: headers.length / 2 }, (_, i) => [headers[2 * i]!, headers[2 * i + 1]!])),
          requests: Array.from({ length: 256 }, (_, i) => ({ body: invokeBody(2_000_000 + i * 7919) })),
          connections: o.connections,
          duration: o.saturationSeconds,
          timeout: 10,
        });
  return { paced: p.ok, saturated: sat['2xx'], saturationRps: sat['2xx'] / sat.duration };
}

/** A bench child (`<name>.ts`) profiled under the same load as the gateway, in a directory of its own. */
async function profileChild(o: ProfileOptions, name: string, dir: string, env: Record<string, string>, headers: string[]) {
  mkdirSync(dir, { recursive: true });
  const child = await startChild(`${name}-profile`, `${name}.ts`, { env, nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir] });
  try {
    const mark = await child.ask<{ us: number }>({ type: 'mark' }, 'mark');
    const load = await drive(o, child.url, headers);
    await child.stop();
    const analysis = analyzeProfile(mainProfile(dir), 25, mark.us);
    return { saturationRps: load.saturationRps, ...perCall(analysis, load.paced + load.saturated) };
  } finally {
    await child.stop();
  }
}

/**
 * The gateway's profile, and the bare proxy's and the floor proxy's (floor-proxy.ts) under the same load (`bare`): the areas side by
 * side per answered call say what the gateway adds to what any Node proxy spends.
 */
export async function runProfile(o: ProfileOptions): Promise<Record<string, unknown>> {
  const children: Child[] = [];
  let db: BenchDatabase | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'cc-bench-prof-'));
  const profRoot = join(BENCH_DIR, '.profiles');
  const name = `gateway-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  // A directory per run and process: V8 writes one profile per thread (and per worker thread).
  const profDir = join(profRoot, name);
  mkdirSync(profDir, { recursive: true });
  try {
    const upstream = await startChild('upstream-profile', 'upstream.ts', {});
    children.push(upstream);
    db = await createDatabase('prof');
    const gcFlags = o.gcTrace ? ['--trace-gc-nvp'] : [];
    // The log is appended to, run after run: this run's trace starts at its present end.
    const logFile = join(LOG_DIR, 'gateway-profile.log');
    const traceFrom = o.gcTrace && existsSync(logFile) ? statSync(logFile).size : 0;
    const gateway = await startGateway(
      'gateway-profile',
      db.url,
      dataDir,
      ['--cpu-prof', '--cpu-prof-dir', profDir, ...gcFlags],
      gatewayNodeFlags(),
      o.gatewayEnv,
    );
    children.push(gateway);
    const fixture = await setupGateway(gateway.url, upstream.url);
    const headers = ['content-type', 'application/json', 'authorization', `Bearer ${fixture.tenantKey}`];
    const mark = await gateway.ask<{ us: number; ms: number }>({ type: 'mark' }, 'mark');
    const load = await drive(o, gateway.url, headers);
    await gateway.stop();
    const file = mainProfile(profDir);
    const calls = load.paced + load.saturated;
    const analysis = analyzeProfile(file, 25, mark.us);
    // By the trace's own stamps, not by what the log held at the mark: V8 buffers its lines.
    const gc = o.gcTrace ? summarizeGcTrace(readFileSync(logFile).subarray(traceFrom).toString('utf8'), calls, mark.ms) : undefined;

    const bare = await profileChild(o, 'bare-proxy', join(profDir, 'bare-proxy'), { UPSTREAM_URL: upstream.url }, headers);
    const floor = await profileChild(
      o,
      'floor-proxy',
      join(profDir, 'floor-proxy'),
      // Storing its runs in the gateway's database, as the gateway does.
      { UPSTREAM_URL: upstream.url, FLOOR_TOKEN: fixture.tenantKey, FLOOR_DATABASE_URL: db.url },
      headers,
    );
    if (gc) {
      o.log(
        `  profile: gateway GC trace: ${gc.scavengesPer1000Calls} scavenges per 1,000 calls, ${gc.scavengePauseMicrosPerCall} µs of their pauses, ${gc.survivedKBPerCall} KB kept in the young generation and ${gc.promotedKBPerCall} KB promoted per call; ${gc.fullCollections} full collections, ${gc.fullPauseMicrosPerCall} µs of final pauses per call`,
      );
    }
    o.log(
      `  profile: gateway ${calls} calls (${load.paced} paced at ${o.rate}/s, ${load.saturated} at saturation = ${load.saturationRps.toFixed(0)}/s), ${((analysis.busyMs * 1000) / calls).toFixed(0)} µs CPU per call; bare proxy ${bare.saturationRps.toFixed(0)}/s, ${bare.cpuMicrosPerCall.toFixed(0)} µs; floor ${floor.saturationRps.toFixed(0)}/s, ${floor.cpuMicrosPerCall.toFixed(0)} µs`,
    );
    return {
      file: file.slice(BENCH_DIR.length - 'bench'.length),
      saturationRps: load.saturationRps,
      ...perCall(analysis, calls),
      ...analysis,
      bare,
      floor,
      ...(gc ? { gcTrace: gc } : {}),
      ...(o.gatewayEnv && Object.keys(o.gatewayEnv).length > 0 ? { gatewayEnv: o.gatewayEnv } : {}),
    };
  } finally {
    for (const c of children.reverse()) await c.stop().catch(() => {});
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
    // Keep the last few runs' profiles only.
    const old = readdirSync(profRoot).sort();
    for (const f of old.slice(0, Math.max(0, old.length - 6))) rmSync(join(profRoot, f), { recursive: true, force: true });
  }
}

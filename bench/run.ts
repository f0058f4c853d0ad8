/**
 * `npm run bench`: the benchmark suite of issue 7, orchestrating child processes on loopback:
 *   overhead    upstream direct vs bare proxy vs gateway (PostgreSQL, PGlite, 20 ms upstream):
 *               paced latency, Server-Timing, saturation, every run recorded
 *   ingestion   runs and feedback per second through RunWriter + RunStore into PostgreSQL
 *   comparison  comparison/timeseries latency at 100k, 1M (10M with BENCH_FULL=1) vs naive SQL
 *   soak        gateway RSS at a steady rate with feedback mixed in
 *   profile     node --cpu-prof of the gateway under load: top self time
 * Results go to bench/results.json (phases not run keep their previous figures) and a summary is
 * printed. Knobs (environment): see bench/README.md.
 */
import { START_ENV } from './lib/start-command.js';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BENCH_DIR, ROOT } from './lib/children.js';
import { closePools } from './lib/paced.js';
import { checkTargets, summary } from './lib/report.js';
import { postgresVersion } from './lib/setup.js';
import { roundAll } from './lib/stats.js';
import { runComparison } from './phases/comparison.js';
import { runIngestion } from './phases/ingestion.js';
import { gatewayNodeFlags, runOverhead } from './phases/overhead.js';
import { runProfile } from './phases/profile.js';
import { runSoak } from './phases/soak.js';

const env = process.env;
const num = (name: string, def: number) => (env[name] !== undefined && env[name] !== '' ? Number(env[name]) : def);
const list = (name: string, def: string) =>
  (env[name] ?? def)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
/** `A=1,B=2` (BENCH_SOAK_ENV, BENCH_PROFILE_ENV): variables for a gateway child. */
const assignments = (name: string): Record<string, string> =>
  Object.fromEntries(
    list(name, '').map((kv) => {
      const at = kv.indexOf('=');
      if (at < 1) throw new Error(`${name}: cannot read '${kv}' (e.g. RECORDER_THREAD=false)`);
      return [kv.slice(0, at), kv.slice(at + 1)];
    }),
  );
const size = (s: string) => {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(s);
  if (!m) throw new Error(`BENCH_SIZES: cannot read '${s}' (e.g. 100k,1M,10M)`);
  return Math.round(Number(m[1]) * (m[2]?.toLowerCase() === 'k' ? 1e3 : m[2]?.toLowerCase() === 'm' ? 1e6 : 1));
};

const FULL = env.BENCH_FULL === '1';
const PHASES = list('BENCH_ONLY', 'overhead,ingestion,comparison,soak,profile');
const SCENARIOS = list('BENCH_SCENARIOS', 'postgres,pglite,postgres-upstream20ms,postgres-v8-gc-defaults');
const SIZES = list('BENCH_SIZES', FULL ? '100k,1M,10M' : '100k,1M').map(size);
const RESULTS = env.BENCH_RESULTS ?? join(BENCH_DIR, 'results.json');

const started = performance.now();
const log = (line: string) => process.stdout.write(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);

// The gateway child runs the compiled gateway (dist/), as `npm start` does: build it first.
log('building the gateway (npm run build)');
execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });

const previous = existsSync(RESULTS) ? (JSON.parse(readFileSync(RESULTS, 'utf8')) as Record<string, any>) : {};
const results: Record<string, any> = { ...previous };
results.machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  os: `${process.platform} ${release()}`,
  postgres: await postgresVersion(),
  date: new Date().toISOString(),
  loadAverageStart: loadavg().map((x) => Math.round(x * 100) / 100),
  note: 'loopback; upstream, proxy/gateway and load generator share these cores with PostgreSQL',
  gateway: `${Object.entries(START_ENV)
    .map(([k, v]) => `${k}=${v} `)
    .join('')}node ${[...gatewayNodeFlags(), 'dist/'].join(' ')} (compiled, as npm start runs it)`,
};
const save = () => {
  results.targets = checkTargets(results);
  writeFileSync(RESULTS, JSON.stringify(roundAll(results), null, 2) + '\n');
};

async function phase(
  name: string,
  fn: () => Promise<Record<string, unknown>>,
  assign: (r: Record<string, unknown>) => void,
): Promise<void> {
  const load = loadavg()[0]!;
  log(`${name} (load average ${load.toFixed(2)})`);
  try {
    const r = await fn();
    assign({ ...r, measuredAt: new Date().toISOString(), loadAverage: [load, loadavg()[0]].map((x) => Math.round(x! * 100) / 100) });
  } catch (err) {
    log(`${name} failed: ${(err as Error)?.stack ?? err}`);
    assign({ error: String((err as Error)?.message ?? err), measuredAt: new Date().toISOString() });
  }
  save();
}

const SCENARIO_DEFS: Record<
  string,
  { storage: 'postgres' | 'pglite'; upstreamDelayMs: number; nodeFlags?: string[]; shadow?: boolean; env?: Record<string, string> }
> = {
  postgres: { storage: 'postgres', upstreamDelayMs: 0 },
  pglite: { storage: 'pglite', upstreamDelayMs: 0 },
  'postgres-upstream20ms': { storage: 'postgres', upstreamDelayMs: 20 },
  // npm start's GC settings keep RSS flat at some CPU and tail latency: this measures that cost.
  'postgres-v8-gc-defaults': { storage: 'postgres', upstreamDelayMs: 0, nodeFlags: [] },
  // Every call also run on the candidate in the shadow (README "Shadow runs"): what mirroring costs the answer.
  'postgres-shadow100': { storage: 'postgres', upstreamDelayMs: 0, shadow: true },
  // The run writer's batches in a worker thread (README "Configuration", RECORDER_THREAD).
  'postgres-recorder-thread': { storage: 'postgres', upstreamDelayMs: 0, env: { RECORDER_THREAD: 'true' } },
};

try {
  if (PHASES.includes('overhead')) {
    results.overhead = { ...(previous.overhead ?? {}) };
    for (const s of SCENARIOS) {
      const def = SCENARIO_DEFS[s];
      if (!def) throw new Error(`BENCH_SCENARIOS: unknown scenario '${s}' (${Object.keys(SCENARIO_DEFS).join(', ')})`);
      await phase(
        `overhead: ${s}`,
        () =>
          runOverhead({
            label: s,
            storage: def.storage,
            upstreamDelayMs: def.upstreamDelayMs,
            nodeFlags: def.nodeFlags,
            gatewayEnv: def.env,
            shadow: def.shadow,
            rate: num('BENCH_RATE', 500),
            rounds: num('BENCH_ROUNDS', 5),
            roundMs: num('BENCH_ROUND_SECONDS', 4) * 1000,
            saturationRounds: num('BENCH_SAT_ROUNDS', 3),
            saturationSeconds: num('BENCH_SAT_SECONDS', 3),
            connections: num('BENCH_CONNECTIONS', 32),
            log,
          }),
        (r) => (results.overhead[s] = r),
      );
    }
  }
  if (PHASES.includes('ingestion')) {
    await phase(
      'ingestion',
      () =>
        runIngestion({
          runs: num('BENCH_INGEST_RUNS', 200_000),
          maxSeconds: num('BENCH_INGEST_SECONDS', 20),
          modes: list('BENCH_INGEST_MODES', 'composed,bare,copy'),
          log,
        }),
      (r) => (results.ingestion = r),
    );
  }
  if (PHASES.includes('comparison')) {
    await phase(
      'comparison',
      () => runComparison({ sizes: SIZES, calls: num('BENCH_COMPARISON_CALLS', 15), naiveRepeats: num('BENCH_NAIVE_REPEATS', 2), log }),
      (r) => (results.comparison = r),
    );
  }
  if (PHASES.includes('soak')) {
    // One soak per storage; results.soak keeps the PostgreSQL one where it always was.
    for (const storage of list('BENCH_SOAK_STORAGE', 'postgres,pglite') as ('postgres' | 'pglite')[]) {
      await phase(
        storage === 'postgres' ? 'soak' : `soak (${storage})`,
        () =>
          runSoak({
            storage,
            seconds: num('BENCH_SOAK_SECONDS', 180),
            rate: num('BENCH_SOAK_RATE', 300),
            feedbackShare: num('BENCH_SOAK_FEEDBACK', 0.3),
            gatewayEnv: assignments('BENCH_SOAK_ENV'),
            log,
          }),
        (r) => {
          if (storage === 'postgres') results.soak = r;
          else results.soakEmbedded = r;
        },
      );
    }
  }
  if (PHASES.includes('profile')) {
    await phase(
      'profile',
      () =>
        runProfile({
          pacedSeconds: num('BENCH_PROFILE_SECONDS', 6),
          rate: num('BENCH_RATE', 500),
          saturationSeconds: num('BENCH_PROFILE_SATURATION_SECONDS', num('BENCH_PROFILE_SECONDS', 6)),
          connections: num('BENCH_CONNECTIONS', 32),
          gcTrace: process.env.BENCH_GC_TRACE === '1',
          gatewayEnv: assignments('BENCH_PROFILE_ENV'),
          log,
        }),
      (r) => (results.profile = r),
    );
  }
} finally {
  await closePools();
}
results.machine.loadAverageEnd = loadavg().map((x) => Math.round(x * 100) / 100);
results.machine.durationSeconds = Math.round((performance.now() - started) / 1000);
save();
process.stdout.write('\n' + summary(roundAll(results)));
log(`results in ${RESULTS}`);

/**
 * Idle memory of the embedded mode: the compiled gateway started as `npm start` starts it
 * (same V8 flags and environment), on a fresh DATA_DIR (embedded PGlite, embedded flags), left idle, its RSS read
 * from /proc every second; then stopped and started again on the same DATA_DIR (the second start
 * skips initdb and the migrations). A measurement, not a test: the figure depends on the machine.
 *
 *   npx tsx bench/idle-memory.ts        IDLE_SECONDS (default 30) per start
 *
 * Prints one JSON object: per start, the peak RSS during start-up and the idle RSS (median of
 * the last 10 seconds), in MB.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './lib/children.js';
import { START_ENV, START_FLAGS } from './lib/start-command.js';

const IDLE_SECONDS = Number(process.env.IDLE_SECONDS ?? 30);

const rssMB = (pid: number): number => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function measure(dataDir: string, port: number): Promise<{ startupPeakMB: number; idleMB: number; readyAfterMs: number }> {
  const child = spawn(process.execPath, [...START_FLAGS, 'dist/cli.js', 'serve'], {
    cwd: ROOT,
    env: { ...process.env, ...START_ENV, DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn', DATABASE_URL: '', UNLEASH_URL: '' },
    stdio: 'ignore',
  });
  const started = Date.now();
  let peak = 0;
  try {
    for (;;) {
      peak = Math.max(peak, rssMB(child.pid!));
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (Date.now() - started > 120_000) throw new Error('the gateway did not become ready within 120 s');
      await sleep(250);
    }
    const readyAfterMs = Date.now() - started;
    const samples: number[] = [];
    for (let s = 0; s < IDLE_SECONDS; s++) {
      await sleep(1000);
      samples.push(rssMB(child.pid!));
    }
    peak = Math.max(peak, ...samples);
    const last = samples.slice(-10).sort((a, b) => a - b);
    return { startupPeakMB: peak, idleMB: last[Math.floor(last.length / 2)]!, readyAfterMs };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
const dataDir = mkdtempSync(join(tmpdir(), 'cc-idle-'));
try {
  const port = 18000 + Math.floor(Math.random() * 2000);
  const first = await measure(dataDir, port);
  const second = await measure(dataDir, port);
  process.stdout.write(
    `${JSON.stringify({ idleSeconds: IDLE_SECONDS, node: process.version, firstStart: first, restart: second }, null, 2)}\n`,
  );
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}

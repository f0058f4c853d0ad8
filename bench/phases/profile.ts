/**
 * Profile: the gateway child on PostgreSQL under `node --cpu-prof`, driven first at the paced
 * rate and then at saturation (autocannon), stopped cleanly so V8 writes the profile; self time is
 * summed per function and per area (lib/cpuprofile.ts). CPU per answered call = busy time / calls.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { BENCH_DIR, startChild, type Child } from '../lib/children.js';
import { analyzeProfile } from '../lib/cpuprofile.js';
import { paced } from '../lib/paced.js';
import { CHAIN, createDatabase, invokeBody, setupGateway, type BenchDatabase } from '../lib/setup.js';
import { startGateway } from './overhead.js';

export interface ProfileOptions {
  pacedSeconds: number;
  rate: number;
  saturationSeconds: number;
  connections: number;
  log: (line: string) => void;
}

export async function runProfile(o: ProfileOptions): Promise<Record<string, unknown>> {
  const children: Child[] = [];
  let db: BenchDatabase | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'cc-bench-prof-'));
  const profRoot = join(BENCH_DIR, '.profiles');
  const name = `gateway-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  // A directory per run: V8 writes one profile per thread (and one per worker thread, if any).
  const profDir = join(profRoot, name);
  mkdirSync(profDir, { recursive: true });
  try {
    const upstream = await startChild('upstream-profile', 'upstream.ts', {});
    children.push(upstream);
    db = await createDatabase('prof');
    const gateway = await startGateway('gateway-profile', db.url, dataDir, ['--cpu-prof', '--cpu-prof-dir', profDir]);
    children.push(gateway);
    const fixture = await setupGateway(gateway.url, upstream.url);
    const headers = ['content-type', 'application/json', 'authorization', `Bearer ${fixture.tenantKey}`];
    const mark = await gateway.ask<{ us: number }>({ type: 'mark' }, 'mark');
    let counter = 0;
    const p = await paced(
      { name: 'gateway', origin: gateway.url, path: `/v1/chains/${CHAIN}/invoke`, headers },
      { rate: o.rate, durationMs: o.pacedSeconds * 1000, body: () => invokeBody(counter++) },
    );
    const sat =
      o.saturationSeconds <= 0
        ? { '2xx': 0, duration: 1 }
        : await autocannon({
            url: `${gateway.url}/v1/chains/${CHAIN}/invoke`,
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${fixture.tenantKey}` },
            requests: Array.from({ length: 256 }, (_, i) => ({ body: invokeBody(2_000_000 + i * 7919) })),
            connections: o.connections,
            duration: o.saturationSeconds,
            timeout: 10,
          });
    await gateway.stop();
    // The main thread's profile: the largest file (the loader worker's only covers start-up).
    const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
    if (files.length === 0) throw new Error(`no CPU profile written in ${profDir}`);
    const file = join(profDir, files.sort((a, b) => statSync(join(profDir, b)).size - statSync(join(profDir, a)).size)[0]!);
    const calls = p.ok + sat['2xx'];
    const analysis = analyzeProfile(file, 25, mark.us);
    o.log(
      `  profile: ${calls} calls (${p.ok} paced at ${o.rate}/s, ${sat['2xx']} at saturation = ${(sat['2xx'] / sat.duration).toFixed(0)}/s); busy ${analysis.busyMs.toFixed(0)} ms = ${((analysis.busyMs * 1000) / calls).toFixed(0)} µs CPU per call`,
    );
    return {
      file: file.slice(BENCH_DIR.length - 'bench'.length),
      calls,
      saturationRps: sat['2xx'] / sat.duration,
      cpuMicrosPerCall: (analysis.busyMs * 1000) / calls,
      ...analysis,
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

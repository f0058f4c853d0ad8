/**
 * Graceful shutdown: SIGTERM while slow upstream calls are in flight. The gateway stops
 * accepting at once (new connections are refused), lets the calls finish (each answered 200),
 * writes their runs to the database, leaves an empty spool, and exits 0.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../../support/fake-upstream.js';
import { noPostgres } from '../../support/gateway.js';
import { startGatewayProcess, type GatewayProcess } from '../../support/gateway-process.js';
import { createTestDatabase, type TestDatabase } from '../../support/pg.js';
import { eventually, setupChain, storedRuns } from './helpers.js';

/** One invoke on its own connection (no keep-alive pool), so each is a separate in-flight call. */
function invokeOnNewConnection(base: string, key: string, i: number): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ environment: 'prod', input: { slow: i } });
    const req = request(`${base}/v1/chains/extract/invoke`, {
      method: 'POST',
      agent: false,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Whether a TCP connection to the gateway is accepted now (closed again at once). */
function accepts(base: string): Promise<boolean> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNREFUSED' ? resolve(false) : reject(err)));
  });
}

describe.skipIf(noPostgres)('graceful shutdown (SIGTERM)', () => {
  let database: TestDatabase;
  let upstream: FakeUpstream;
  let dataDir: string;
  let gw: GatewayProcess | undefined;

  beforeAll(async () => {
    [database, upstream] = await Promise.all([createTestDatabase(), startFakeUpstream()]);
    dataDir = mkdtempSync(join(tmpdir(), 'cc-term-'));
  });
  afterAll(async () => {
    gw?.signal('SIGKILL');
    await gw?.exited;
    await upstream?.close();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('finishes the calls in flight, stores their runs, refuses new connections, exits 0', async () => {
    gw = await startGatewayProcess({ databaseUrl: database.url, dataDir });
    const { key } = await setupChain(gw.url, upstream.url);
    upstream.setBehaviour({ delayMs: 2500 });
    const inFlight = Array.from({ length: 8 }, (_, i) => invokeOnNewConnection(gw!.url, key, i));
    // Every call has reached the upstream: they are in flight in the gateway.
    await eventually('the calls to reach the upstream', () => upstream.calls >= 8, 10_000, 20);

    gw.signal('SIGTERM');
    // Stopped accepting: a new connection is refused while the calls are still running.
    await eventually('new connections to be refused', async () => !(await accepts(gw!.url)), 2000, 20);
    await expect(invokeOnNewConnection(gw.url, key, 99)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(upstream.calls).toBe(8);

    const answers = await Promise.all(inFlight);
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
    expect(await gw.exited).toBe(0);

    const ids = answers.map((a) => a.body.runId as string);
    const stored = await storedRuns(database.url, ids);
    expect(ids.filter((id) => stored.found.get(id) !== 1)).toEqual([]);
    // Flushed before exit: nothing left for a replay.
    const left = readdirSync(join(dataDir, 'spool')).filter((f) => f.startsWith('seg-'));
    expect(left.map((f) => statSync(join(dataDir, 'spool', f)).size).reduce((a, b) => a + b, 0)).toBe(0);
  });
});

/**
 * Fault injection: the gateway process is SIGKILLed in the middle of a replay. The next process
 * on the same database resumes it (PostgreSQL: once the dead runner's lease has expired; PGlite:
 * at start, since only one process can own its DATA_DIR) and finishes it with every case scored
 * exactly once. The upstream's own log shows that no case that was scored before the kill was
 * called again: only the calls cut off in flight (at most `concurrency`) ran twice.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../../support/fake-upstream.js';
import { noPostgres } from '../../support/gateway.js';
import { startGatewayProcess, type GatewayProcess } from '../../support/gateway-process.js';
import { createTestDatabase, type TestDatabase } from '../../support/pg.js';
import { api, eventually } from './helpers.js';

const CASES = 40;
const CONCURRENCY = 2;

const storages = [...(noPostgres ? [] : (['postgres'] as const)), ...(process.env.CC_SKIP_PGLITE ? [] : (['pglite'] as const))];

// Two gateway processes start from the sources (tsx) on a shared machine: minutes, not seconds.
describe.each(storages)('replay survives SIGKILL on %s', { timeout: 300_000 }, (storage) => {
  let database: TestDatabase | undefined;
  let upstream: FakeUpstream;
  let dataDir: string;
  const children: GatewayProcess[] = [];

  beforeAll(async () => {
    upstream = await startFakeUpstream({ behaviour: { output: (input: any) => ({ n: input.n, total: input.n * 2 }), delayMs: 60 } });
    if (storage === 'postgres') database = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'cc-replay-kill-'));
  });
  afterAll(async () => {
    for (const c of children) c.signal('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    await upstream?.close();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('resumes where it stopped and scores every case exactly once', async () => {
    const start = () => startGatewayProcess({ databaseUrl: database?.url ?? '', dataDir, startTimeoutMs: 180_000 }); // PGlite's first start runs initdb: tens of seconds on a loaded machine
    const first = await start();
    children.push(first);
    const must = async (p: Promise<{ status: number; body: any }>, status: number) => {
      const r = await p;
      if (r.status !== status) throw new Error(`${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    };
    await must(api(first.url, 'PUT', '/v1/chains/extract', {}), 201);
    await must(
      api(first.url, 'POST', '/v1/chains/extract/versions', {
        version: 'v1',
        adapter: { type: 'http', url: upstream.url, timeoutMs: 10_000 },
      }),
      201,
    );
    const dataset = await must(api(first.url, 'POST', '/v1/datasets', { name: 'kill', chain: 'extract' }), 201);
    // Every third case expects another total, so scores are not all alike.
    const cases = Array.from({ length: CASES }, (_, n) => ({ input: { n }, expected: { n, total: n % 3 === 0 ? -1 : n * 2 } }));
    await must(api(first.url, 'POST', `/v1/datasets/${dataset.id}/cases`, cases), 201);
    const replay = await must(
      api(first.url, 'POST', `/v1/datasets/${dataset.id}/replays`, { version: 'v1', concurrency: CONCURRENCY }),
      202,
    );

    await eventually(
      'a third of the cases scored',
      async () => (await api(first.url, 'GET', `/v1/replays/${replay.id}`)).body.progress.done >= CASES / 3,
      30_000,
      20,
    );
    first.signal('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    const beforeKill = upstream.requests.map((r) => (r.body as any).input.n as number);
    expect(beforeKill.length).toBeLessThan(CASES);

    const second = await start();
    children.push(second);
    await eventually(
      'the replay done',
      async () => (await api(second.url, 'GET', `/v1/replays/${replay.id}`)).body.status === 'done',
      90_000,
      200,
    );
    const status = (await api(second.url, 'GET', `/v1/replays/${replay.id}`)).body;
    expect(status.progress).toEqual({ done: CASES, total: CASES });
    expect(status.result).toMatchObject({ cases: CASES, errors: 0, overridden: cases.filter((c) => c.expected.total === -1).length });

    // Every case has exactly one result.
    const items: any[] = [];
    let cursor: string | undefined;
    do {
      const page = (await api(second.url, 'GET', `/v1/replays/${replay.id}/cases?limit=500${cursor ? `&cursor=${cursor}` : ''}`)).body;
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    expect(items.map((i) => i.input.n).sort((a, b) => a - b)).toEqual(Array.from({ length: CASES }, (_, n) => n));

    // The upstream's log: every case called; called again only if it was one of the calls in
    // flight when the process died (the last `concurrency` calls before the kill).
    const all = upstream.requests.map((r) => (r.body as any).input.n as number);
    const afterKill = all.slice(beforeKill.length);
    expect(new Set(all).size).toBe(CASES);
    const again = afterKill.filter((n) => beforeKill.includes(n));
    const inFlightAtKill = beforeKill.slice(-CONCURRENCY);
    expect(again.every((n) => inFlightAtKill.includes(n))).toBe(true);
    expect(new Set(afterKill).size).toBe(afterKill.length);
    expect(all.length).toBeLessThanOrEqual(CASES + CONCURRENCY);

    second.signal('SIGTERM');
    expect(await second.exited).toBe(0);
  });
});

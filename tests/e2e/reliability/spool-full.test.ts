/**
 * Spool full: the database stops taking writes (the runs table is locked, so the writer's batches
 * wait) and runs pile up in the spool until SPOOL_MAX_BYTES. Then invokes answer 503 spool_full
 * without calling the upstream, feedback too, and /readyz answers 503; once the database takes
 * writes again the spool drains and calls are answered again. No run answered 200 is lost.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../../support/fake-upstream.js';
import { noPostgres, startTestGateway, type TestGateway } from '../../support/gateway.js';
import { api, eventually, setupChain, storedRuns } from './helpers.js';

describe.skipIf(noPostgres)('spool full', () => {
  let gw: TestGateway;
  let upstream: FakeUpstream;

  beforeAll(async () => {
    upstream = await startFakeUpstream({ behaviour: { output: () => ({ ok: true }) }, record: false });
    gw = await startTestGateway({ listen: true, env: { SPOOL_MAX_BYTES: String(1024 * 1024) } });
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it('answers 503 before calling the upstream, reports not ready, and recovers when the database catches up', async () => {
    const base = gw.url!;
    const { key } = await setupChain(base, upstream.url);
    const locker = new pg.Client({ connectionString: gw.config.DATABASE_URL });
    locker.on('error', () => {});
    await locker.connect();
    const answered: string[] = [];
    const big = 'x'.repeat(40 * 1024);
    let refused: Awaited<ReturnType<typeof api>> | undefined;
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE runs, feedback IN EXCLUSIVE MODE');
      for (let i = 0; i < 200 && !refused; i++) {
        const before = upstream.calls;
        const r = await api(base, 'POST', '/v1/chains/extract/invoke', { environment: 'prod', input: { i, big } }, key);
        if (r.status === 200) answered.push(r.body.runId);
        else {
          refused = r;
          // Refused before the upstream was called: no call was made whose run could not be kept.
          expect(upstream.calls).toBe(before);
        }
      }
      expect(refused?.status).toBe(503);
      expect(refused?.body).toEqual({ error: { code: 'spool_full', message: expect.stringMatching(/spool is full/) } });
      expect(answered.length).toBeGreaterThan(15);

      const ready = await api(base, 'GET', '/readyz', undefined, null);
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({ status: 'unavailable', spool: { full: true, maxBytes: 1024 * 1024 } });
      expect(ready.body.spool.bytes).toBeGreaterThanOrEqual(1024 * 1024);

      // Feedback is refused as well (it would have to be spooled), with the same error.
      const fb = await api(base, 'POST', `/v1/runs/${answered[0]}/feedback`, { final: { ok: false } }, key);
      expect(fb.status).toBe(503);
      expect(fb.body.error.code).toBe('spool_full');
      // Reads and health still work.
      expect((await api(base, 'GET', `/v1/runs/${answered[1]}`, undefined, key)).status).toBe(200);
      expect((await api(base, 'GET', '/healthz', undefined, null)).status).toBe(200);
    } finally {
      await locker.query('ROLLBACK').catch(() => {});
      await locker.end().catch(() => {});
    }

    await eventually('readiness to come back', async () => (await api(base, 'GET', '/readyz', undefined, null)).status === 200, 20_000);
    const again = await api(base, 'POST', '/v1/chains/extract/invoke', { environment: 'prod', input: { again: true } }, key);
    expect(again.status).toBe(200);
    answered.push(again.body.runId);
    await gw.gateway.services.writer.flush();
    const stored = await storedRuns(gw.config.DATABASE_URL!, answered);
    expect(answered.filter((id) => stored.found.get(id) !== 1)).toEqual([]);
  });
});
